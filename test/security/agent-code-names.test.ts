/**
 * An agent with only the MCP tools runs code as the user. Before: `append_variables` took any literal value, so an
 * agent mounted `NODE_OPTIONS=--import=data:text/javascript,CODE` at a project's `.env`; the user's `node
 * --env-file=.env app.js` (approved as `node app.js`, the user's own app) ran CODE: code of the agent's choosing,
 * as the user, inside a reader the user's rules trust. Now a name that changes which code a program loads
 * (core/dangerous-env.ts: NODE_OPTIONS, LD_*, BASH_ENV, PYTHONSTARTUP...) is added to an agent's environment only
 * once the user confirms it with `envmount approve ID` in a terminal, like a reference to another stored value.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI, killAll, run, startReader, TestDaemon, waitFor } from '../helpers/daemon.js';
import { callTool, connectAgent } from '../helpers/mcp.js';

let daemon: TestDaemon;
let client: Client;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start({ ENVMOUNT_APPROVAL_TIMEOUT_MS: '600000' });
  client = await connectAgent(daemon);
});

afterAll(async () => {
  await client?.close();
  await killAll();
  await daemon.dispose();
});

const call = (name: string, args: Record<string, unknown> = {}) => callTool(client, name, args);

it("an agent's NODE_OPTIONS waits for the user; the user's node --env-file runs no code of the agent's", async () => {
  const dir = daemon.project('agent-code');
  writeFileSync(join(dir, 'app.js'), "console.log('app ran', process.env.APP_MODE);\n");
  expect((await call('create_environment', { name: 'helper' })).error).toBe(false);
  const appended = await call('append_variables', {
    environment: 'helper',
    variables: [
      { name: 'NODE_OPTIONS', value: '--import=data:text/javascript,console.log(%22AGENT-CODE-RAN%22)' },
      { name: 'LD_PRELOAD', value: '/tmp/agent.so' },
      { name: 'APP_MODE', value: 'dev' },
    ],
  });
  expect(appended.error).toBe(false);
  expect(appended.json().notApplied).toMatch(/NODE_OPTIONS=.*LD_PRELOAD=/s);
  expect((await call('create_local_env_file', { environment: 'helper', directory: 'agent-code' })).error).toBe(false);

  // The user runs the app and approves its read, as `node app.js`.
  const app = startReader(process.execPath, ['--env-file=.env', 'app.js'], { cwd: dir });
  const pending = await waitFor(async () => {
    const list = JSON.parse((await daemon.cli(['--json', 'approvals'])).stdout) as Array<{ id: number; mount: string }>;
    return list.find((p) => p.mount === join(dir, '.env'));
  });
  const approved = await run('script', ['-qec', `${process.execPath} ${CLI} approve ${pending.id}`, '/dev/null'], {
    env: daemon.env,
    input: 'y\n',
    timeoutMs: 15_000,
  });
  expect(approved.code).toBe(0);
  const out = await app.done;
  expect(out).toContain('app ran dev');
  // The old code failed here: the agent's code ran first.
  expect(out).not.toContain('AGENT-CODE-RAN');
});
