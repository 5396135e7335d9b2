/**
 * The mount engine's promise to readers, with a real daemon and real processes: byte-exact values for cat, node
 * --env-file and dotenv; one whole copy per reader whether they come in sequence, in a burst, or read slowly.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dotenvStyle, renderDotenv } from '../../src/core/render.js';
import { killAll, node, ROOT, run, TestDaemon } from '../helpers/daemon.js';
import { HARD_VALUES } from '../helpers/values.js';

let daemon: TestDaemon;
let envPath: string;
const expected = renderDotenv(
  Object.entries(HARD_VALUES).map(([key, value]) => ({ key, value: Buffer.from(value) })),
).content.toString('utf8');
/** What the mount serves: a value no quoting keeps inert for every reader (BOTH) is a comment line instead. */
const SERVED = Object.fromEntries(
  Object.entries(HARD_VALUES).filter(([, value]) => typeof dotenvStyle(Buffer.from(value)) !== 'object'),
);

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  for (const [name, value] of Object.entries(HARD_VALUES)) {
    const result = await daemon.cli(['set', name, '--raw'], { input: value });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  }
  const template = Object.keys(HARD_VALUES)
    .map((key) => `${key}=envmount://${key}`)
    .join('\n');
  const dir = daemon.project('app', template);
  expect((await daemon.cli(['add', dir, '--allow', 'any', '--agents', 'rules'])).code).toBe(0);
  envPath = join(dir, '.env');
  // One CLI process per value: a guard against a hang, wide enough for a loaded machine under the sanitizer tier.
}, 180_000);

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

describe('readers get the values byte-exact', () => {
  it('cat .env', async () => {
    const result = await run('cat', [envPath]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(expected);
    // Single-quoted values appear verbatim in the file.
    for (const key of ['SPACES', 'DQUOTE', 'HASH', 'DOLLAR', 'BACKSLASH', 'NEWLINES', 'UNICODE']) {
      expect(result.stdout).toContain(`${key}='${HARD_VALUES[key]}'`);
    }
  });

  it('cat .env* in the shell: the glob names the mount only, never the pipe waiting beside it for the next read', async () => {
    expect((await run('cat', [envPath])).code).toBe(0);
    // The spare FIFO of the next rotation sits beside a mount that has been read; a glob that named it would open
    // a pipe with no writer and wait (the run below is killed after 20 s and fails).
    const result = await run('sh', ['-c', 'cat .env*'], { cwd: dirname(envPath) });
    expect(result.code).toBe(0);
    // .env, then the template .env.op (references only), and nothing else.
    expect(result.stdout).toBe(expected + readFileSync(join(dirname(envPath), '.env.op'), 'utf8'));
  });

  it('node --env-file=.env', async () => {
    const keys = JSON.stringify(Object.keys(HARD_VALUES));
    const result = await run(process.execPath, [
      `--env-file=${envPath}`,
      '-e',
      `const o={};for(const k of ${keys})o[k]=process.env[k];process.stdout.write(JSON.stringify(o))`,
    ]);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(SERVED);
  });

  it('the dotenv package', async () => {
    const result = await node(
      `const dotenv=require(${JSON.stringify(join(ROOT, 'node_modules/dotenv'))});
       const parsed=dotenv.parse(require('fs').readFileSync(${JSON.stringify(envPath)}));
       process.stdout.write(JSON.stringify(parsed))`,
    );
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(SERVED);
  });
});

describe('one whole copy per reader', () => {
  it('500 sequential reads are all complete and exact', async () => {
    const result = await node(
      `const fs=require('fs');const want=${JSON.stringify(expected)};let ok=0,bad=0;
       for(let i=0;i<500;i++){fs.readFileSync(${JSON.stringify(envPath)},'utf8')===want?ok++:bad++}
       process.stdout.write(JSON.stringify({ok,bad}))`,
      { timeoutMs: 30_000 },
    );
    expect(JSON.parse(result.stdout)).toEqual({ ok: 500, bad: 0 });
  });

  it('20 readers at once on a mount with a rule each get exactly one complete copy', async () => {
    // The daemon watches who holds each pipe, so readers that open at the same instant (likely on a busy machine)
    // are each handed a copy of their own.
    const dir = daemon.project(
      'burst',
      Object.keys(HARD_VALUES)
        .map((key) => `${key}=envmount://${key}\n`)
        .join(''),
    );
    expect((await daemon.cli(['add', dir, '--allow', 'cat', '--otherwise', 'deny'])).code).toBe(0);
    const results = await Promise.all(Array.from({ length: 20 }, () => run('cat', [join(dir, '.env')])));
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0));
    expect(results.filter((r) => r.stdout === expected)).toHaveLength(20);
  });

  it('20 readers at once with policy any: each gets one complete copy or an empty read, never a part or two', async () => {
    // Policy any does not watch the instant: two readers that open together share a pipe, and one of them reads
    // nothing (README, Readers). How many collide depends on the machine's load; what each gets does not.
    const results = await Promise.all(Array.from({ length: 20 }, () => run('cat', [envPath])));
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0));
    expect(results.filter((r) => r.stdout !== expected && r.stdout !== '')).toEqual([]);
    expect(results.some((r) => r.stdout === expected)).toBe(true);
  });

  it('a reader that sleeps 100 ms after open before reading gets exactly one copy', async () => {
    const result = await node(
      `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(envPath)},'r');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,100);
       const chunks=[];const buf=Buffer.alloc(65536);let n;
       while((n=fs.readSync(fd,buf,0,buf.length,null))>0)chunks.push(Buffer.from(buf.subarray(0,n)));
       fs.closeSync(fd);process.stdout.write(Buffer.concat(chunks))`,
    );
    expect(result.stdout).toBe(expected);
  });

  it('counts every read in status', async () => {
    const app = async () =>
      (
        JSON.parse((await daemon.cli(['--json', 'status'])).stdout).mounts as Array<{
          path: string;
          reads: number;
          state: string;
        }>
      ).find((m) => m.path === envPath);
    const before = (await app())?.reads ?? -1;
    await run('cat', [envPath]);
    await run('cat', [envPath]);
    const after = await app();
    expect(after?.reads).toBe(before + 2);
    expect(after?.state).toBe('serving');
  });
});
