/**
 * fuseSetHandUp (native/fuse-handup.c): under decide false an open is served at once unless the opener's
 * executable or an argument is named by a hand-up pattern (or cannot be read): then it is held for JS (`open`).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fuseFinishOpen, fuseSetContent, fuseSetHandUp } from '../../src/native/index.js';
import { killAll, run } from '../helpers/daemon.js';
import { cleanupFuse, FUSE_SKIP, fuseTitle, mountAt, placeholder } from '../helpers/fuse.js';

const CONTENT = 'KEY=value\n';
const bin = mkdtempSync('/tmp/emt-handup-');

afterEach(async () => {
  fuseSetHandUp(null); // process-wide: no other test of this worker sees it
  await killAll();
  await cleanupFuse();
});

afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** A mount under decide false with the content; held opens are refused (null) and counted. */
function anyMount() {
  const path = placeholder();
  const held: number[] = [];
  const m = mountAt(path, false, (e) => {
    if (e.type !== 'open') return;
    held.push(e.tgid);
    fuseFinishOpen(e.ticket, null);
  });
  fuseSetContent(m.mount, Buffer.from(CONTENT), Date.now());
  return { path, m, held };
}

describe.skipIf(FUSE_SKIP)(fuseTitle('FUSE hand-up under decide false'), () => {
  it('serves an opener no pattern names at once, and holds one whose executable a pattern names', async () => {
    const { path, m, held } = anyMount();
    fuseSetHandUp(['tar', 'pip[0-9.]*']);
    expect((await run('cat', [path])).stdout).toBe(CONTENT);
    expect(m.events.filter((e) => e.type === 'served')).toHaveLength(1);
    copyFileSync('/usr/bin/cat', join(bin, 'tar'));
    copyFileSync('/usr/bin/cat', join(bin, 'pip3.11'));
    for (const name of ['tar', 'pip3.11']) {
      const r = await run(join(bin, name), [path]);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/Permission denied/);
    }
    expect(held).toHaveLength(2);
    expect(m.events.filter((e) => e.type === 'served')).toHaveLength(1);
  });

  it('holds an opener whose argv[0], its first word, or any argument’s last component a pattern names', async () => {
    const { path, held } = anyMount();
    fuseSetHandUp(['npm', 'yarn-*.js']);
    const cases = [
      ['exec -a npm cat "$1"'], // argv[0]
      ['exec -a "npm pack" cat "$1"'], // a process title: its first word
      ['exec cat "$1" /nonexistent/npm'], // an argument (an interpreter's script)
      ['exec cat "$1" /x/yarn-1.22.js/'], // trailing slashes dropped
      ['exec cat "$1" /x/npm/..'], // `..`: the name would be the directory's
      [`exec cat "$1" ${'a'.repeat(3000)} ${'b'.repeat(3000)} /x/npm`], // past the first 4 KiB of the command line
    ];
    for (const [script] of cases) {
      const r = await run('bash', ['-c', script ?? '', 'sh', path]);
      expect(r.stdout, script).not.toContain(CONTENT);
    }
    expect(held).toHaveLength(cases.length);
    // A long command line naming nothing is served.
    expect((await run('bash', ['-c', `exec cat "$1" ${'a'.repeat(9000)} 2>/dev/null`, 'sh', path])).stdout).toBe(
      CONTENT,
    );
    // No pattern: served at once whatever the names.
    fuseSetHandUp(null);
    expect((await run('bash', ['-c', 'exec -a npm cat "$1"', 'sh', path])).stdout).toBe(CONTENT);
    expect(held).toHaveLength(cases.length);
  });

  it('holds an opener whose name is longer than a file name can be, which a glob pattern may still name', async () => {
    // bulkReaderName() tests /^(yarn-.*\.c?js|pip[0-9.]+)$/ on argv[0] and the script argument at any length: a
    // process title `yarn-<300 letters>.js` (node running yarn) is refused by JS, so it must be handed up to it.
    const { path, held } = anyMount();
    fuseSetHandUp(['npm', 'yarn-*.js', 'pip[0-9.]*']);
    const cases = [`exec -a yarn-${'a'.repeat(300)}.js cat "$1"`, `exec cat "$1" /x/pip${'3'.repeat(300)}`];
    for (const script of cases) {
      const r = await run('bash', ['-c', script, 'sh', path]);
      expect(r.stdout, script.slice(0, 40)).not.toContain(CONTENT);
    }
    expect(held).toHaveLength(cases.length);
  });

  it('serves a named opener under decide true as before: held, and answered by JS', async () => {
    fuseSetHandUp(['cat']);
    const path = placeholder();
    const m = mountAt(path, true, (e) => {
      if (e.type === 'open') fuseFinishOpen(e.ticket, Buffer.from(CONTENT));
    });
    expect((await run('cat', [path])).stdout).toBe(CONTENT);
    expect(m.events.filter((e) => e.type === 'open')).toHaveLength(1);
  });

  it('takes an array of non-empty strings or null', () => {
    // biome-ignore lint/suspicious/noExplicitAny: wrong types on purpose
    const set = fuseSetHandUp as (p: any) => void;
    expect(() => set('tar')).toThrow(/array of strings or null/);
    expect(() => set([''])).toThrow(/non-empty string/);
    expect(() => set([1])).toThrow(/must be a string/);
    expect(() => set(['tar'])).not.toThrow();
  });
});
