/**
 * Issue 14, class 6: nothing an agent does through `envmount mcp` widens who can read what. The attack, driven by
 * the official MCP client as an agent would: create an environment, append a variable referencing a value the user
 * stored (`envmount://NAME`), mount it with `allow: ["any"]`, then `cat` the mount. On the old code cat printed the
 * user's value. Now the reference and the policy wait for the user's `envmount approve ID` in a terminal (the tool
 * replies name the command), the mount asks for each reader meanwhile, and an agent's request can neither approve,
 * nor take a name whose store values exist, nor change a mount the user made.
 */
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ControlClient } from '../../src/control/client.js';
import { CLI, killAll, run, TestDaemon } from '../helpers/daemon.js';
import { callTool, connectAgent } from '../helpers/mcp.js';

const SECRET = 'user-secret-4b9d0e7a31c5';
let daemon: TestDaemon;
let client: Client;

beforeAll(async () => {
  daemon = new TestDaemon();
  // A read nobody answers ends quickly (the default is 2 minutes).
  await daemon.start({ ENVMOUNT_APPROVAL_TIMEOUT_MS: '1500' });
  expect((await daemon.cli(['set', 'SECRET'], { input: SECRET })).code).toBe(0);
  expect((await daemon.cli(['set', 'prod/DB_PASSWORD'], { input: SECRET })).code).toBe(0);
  client = await connectAgent(daemon);
});

afterAll(async () => {
  await client?.close();
  await killAll();
  await daemon.dispose();
});

const call = (name: string, args: Record<string, unknown> = {}) => callTool(client, name, args);

/** The user, at a terminal (`script` gives the CLI one), answers yes. */
const approveInTerminal = (id: number) =>
  run('script', ['-qec', `${process.execPath} ${CLI} approve ${id}`, '/dev/null'], {
    env: daemon.env,
    input: 'y\n',
    timeoutMs: 15_000,
  });

it('the attack: a stored value is not readable through an agent-made mount until the user confirms', async () => {
  const dir = daemon.project('agent-proj');
  expect((await call('create_environment', { name: 'evil' })).error).toBe(false);
  const appended = await call('append_variables', {
    environment: 'evil',
    variables: [
      { name: 'STOLEN', reference: 'envmount://SECRET' },
      { name: 'MODE', value: 'dev' },
    ],
  });
  const mounted = await call('create_local_env_file', { environment: 'evil', directory: 'agent-proj', allow: ['any'] });
  const read = await run('cat', [join(dir, '.env')], { timeoutMs: 15_000 });
  // The old code failed here: cat printed STOLEN='<the user's value>'.
  expect(read.stdout).not.toContain(SECRET);
  expect(read.stdout).toContain('# envmount refused this read');

  // What the agent was told: what waits, and the exact command the user must run.
  expect(appended.error).toBe(false);
  const grant = appended.json();
  expect(grant.message).toMatch(/Ask the user to run `envmount approve \d+` in their terminal/);
  expect(grant.notApplied).toContain('STOLEN=envmount://SECRET');
  expect(mounted.error).toBe(false);
  const widen = mounted.json();
  expect(widen).toMatchObject({ path: join(dir, '.env'), state: 'serving', readers: 'otherwise ask' });
  expect(widen.message).toMatch(/Ask the user to run `envmount approve \d+` in their terminal/);
  expect(widen.notApplied).toContain('allow any reader (--allow any)');

  // The agent cannot confirm for the user: its requests may not approve (nor run, nor set, nor change policy).
  const agent = await ControlClient.connect(daemon.socketPath, { origin: 'agent' });
  try {
    const ids = (await daemon.client().then((c) => c.request('approvals', {}).finally(() => c.close()))).map(
      (a) => a.id,
    );
    for (const [method, params] of [
      ['approve', { id: ids[0] ?? 1 }],
      ['policy', { path: join(dir, '.env'), allow: ['any'] }],
      ['run', { dir }],
    ] as const) {
      await expect(agent.request(method, params as never)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
  } finally {
    agent.close();
  }

  // The user confirms both in a terminal: then, and only then, cat reads the value.
  const grantId = Number(/envmount approve (\d+)/.exec(grant.message)?.[1]);
  const widenId = Number(/envmount approve (\d+)/.exec(widen.message)?.[1]);
  // Approving an agent's request never becomes a grant or a rule for the agent's own process.
  const always = await run('script', ['-qec', `${process.execPath} ${CLI} approve ${widenId} --always`, '/dev/null'], {
    env: daemon.env,
    input: 'y\n',
    timeoutMs: 15_000,
  });
  expect(always.stdout).toContain("is an agent's request; approve it without --for or --always");
  const first = await approveInTerminal(grantId);
  expect(first.stdout).toContain('Applied: add to the environment "evil": STOLEN=envmount://SECRET');
  expect((await approveInTerminal(widenId)).stdout).toContain(`Applied: apply to ${join(dir, '.env')}`);
  const after = await run('cat', [join(dir, '.env')], { timeoutMs: 15_000 });
  expect(after.stdout).toContain(`STOLEN='${SECRET}'`);
});

it('an agent cannot take an environment name whose store values exist, by create or by rename', async () => {
  const created = await call('create_environment', { name: 'prod' });
  expect(created).toMatchObject({ error: true, text: expect.stringContaining('already holds values named prod/') });
  expect((await call('create_environment', { name: 'mine' })).error).toBe(false);
  // Its own values and references to them apply at once; a 1Password reference waits like any other.
  const appended = await call('append_variables', {
    environment: 'mine',
    variables: [
      { name: 'KEY', value: 'agent-made' },
      { name: 'ALIAS', reference: 'envmount://mine/KEY' },
      { name: 'FROM_OP', reference: 'op://Private/Item/password' },
    ],
  });
  expect(appended.json()).toMatchObject({
    variables: 2,
    notApplied: 'add to the environment "mine": FROM_OP=op://Private/Item/password',
  });
  const renamed = await call('rename_environment', { name: 'mine', new_name: 'prod' });
  expect(renamed).toMatchObject({ error: true, text: expect.stringContaining('already holds values named prod/') });
});

it("an agent cannot change what a user's mount serves or who reads it; deny rules apply at once", async () => {
  const dir = daemon.project('user-proj', 'SECRET=envmount://SECRET\n');
  expect((await daemon.cli(['add', dir, '--allow', 'node'])).code).toBe(0);
  const over = await call('create_local_env_file', { environment: 'mine', directory: 'user-proj' });
  expect(over).toMatchObject({ error: true, text: expect.stringContaining('is mounted already') });
  const other = daemon.project('agent-proj2');
  const narrowed = await call('create_local_env_file', {
    environment: 'mine',
    directory: 'agent-proj2',
    deny: ['cat'],
    otherwise: 'deny',
  });
  expect(narrowed.json()).toMatchObject({ path: join(other, '.env'), readers: 'deny exe:cat; otherwise deny' });
  expect(narrowed.json().message).toBeUndefined();
});
