/**
 * `envmount approve` with no ID: the reads (and agents' requests) waiting now, offered one by one on the terminal,
 * oldest first. Each is asked about as `envmount approve ID` asks; no leaves it waiting (for `envmount deny ID`,
 * its timeout, or a later answer). Without a terminal there is no one to ask: an error says what to run instead.
 */
import { EnvmountError, isEnvmountError } from '../core/errors.js';
import { type CliContext, type CommandOutput, withClient } from './context.js';
import { approve } from './policy-commands.js';

/** `envmount approve [ID]`: the request named, or each waiting one in turn. */
export function approveCommand(
  ctx: CliContext,
  id: string | undefined,
  flags: { for?: string; always?: boolean },
): Promise<CommandOutput> {
  return id === undefined ? approveWaiting(ctx, flags) : approve(ctx, id, flags);
}

export async function approveWaiting(
  ctx: CliContext,
  flags: { for?: string; always?: boolean },
): Promise<CommandOutput> {
  if (!ctx.interactive) {
    throw new EnvmountError(
      'FORBIDDEN',
      '`envmount approve` with no ID offers the waiting reads one by one and needs a person at a terminal. See them with `envmount approvals`, then run `envmount approve ID` in a terminal.',
    );
  }
  const pending = await withClient(ctx, (client) => client.request('approvals', {}));
  if (pending.length === 0) return { data: [], text: 'No reads are waiting for approval.' };
  const results: unknown[] = [];
  const lines: string[] = [];
  for (const [index, request] of pending.entries()) {
    ctx.note(`(${index + 1} of ${pending.length})`);
    try {
      const done = await approve(ctx, String(request.id), request.action !== undefined ? {} : flags);
      results.push(done.data);
      lines.push(done.text);
    } catch (error) {
      // USAGE: the person said no (the request still waits); NOT_FOUND: it was answered or timed out meanwhile.
      if (!isEnvmountError(error) || (error.code !== 'USAGE' && error.code !== 'NOT_FOUND')) throw error;
      lines.push(
        `Left request ${request.id} waiting${error.code === 'NOT_FOUND' ? ' (it is gone: answered or timed out)' : ''}.`,
      );
    }
  }
  return { data: results, text: lines.join('\n') };
}
