/**
 * `envmount import` overwrites the old `.env` bytes through a descriptor after the swap. With `.env` a hard link to
 * another file (`ln /elsewhere/victim.env proj/.env`), that wiped the other file to NULs. Now a link count above 1
 * is refused before anything changes, naming the other links and the fix.
 */
import { existsSync, linkSync, lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll, TestDaemon } from '../helpers/daemon.js';

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
});

afterAll(async () => {
  await killAll();
  await daemon.dispose();
});

it('a hard-linked .env is refused; the other file, .env, the store and the templates stay as they were', async () => {
  const victim = join(daemon.root, 'victim.env');
  const text = 'VICTIM=keep-these-bytes\n';
  writeFileSync(victim, text);
  const dir = daemon.project('linked');
  linkSync(victim, join(dir, '.env'));
  const result = await daemon.cli(['import', dir, '--allow', 'any']);
  // On the old code import succeeded and victim.env was all NULs.
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`Cannot import "${join(dir, '.env')}": it has 1 other hard link (link count 2)`);
  expect(result.stderr).toContain('Nothing was changed');
  expect(result.stderr).toContain('`rm`');
  expect(readFileSync(victim, 'utf8')).toBe(text);
  expect(lstatSync(join(dir, '.env')).isFile()).toBe(true);
  expect(lstatSync(join(dir, '.env')).nlink).toBe(2);
  expect(existsSync(join(dir, '.env.op'))).toBe(false);
  expect((await daemon.cli(['vars'])).stdout).not.toContain('linked/');
});

it('once .env has bytes of its own (the fix the message names), import goes ahead; the other file keeps its bytes', async () => {
  const victim = join(daemon.root, 'victim2.env');
  writeFileSync(victim, 'OTHER=also-kept\n');
  const dir = daemon.project('copied');
  const env = join(dir, '.env');
  linkSync(victim, env);
  expect((await daemon.cli(['import', dir, '--allow', 'any'])).code).toBe(1);
  writeFileSync(`${env}.copy`, readFileSync(env));
  renameSync(`${env}.copy`, env);
  const result = await daemon.cli(['import', dir, '--allow', 'any']);
  expect(result.stderr).toBe('');
  expect(lstatSync(env).isFIFO()).toBe(true);
  expect(readFileSync(victim, 'utf8')).toBe('OTHER=also-kept\n');
});
