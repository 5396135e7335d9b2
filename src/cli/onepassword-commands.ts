/** `envmount login | refresh | lock | unlock`: connect 1Password, re-resolve, and wipe or restore values in memory. */
import { resolve } from 'node:path';
import type { OnePasswordStatus } from '../control/protocol.js';
import { EnvmountError } from '../core/errors.js';
import { type CliContext, type CommandOutput, withClient } from './context.js';
import { formatOnePassword } from './format.js';

export interface LoginFlags {
  serviceAccount?: boolean;
  account?: string;
  opCli?: boolean;
}

export async function login(ctx: CliContext, flags: LoginFlags): Promise<CommandOutput> {
  const chosen = [flags.serviceAccount, flags.account, flags.opCli].filter((v) => v !== undefined && v !== false);
  if (chosen.length !== 1) {
    throw new EnvmountError(
      'USAGE',
      'Choose one: `envmount login --service-account` (token from a hidden prompt or stdin), `--account NAME` (the 1Password desktop app), or `--op-cli` (the op CLI you are signed in to).',
    );
  }
  const client = await ctx.connect();
  let token: Buffer | undefined;
  try {
    let status: OnePasswordStatus;
    if (flags.serviceAccount) {
      token = await ctx.readSecret('Service account token (input hidden): ', { raw: false });
      if (token.length === 0) throw new EnvmountError('VALUE_EMPTY', 'No token was given; nothing changed.');
      status = await client.request('login', { serviceAccountTokenBase64: token.toString('base64') });
    } else if (flags.account !== undefined) {
      status = await client.request('login', { account: flags.account });
    } else {
      status = await client.request('login', { opCli: true });
    }
    return { data: status, text: `1Password source: ${status.provider}\n${formatOnePassword(status)}` };
  } finally {
    token?.fill(0);
    client.close();
  }
}

export function refresh(ctx: CliContext, dir: string | undefined): Promise<CommandOutput> {
  return withClient(ctx, async (client) => {
    const result = await client.request('refresh', dir === undefined ? {} : { path: resolve(ctx.cwd, dir) });
    const source = result.onePassword ? formatOnePassword(result.onePassword) : '1Password: not configured';
    return { data: result, text: `Re-read ${result.mounts.length} mount(s).\n${source}` };
  });
}

export function lock(ctx: CliContext): Promise<CommandOutput> {
  return withClient(ctx, async (client) => {
    const result = await client.request('lock', {});
    return {
      data: result,
      text: 'Locked: every value was wiped from memory. Readers get a comment until `envmount unlock`.',
    };
  });
}

export function unlock(ctx: CliContext): Promise<CommandOutput> {
  return withClient(ctx, async (client) => {
    const result = await client.request('unlock', {});
    return { data: result, text: `Unlocked.${result.onePassword ? `\n${formatOnePassword(result.onePassword)}` : ''}` };
  });
}
