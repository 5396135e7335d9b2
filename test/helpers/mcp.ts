/** Calling a tool of `envmount mcp` through the official MCP client, as an agent does: the reply's text, whether
 * the server marked it an error, and the text parsed (replies of several shapes, read by the tests). */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 });
  const text = (result.content as Array<{ text: string }>)[0]?.text ?? '';
  return { error: result.isError === true, text, json: () => JSON.parse(text) };
}
