/**
 * Policy `any` (`--allow any --agents rules`) on a FUSE mount, end to end: an open is served on the session thread
 * (native/fuse-handup.c) and still audited with its reader; a possible bulk reader (by its executable or its script)
 * is handed up and refused as under every policy; a policy that needs decisions takes effect for the next open.
 * Skipped where fuseSupport() says FUSE mounts cannot be made.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, run, TestDaemon, waitFor } from '../../helpers/daemon.js';
import { FUSE_SKIP } from '../../helpers/fuse.js';

const VALUE = 'fuse-any-canary-52c0';
const CONTENT = `TOKEN='${VALUE}'\n`;
let daemon: TestDaemon;
const bin = mkdtempSync('/tmp/emt-fuse-any-');

beforeAll(async () => {
  if (FUSE_SKIP) return;
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'TOKEN', '--raw'], { input: VALUE })).code).toBe(0);
});

afterAll(async () => {
  await daemon?.dispose();
  await killAll();
  rmSync(bin, { recursive: true, force: true });
});

interface Entry {
  readonly decision: string;
  readonly outcome?: string;
  readonly mount: string;
  readonly reader?: { readonly exe: string; readonly argv: readonly string[] };
}

async function entries(path: string): Promise<Entry[]> {
  const out = (await daemon.cli(['--json', 'log', '--limit', '100'])).stdout;
  return (JSON.parse(out) as Entry[]).filter((e) => e.mount === path);
}

describe.skipIf(FUSE_SKIP)(`FUSE policy any${FUSE_SKIP ? ` (skipped: ${FUSE_SKIP})` : ''}`, () => {
  it('serves at once and audits the reader; refuses bulk readers by executable and by script; follows the policy', async () => {
    const dir = daemon.project('any', 'TOKEN=envmount://TOKEN\n');
    const path = join(dir, '.env');
    const added = await daemon.cli(['add', dir, '--backend', 'fuse', '--allow', 'any', '--agents', 'rules']);
    expect(added.code).toBe(0);
    expect((await run('cat', [path])).stdout).toBe(CONTENT);
    // Audited at its release, with the reader when JS could still read its /proc entry (the open was answered on the
    // session thread, so a short-lived reader may be gone by then: the entry then has no reader, as a FIFO's).
    const served = await waitFor(async () => (await entries(path)).find((e) => e.decision === 'served'));
    expect(served.outcome).toBe('whole');
    // '?' when its exe link was already gone (the process exiting) as JS read it.
    if (served.reader !== undefined) expect(['/usr/bin/cat', '?']).toContain(served.reader.exe);
    // A copier by its executable's name, and npm by its script's: handed up, refused as under every policy.
    copyFileSync('/usr/bin/cat', join(bin, 'tar'));
    const tar = await run(join(bin, 'tar'), [path]);
    expect(tar.stdout).not.toContain(VALUE);
    expect(tar.stdout).toContain('# why: tar reads whole trees');
    const npm = join(bin, 'npm');
    writeFileSync(npm, `process.stdout.write(require('node:fs').readFileSync(${JSON.stringify(path)}, 'utf8'));\n`);
    const script = await run(process.execPath, [npm]);
    expect(script.stdout).not.toContain(VALUE);
    expect(script.stdout).toContain('# why: node npm reads whole trees');
    // The same script under another name is served.
    const app = join(bin, 'app.js');
    copyFileSync(npm, app);
    expect((await run(process.execPath, [app])).stdout).toBe(CONTENT);
    // A policy that needs a decision: the next open is decided (cat is denied), and `any` again serves it.
    expect((await daemon.cli(['policy', dir, '--allow', 'node', '--otherwise', 'deny'])).code).toBe(0);
    const denied = await run('cat', [path]);
    expect(denied.stdout).not.toContain(VALUE);
    expect(denied.stdout).toContain('# envmount refused this read');
    expect((await daemon.cli(['policy', dir, '--reset', '--allow', 'any', '--otherwise', 'allow'])).code).toBe(0);
    expect((await run('cat', [path])).stdout).toBe(CONTENT);
  });
});
