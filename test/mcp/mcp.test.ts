/**
 * `envmount mcp` driven by the official MCP SDK client over stdio, as a coding agent would: every tool, its error
 * paths, a real reader of the mounted .env, request_variable completed from another process and timing out, and
 * the daemon going away. A canary value appears in no message in either direction but the agent's own
 * append_variables request.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI, killAll, run, TestDaemon, waitFor } from '../helpers/daemon.js';
import { callTool, MCP_COMMAND } from '../helpers/mcp.js';

const CANARY = `mcp-canary-${randomBytes(10).toString('hex')}`;
let daemon: TestDaemon;
let client: Client;
let stderr = '';
const sent: string[] = [];
const received: string[] = [];

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  const transport = new StdioClientTransport({
    ...MCP_COMMAND,
    cwd: daemon.dirs.projects,
    env: daemon.env as Record<string, string>,
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage) => {
    sent.push(JSON.stringify(message));
    return send(message);
  };
  client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(transport);
  const deliver = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    received.push(JSON.stringify(message));
    deliver?.(message);
  };
});

afterAll(async () => {
  await client?.close();
  await killAll();
  await daemon.dispose();
});

const call = (name: string, args: Record<string, unknown> = {}) => callTool(client, name, args);

it('lists every tool', async () => {
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual([
    'append_variables',
    'create_environment',
    'create_local_env_file',
    'list_environments',
    'list_local_env_files',
    'list_variables',
    'remove_local_env_file',
    'rename_environment',
    'request_variable',
    'status',
  ]);
});

it('creates an environment, appends values and references, lists names and states only', async () => {
  expect((await call('list_environments')).json()).toEqual([]);
  expect((await call('create_environment', { name: 'app' })).json()).toMatchObject({ name: 'app', variables: 0 });
  const again = await call('create_environment', { name: 'app' });
  expect(again).toMatchObject({ error: true, text: expect.stringContaining('"app" exists already') });
  const appended = await call('append_variables', {
    environment: 'app',
    variables: [
      { name: 'API_KEY', value: CANARY },
      { name: 'MODE', value: 'production' },
      { name: 'ALIAS', reference: 'envmount://app/API_KEY' },
    ],
  });
  expect(appended.json()).toMatchObject({ name: 'app', variables: 3, pending: 0 });
  expect((await call('list_variables', { environment: 'app' })).json().variables).toEqual([
    { name: 'ALIAS', set: true, reference: 'envmount://app/API_KEY' },
    { name: 'API_KEY', set: true },
    { name: 'MODE', set: true },
  ]);
  const unknown = await call('list_variables', { environment: 'nope' });
  expect(unknown).toMatchObject({ error: true, text: expect.stringContaining('create it with create_environment') });
  const badRef = await call('append_variables', { environment: 'app', variables: [{ name: 'X', reference: 'op:/x' }] });
  expect(badRef.error).toBe(true);
});

it('request_variable times out cleanly, then completes when the user sets the value elsewhere', async () => {
  const early = await call('request_variable', { environment: 'app', name: 'DB_PASSWORD', timeout_seconds: 1 });
  expect(early.json()).toMatchObject({ set: false, message: expect.stringContaining('envmount set app/DB_PASSWORD') });
  expect((await call('list_variables', { environment: 'app' })).json().variables).toContainEqual({
    name: 'DB_PASSWORD',
    set: false,
  });
  const waiting = call('request_variable', { environment: 'app', name: 'DB_PASSWORD', timeout_seconds: 30 });
  // Once the daemon holds the request (status counts it), the user, in their own terminal (here: another
  // process), sets it from stdin.
  await waitFor(async () => JSON.parse((await daemon.cli(['--json', 'status'])).stdout).daemon.valueRequests === 1);
  expect((await daemon.cli(['set', 'app/DB_PASSWORD'], { input: 'db-secret-value' })).code).toBe(0);
  expect((await waiting).json()).toMatchObject({ set: true });
});

it('create_local_env_file mounts the environment; a real reader gets the values through the policy', async () => {
  const dir = daemon.project('web');
  const mounted = await call('create_local_env_file', { environment: 'app', directory: 'web', allow: ['cat'] });
  expect(mounted.json()).toMatchObject({ path: join(dir, '.env'), state: 'serving', environment: 'app' });
  // An allow rule from an agent waits for the user (test/security/agent-mounts.test.ts): here they confirm it.
  const id = /`envmount approve (\d+)`/.exec(mounted.json().message)?.[1];
  const approved = await run('script', ['-qec', `${process.execPath} ${CLI} approve ${id}`, '/dev/null'], {
    env: daemon.env,
    input: 'y\n',
  });
  expect(approved.stdout).toContain(`Applied: apply to ${join(dir, '.env')}: --allow cat`);
  const read = await run('cat', [join(dir, '.env')]);
  expect(read.stdout).toContain(`API_KEY='${CANARY}'`);
  expect(read.stdout).toContain("DB_PASSWORD='db-secret-value'");
  expect(read.stdout).toContain(`ALIAS='${CANARY}'`);
  // Renamed: the mount follows, and still serves.
  expect((await call('rename_environment', { name: 'app', new_name: 'app2' })).json()).toMatchObject({
    name: 'app2',
    mounts: [join(dir, '.env')],
  });
  const renamed = (await run('cat', [join(dir, '.env')])).stdout;
  expect(renamed).toContain("MODE='production'");
  expect(renamed).toContain(`API_KEY='${CANARY}'`);
  const listed = (await call('list_local_env_files')).json();
  expect(listed).toContainEqual(expect.objectContaining({ path: join(dir, '.env'), storeEnvironment: 'app2' }));
  const status = (await call('status')).json();
  expect(status.mounts[0]).toMatchObject({ path: join(dir, '.env'), state: 'serving', reads: 2 });
  expect((await call('remove_local_env_file', { path: 'web' })).json()).toEqual({ path: join(dir, '.env') });
});

it('error paths: unknown environment, missing directory, a regular .env, then the daemon down', async () => {
  daemon.project('plain');
  writeFileSync(join(daemon.dirs.projects, 'plain', '.env'), 'MINE=1\n');
  const cases = [
    [{ environment: 'nope', directory: 'plain' }, 'No environment "nope"'],
    [{ environment: 'app2', directory: 'missing-dir' }, 'is not a directory'],
    [{ environment: 'app2', directory: 'plain' }, 'a regular file is there. Run `envmount import'],
  ] as const;
  for (const [args, message] of cases) {
    const result = await call('create_local_env_file', args);
    expect(result, message).toMatchObject({ error: true, text: expect.stringContaining(message) });
  }
  expect(readFileSync(join(daemon.dirs.projects, 'plain', '.env'), 'utf8')).toBe('MINE=1\n');
  await daemon.stop();
  const down = await call('list_environments');
  expect(down).toMatchObject({ error: true, text: expect.stringContaining('Ask the user to start it') });
});

it('the canary value crossed the protocol once: in the agent’s own append_variables request', () => {
  const carrying = sent.filter((m) => m.includes(CANARY));
  expect(carrying).toHaveLength(1);
  expect(carrying[0]).toContain('"append_variables"');
  expect(received.length).toBeGreaterThan(10);
  expect(received.filter((m) => m.includes(CANARY))).toEqual([]);
  expect(received.filter((m) => m.includes('db-secret-value'))).toEqual([]);
  expect(stderr).not.toContain(CANARY);
});
