/**
 * An MCP stdio server started through `envmount run` (how people give MCP servers their tokens without a plaintext
 * file), driven by the official MCP SDK client: the server has the token in its environment, and the protocol
 * stream passes untouched (stdout is a pipe: no masking, no pty, byte for byte).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { expect, it } from 'vitest';
import { CLI } from '../helpers/daemon.js';
import { daemonSuite } from '../helpers/suite.js';

const TOKEN = 'mcp-token-8c1f0e6a93d27b45';
const suite = daemonSuite({ MCP_TOKEN: TOKEN });

function serverSource(): string {
  const sdk = (path: string) =>
    pathToFileURL(createRequire(import.meta.url).resolve(`@modelcontextprotocol/sdk/${path}`));
  return `
import { McpServer } from '${sdk('server/mcp.js')}';
import { StdioServerTransport } from '${sdk('server/stdio.js')}';
import { createHash } from 'node:crypto';
const server = new McpServer({ name: 'token-check', version: '1.0.0' });
server.registerTool('token_digest', { description: 'sha256 of API_TOKEN' }, async () => ({
  content: [{ type: 'text', text: createHash('sha256').update(process.env.API_TOKEN ?? '').digest('hex') }],
}));
server.registerTool('echo_big', { description: 'a large reply with every kind of character' }, async () => ({
  content: [{ type: 'text', text: 'héllo ✓ 日本 🙂 \\u001b[31m "quoted" \\\\ '.repeat(4000) }],
}));
await server.connect(new StdioServerTransport());
`;
}

it('an MCP stdio server under envmount run gets its token; the protocol stream is untouched', async () => {
  const daemon = suite();
  const dir = daemon.project('mcp', 'API_TOKEN=envmount://MCP_TOKEN\n');
  expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
  writeFileSync(join(dir, 'server.mjs'), serverSource());
  const transport = new StdioClientTransport({
    command: CLI,
    args: ['run', '--env-file', '.env.op', '--', process.execPath, 'server.mjs'],
    cwd: dir,
    env: daemon.env as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const client = new Client({ name: 'envmount-test', version: '1.0.0' });
  try {
    await client.connect(transport);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(['echo_big', 'token_digest']);
    const digest = await client.callTool({ name: 'token_digest', arguments: {} });
    expect(digest.content).toEqual([{ type: 'text', text: createHash('sha256').update(TOKEN).digest('hex') }]);
    const big = await client.callTool({ name: 'echo_big', arguments: {} });
    expect(big.content).toEqual([{ type: 'text', text: 'héllo ✓ 日本 🙂 \u001b[31m "quoted" \\ '.repeat(4000) }]);
  } finally {
    await client.close();
  }
  expect(stderr).toBe('');
});
