/**
 * An agent cannot make a user's mount serve another environment's values by renaming: with a mount whose template
 * says `API_KEY=envmount://prodenv/API_KEY`, rename `prodenv`->`tmp-aside` then `payments`->`prodenv` made it serve
 * payments' key. A name a mount's template uses is now refused to an agent's rename (either side) and create; a
 * mount that serves an environment follows its rename, as before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll, TestDaemon } from '../helpers/daemon.js';
import { callTool, connectAgent } from '../helpers/mcp.js';

const PROD = 'canary-prod-key-51ad';
const PAYMENTS = 'canary-payments-key-9e0c';
let daemon: TestDaemon;
let client: Client;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  client = await connectAgent(daemon);
});

afterAll(async () => {
  await client?.close();
  await killAll();
  await daemon.dispose();
});

const call = (name: string, args: Record<string, unknown> = {}) => callTool(client, name, args);

async function environment(name: string, value: string): Promise<void> {
  expect((await call('create_environment', { name })).error).toBe(false);
  const appended = await call('append_variables', { environment: name, variables: [{ name: 'API_KEY', value }] });
  expect(appended.error).toBe(false);
}

it('the swap: renaming away a name a mount uses, or onto it, is refused; the mount keeps its value', async () => {
  await environment('prodenv', PROD);
  await environment('payments', PAYMENTS);
  const dir = daemon.project('p5', 'API_KEY=envmount://prodenv/API_KEY\n');
  expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
  const env = join(dir, '.env');
  expect(readFileSync(env, 'utf8')).toContain(PROD);

  // On the old code both renames succeeded and the mount then served payments' key.
  const aside = await call('rename_environment', { name: 'prodenv', new_name: 'tmp-aside' });
  expect(aside.error).toBe(true);
  expect(aside.text).toContain(`the mount ${env} uses the environment name "prodenv"`);
  const onto = await call('rename_environment', { name: 'payments', new_name: 'prodenv' });
  expect(onto.error).toBe(true);
  expect(readFileSync(env, 'utf8')).toContain(PROD);
  const names = (await call('list_environments')).text;
  expect(names).toContain('prodenv');
  expect(names).toContain('payments');
});

it('creating an environment under a name a template already names (not yet made) is refused', async () => {
  const dir = daemon.project('p6', 'TOKEN=envmount://staging/TOKEN\n');
  await daemon.cli(['add', dir, '--allow', 'any']);
  const created = await call('create_environment', { name: 'staging' });
  expect(created.error).toBe(true);
  expect(created.text).toContain(`the mount ${join(dir, '.env')} uses the environment name "staging"`);
});

it('a mount serving an environment follows its rename (still allowed)', async () => {
  await environment('served', PAYMENTS);
  const dir = daemon.project('p7');
  expect((await call('create_local_env_file', { directory: dir, environment: 'served' })).error).toBe(false);
  const renamed = await call('rename_environment', { name: 'served', new_name: 'served2' });
  expect(renamed.error).toBe(false);
});
