/**
 * Running the daemon as another user in tests: as root, `nobody` (uid/gid 65534); otherwise the tests' own user.
 * That user must reach this install: the repository itself, or, when a directory above it is closed to that user
 * (a clone under /root), the repository bound at a directory it can reach. The caller unbinds it in afterAll.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './daemon.js';

export const OTHER_USER = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;

export function installReachableBy(user: typeof OTHER_USER): { path: string; unbind: () => void } {
  const daemon = join(ROOT, 'dist/bin/envmountd.js');
  const check = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(daemon)}, 4)`], user);
  if (!user || check.status === 0) return { path: ROOT, unbind: () => undefined };
  const path = mkdtempSync('/tmp/emt-install-');
  chmodSync(path, 0o755);
  execFileSync('mount', ['--bind', ROOT, path]);
  return {
    path,
    unbind: () => {
      spawnSync('umount', [path]);
      rmdirSync(path);
    },
  };
}
