/**
 * Copiers the bulk-reader list did not know, on a FUSE mount under `--allow any` (THREAT-MODEL.md, section 4).
 * Before: `npm pack` (and so `npm publish`) put the values in the package: npm is node running npm-cli.js, and the
 * list judged the executable only; `grep -d recurse` and `grep --directories=recurse` recursed without `-r` and
 * printed them. Now a bulk reader is also named by the script an interpreter runs (npm, pnpm, yarn, pip...), and
 * grep's recursion is read from every spelling. npm then stops on `.env` instead of packing it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, listDir, run, TestDaemon } from '../helpers/daemon.js';
import { FUSE_SKIP } from '../helpers/fuse.js';

const VALUE = 'bulk-canary-31f9';
let daemon: TestDaemon;

beforeAll(async () => {
  if (FUSE_SKIP) return;
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'TOKEN', '--raw'], { input: VALUE })).code).toBe(0);
});

afterAll(async () => {
  // The daemon first (a clean stop unmounts), then anything left: killAll would SIGKILL the daemon too.
  await daemon?.dispose();
  await killAll();
});

describe.skipIf(FUSE_SKIP)(`bulk readers by script and spelling${FUSE_SKIP ? ` (skipped: ${FUSE_SKIP})` : ''}`, () => {
  it('npm pack and grep -d recurse get no value from a FUSE mount under --allow any', async () => {
    const dir = daemon.project('bulk', 'TOKEN=envmount://TOKEN\n');
    writeFileSync(join(dir, 'package.json'), '{"name":"bulk-probe","version":"1.0.0"}\n');
    const added = await daemon.cli(['add', dir, '--backend', 'fuse', '--allow', 'any', '--agents', 'rules']);
    expect(added.stderr).toBe('');
    // A plain reader still gets the values: the mount serves.
    expect((await run('cat', [join(dir, '.env')])).stdout).toContain(VALUE);
    const out = mkdtempSync('/tmp/emt-bulk-');
    try {
      const packed = await run('npm', ['pack', '--pack-destination', out, '--offline'], { cwd: dir });
      // npm gets the refusal lines, shorter than the size it saw at lstat: it stops (`did not encounter expected EOF`
      // on .env) and makes no package.
      expect(packed.code).not.toBe(0);
      expect(packed.stderr).toContain('.env');
      expect(packed.stdout + packed.stderr).not.toContain(VALUE);
      expect(listDir(out)).toEqual([]);
      for (const args of [['-d', 'recurse'], ['--directories=recurse'], ['-drecurse'], ['--directories', 'recurse']]) {
        // Searched for the name: the refusal's `#` lines quote the reader's command line, pattern included.
        const grep = await run('grep', [...args, 'TOKEN', '.'], { cwd: dir });
        expect({ args, out: grep.stdout }).not.toMatchObject({ out: expect.stringContaining(VALUE) });
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('python -m tarfile and -m zipfile get no value into an archive from a FUSE mount under --allow any', async () => {
    // Before: a module python runs was not named (its script is inline: `-m`), JS served it and the session thread
    // served it at once; the archive held the values.
    const dir = daemon.project('bulk-py', 'TOKEN=envmount://TOKEN\n');
    const added = await daemon.cli(['add', dir, '--backend', 'fuse', '--allow', 'any', '--agents', 'rules']);
    expect(added.stderr).toBe('');
    expect((await run('cat', [join(dir, '.env')])).stdout).toContain(VALUE);
    const out = mkdtempSync('/tmp/emt-bulk-');
    try {
      for (const [module, file] of [
        ['tarfile', 'x.tar'],
        ['zipfile', 'x.zip'],
      ] as const) {
        const made = await run('/usr/bin/python3', ['-m', module, '-c', join(out, file), '.'], { cwd: dir });
        expect(made.stdout + made.stderr).not.toContain(VALUE);
        const archive = existsSync(join(out, file)) ? readFileSync(join(out, file)).toString('latin1') : '';
        expect({ module, holds: archive.includes(VALUE) }).toEqual({ module, holds: false });
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
