/** `envmount add | remove | list | status | import`. */
import { resolve } from 'node:path';
import { EnvmountError } from '../core/errors.js';
import { FORMATS, type Format } from '../core/render-formats.js';
import { type CliContext, type CommandOutput, withClient } from './context.js';
import { count, formatDaemon, formatMountList, formatMountStatus } from './format.js';
import type { policyParams } from './policy-commands.js';

type PolicyParams = ReturnType<typeof policyParams>;

export function add(
  ctx: CliContext,
  dir: string | undefined,
  options: { path?: string; environment?: string; format?: string; allowSharedDir?: boolean } & PolicyParams,
): Promise<CommandOutput> {
  const { path, format, allowSharedDir, ...policy } = options;
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
    throw new EnvmountError('USAGE', `Unknown format "${format}": use ${FORMATS.join(', ')}.`);
  }
  return withClient(ctx, async (client) => {
    const params = {
      dir: resolve(ctx.cwd, dir ?? '.'),
      ...(path ? { path: resolve(ctx.cwd, path) } : {}),
      ...(format ? { format: format as Format } : {}),
      ...(allowSharedDir ? { allowSharedDir: true } : {}),
      ...policy,
    };
    const status = await client.request('add', params);
    for (const warning of status.warnings ?? []) ctx.note(`envmount: warning: ${warning}`);
    return { data: status, text: `Mounted ${status.path}\n${formatMountStatus(status)}` };
  });
}

export function remove(ctx: CliContext, target: string | undefined): Promise<CommandOutput> {
  return withClient(ctx, async (client) => {
    const result = await client.request('remove', { path: resolve(ctx.cwd, target ?? '.') });
    return { data: result, text: `Removed the mount at ${result.path}` };
  });
}

export function list(ctx: CliContext): Promise<CommandOutput> {
  return withClient(ctx, async (client) => {
    const mounts = await client.request('list', {});
    return { data: mounts, text: formatMountList(mounts) };
  });
}

export function status(ctx: CliContext): Promise<CommandOutput> {
  return withClient(ctx, async (client) => {
    const result = await client.request('status', {});
    const mounts = result.mounts.map((m) => formatMountStatus(m, result.daemon.onePassword)).join('\n');
    return { data: result, text: `${formatDaemon(result.daemon)}\n${mounts || 'No mounts.'}` };
  });
}

export function importEnv(
  ctx: CliContext,
  dir: string | undefined,
  options: { prefix?: string; merge?: boolean } & PolicyParams,
): Promise<CommandOutput> {
  return withClient(ctx, async (client) => {
    const params = { dir: resolve(ctx.cwd, dir ?? '.'), ...options };
    const result = await client.request('import', params);
    const names = result.names.map((n) => `  envmount://${n}`).join('\n');
    const wrote = result.merged ? `Added their references to ${result.template}` : `Wrote ${result.template}`;
    return {
      data: result,
      text: `Imported ${count(result.names.length, 'variable')} into the store:\n${names}\n${wrote}; ${result.path} is now a mount (the plaintext file was overwritten and removed).`,
    };
  });
}
