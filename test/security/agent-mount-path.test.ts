/**
 * An agent's `create_local_env_file` with a `path` could put a mount at any file name: `~/.profile` in `shell`
 * format, which a login shell sources. An agent's mount must now be named `.env` or `.env.SOMETHING` and lie inside
 * the directory it names; anything else is refused with a message, and nothing is created.
 */
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll, TestDaemon } from '../helpers/daemon.js';
import { callTool, connectAgent } from '../helpers/mcp.js';

let daemon: TestDaemon;
let client: Client;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  client = await connectAgent(daemon);
  expect((await callTool(client, 'create_environment', { name: 'shellenv' })).error).toBe(false);
});

afterAll(async () => {
  await client?.close();
  await killAll();
  await daemon.dispose();
});

const mountAt = (directory: string, path: string) =>
  callTool(client, 'create_local_env_file', { environment: 'shellenv', directory, path, format: 'shell' });

it('~/.profile (shell format) is refused, and no pipe appears there', async () => {
  const profile = join(daemon.dirs.home, '.profile');
  // On the old code this mounted a FIFO at ~/.profile serving shell lines.
  const result = await mountAt(daemon.dirs.home, profile);
  expect(result.error).toBe(true);
  expect(result.text).toContain('An agent may mount only a file named .env or .env.SOMETHING');
  expect(result.text).toContain(`"${profile}" is not such a name`);
  expect(existsSync(profile)).toBe(false);
});

it('other names (.envrc, .bashrc) are refused, and so is a .env outside the directory named', async () => {
  const dir = daemon.project('named');
  for (const name of ['.envrc', '.bashrc', 'env']) {
    const result = await mountAt(dir, join(dir, name));
    expect(result.error).toBe(true);
    expect(existsSync(join(dir, name))).toBe(false);
  }
  const outside = join(daemon.dirs.home, '.env');
  const result = await mountAt(dir, outside);
  expect(result.error).toBe(true);
  expect(result.text).toContain(`"${outside}" is outside "${dir}"`);
  expect(existsSync(outside)).toBe(false);
});

it('.env.local inside the directory is still mounted', async () => {
  const dir = daemon.project('local');
  const result = await mountAt(dir, join(dir, '.env.local'));
  expect(result.error).toBe(false);
  expect(lstatSync(join(dir, '.env.local')).isFIFO()).toBe(true);
});
