/**
 * Mounts survive their surroundings: a deleted FIFO comes back, a file put in its place is left alone (the mount
 * steps aside and returns when the path is free), a removed project pauses the mount until it is back, and a
 * template edit reaches the next reader. Each test waits for the outcome itself; how soon (half a second, by the
 * healer's tick) is not asserted: on a busy machine a CLI call alone can take longer.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { run, waitFor } from '../helpers/daemon.js';
import { daemonSuite } from '../helpers/suite.js';

const suite = daemonSuite({ TOKEN: 'heal-value-1' });

/** A mount on the fast path (policy any, agents' readers judged by the rules): what the healer must leave alone. */
async function mounted(name: string): Promise<{ dir: string; env: string }> {
  const daemon = suite();
  const dir = daemon.project(name, 'TOKEN=envmount://TOKEN\n');
  expect((await daemon.cli(['add', dir, '--allow', 'any', '--agents', 'rules'])).code).toBe(0);
  return { dir, env: join(dir, '.env') };
}

const isFifo = (path: string) => {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false;
  }
};

async function stateOf(dir: string): Promise<{ state: string; reason?: string }> {
  const daemon = suite();
  const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
  return status.mounts.find((m: { dir: string }) => m.dir === dir);
}

it('rm .env: a new FIFO, serving the values', async () => {
  const { env } = await mounted('deleted');
  unlinkSync(env);
  await waitFor(() => isFifo(env));
  expect((await run('cat', [env])).stdout).toBe("TOKEN='heal-value-1'\n");
});

it('a regular file put in its place: displaced, the file untouched; back by itself when the path is free', async () => {
  const daemon = suite();
  const { dir, env } = await mounted('displaced');
  // An editor's save: a new file renamed over the path.
  writeFileSync(join(dir, '.env.new'), 'MINE=1\n');
  renameSync(join(dir, '.env.new'), env);
  await waitFor(async () => (await stateOf(dir)).state === 'displaced');
  expect(readFileSync(env, 'utf8')).toBe('MINE=1\n');
  const status = await daemon.cli(['status']);
  expect(status.stdout).toContain(`a regular file was put at ${env}; envmount left it untouched`);
  // Still untouched a while later (several looks of the healer).
  await waitFor(async () => (await daemon.cli(['status'])).stdout.includes('displaced'));
  expect(readFileSync(env, 'utf8')).toBe('MINE=1\n');
  // `rm .env; echo X > .env` too: the shell's file is left as written.
  unlinkSync(env);
  await waitFor(() => isFifo(env));
  // As `rm .env; echo X > .env`, but with O_EXCL: if the healer put its FIFO back in between (a loaded machine), a
  // plain create would open that FIFO and wait for a reader; this one fails with EEXIST and the two steps go again.
  await waitFor(() => {
    unlinkSync(env);
    try {
      writeFileSync(env, 'X\n', { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  });
  await waitFor(async () => (await stateOf(dir)).state === 'displaced');
  expect(readFileSync(env, 'utf8')).toBe('X\n');
  unlinkSync(env);
  await waitFor(() => isFifo(env));
  expect((await stateOf(dir)).state).toBe('serving');
  expect((await run('cat', [env])).stdout).toBe("TOKEN='heal-value-1'\n");
});

it('the project directory removed: paused; back with the directory', async () => {
  const { dir, env } = await mounted('removed');
  rmSync(dir, { recursive: true });
  await waitFor(async () => (await stateOf(dir)).state === 'paused');
  expect((await stateOf(dir)).reason).toContain('the mount comes back with it');
  mkdirSync(dir);
  writeFileSync(join(dir, '.env.op'), 'TOKEN=envmount://TOKEN\nAGAIN=yes\n');
  await waitFor(() => isFifo(env));
  expect((await run('cat', [env])).stdout).toBe("TOKEN='heal-value-1'\nAGAIN='yes'\n");
  // Its template is watched again.
  writeFileSync(join(dir, '.env.op'), 'TOKEN=envmount://TOKEN\nAGAIN=edited\n');
  await waitFor(async () => (await run('cat', [env])).stdout.includes("AGAIN='edited'"));
});

it('a template edit: the next read has the new value', async () => {
  const { dir, env } = await mounted('edited');
  writeFileSync(join(dir, '.env.op'), 'TOKEN=envmount://TOKEN\nNEW=value\n');
  await waitFor(async () => (await run('cat', [env])).stdout.includes("NEW='value'"));
});

it('the healer never touches a mount on its own reads: 200 reads, no restart logged', async () => {
  const daemon = suite();
  const { env } = await mounted('busy');
  const reads = await run(process.execPath, [
    '-e',
    `const fs=require('fs');let n=0;for(let i=0;i<200;i++)if(fs.readFileSync(${JSON.stringify(env)},'utf8').includes('heal-value-1'))n++;process.stdout.write(String(n))`,
  ]);
  expect(reads.stdout).toBe('200');
  expect(daemon.log).not.toMatch(/"path":"[^"]*busy\/\.env","action"/);
});
