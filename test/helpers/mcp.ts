/** Calling a tool of `envmount mcp` through the official MCP client, as an agent does: the reply's text, whether
 * the server marked it an error, and the text parsed (replies of several shapes, read by the tests). */

import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, type TestDaemon } from './daemon.js';

/**
 * How tests start `envmount mcp`: through a relay process (test/fixtures/spawn-child.cjs) that plays the agent. The
 * daemon marks the server's client, the relay, as an agent, and with it only its descendants (the server); the test
 * process itself, which also reads mounts as the user would, stays the user's (src/daemon/readers/agents.ts).
 */
export const MCP_COMMAND = {
  command: process.execPath,
  args: [join(import.meta.dirname, '../fixtures/spawn-child.cjs'), CLI, 'mcp'],
};

export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 });
  const text = (result.content as Array<{ text: string }>)[0]?.text ?? '';
  return { error: result.isError === true, text, json: () => JSON.parse(text) };
}

/** `envmount mcp` started as an agent starts it (in the daemon's projects directory) and connected with the official
 * client; the caller closes it in afterAll. */
export async function connectAgent(daemon: TestDaemon): Promise<Client> {
  const transport = new StdioClientTransport({
    ...MCP_COMMAND,
    cwd: daemon.dirs.projects,
    env: daemon.env as Record<string, string>,
    stderr: 'pipe',
  });
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(transport);
  return client;
}
