/**
 * `envmount mcp`: an MCP server over stdio for coding agents, a client of the daemon like the CLI. stdout carries
 * the protocol only; diagnostics go to stderr. Errors reach the agent as tool errors whose text says what to do
 * next (an EnvmountError's message names the thing, its state and the command); no message carries a value.
 */
import type { Readable, Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { isEnvmountError } from '../core/errors.js';
import { TOOLS, type ToolDeps } from './tools.js';

export interface McpOptions extends ToolDeps {
  readonly version: string;
  readonly stdin: Readable;
  readonly stdout: Writable;
  /** One diagnostic line (stderr). */
  readonly log: (line: string) => void;
}

function errorText(error: unknown): string {
  if (isEnvmountError(error)) {
    return error.code === 'DAEMON_NOT_RUNNING'
      ? `${error.message} Ask the user to start it (\`envmountd start\`, or \`envmount service install\`).`
      : error.message;
  }
  return `envmount failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
}

export function createMcpServer(options: McpOptions): McpServer {
  const server = new McpServer({ name: 'envmount', version: options.version });
  for (const [name, tool] of Object.entries(TOOLS)) {
    server.registerTool(name, { description: tool.description, inputSchema: tool.input }, async (args: unknown) => {
      try {
        const result = await tool.run((args ?? {}) as Record<string, unknown>, options);
        return { content: [{ type: 'text' as const, text: JSON.stringify(result, null, 2) }] };
      } catch (error) {
        options.log(`envmount mcp: ${name}: ${errorText(error)}`);
        return { isError: true, content: [{ type: 'text' as const, text: errorText(error) }] };
      }
    });
  }
  return server;
}

/**
 * One request at start, so that the daemon knows this server's client (the agent: our parent) before the agent
 * runs anything: readers it starts are then marked "started by" it. Every tool's request does the same; a daemon
 * that is not running yet learns it at the first tool call.
 */
async function introduce(options: McpOptions): Promise<void> {
  try {
    const client = await options.connect();
    try {
      await client.request('ping', {});
    } finally {
      client.close();
    }
  } catch {
    // No daemon yet: nothing to introduce to.
  }
}

/** Serves until the client closes stdin. */
export async function serveMcp(options: McpOptions): Promise<void> {
  const server = createMcpServer(options);
  const transport = new StdioServerTransport(options.stdin, options.stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    options.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  options.log(`envmount mcp ${options.version}: serving on stdio`);
  void introduce(options);
  await closed;
  await server.close();
}
