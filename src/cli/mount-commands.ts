/** `envmount add | remove | list | status | import`. */
import { resolve } from 'node:path';
import { EnvmountError } from '../core/errors.js';
import { BACKENDS, type BackendKind, isBackend } from '../core/mount-backends.js';
import { FORMATS, type Format } from '../core/render-formats.js';
import { type CliContext, type CommandOutput, withClient } from './context.js';
import { count, formatDaemon, formatMountList, formatMountStatus } from './format.js';
import type { policyParams } from './policy-commands.js';

type PolicyParams = ReturnType<typeof policyParams>;

/** `add`'s flags as commander gives them. */
export interface AddFlags {
  path?: string;
  environment?: string;
  format?: string;
  allowSharedDir?: boolean;
  backend?: string;
  allow?: string[];
  deny?: string[];
  otherwise?: string;
}

export function add(
  ctx: CliContext,
  dir: string | undefined,
  options: {
    path?: string;
    environment?: string;
    format?: string;
    allowSharedDir?: boolean;
    backend?: string;
  } & PolicyParams,
): Promise<CommandOutput> {
  const { path, format, allowSharedDir, backend, ...policy } = options;
  const defaultBackend = backend === undefined ? ctx.defaultBackend : undefined;
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
    throw new EnvmountError('USAGE', `Unknown format "${format}": use ${FORMATS.join(', ')}.`);
  }
  for (const chosen of [backend, defaultBackend]) {
    if (chosen === undefined || isBackend(chosen)) continue;
    throw new EnvmountError(
      'USAGE',
      `Unknown backend "${chosen}" (--backend or ENVMOUNT_BACKEND): use ${BACKENDS.join(' or ')}.`,
    );
  }
  return withClient(ctx, async (client) => {
    const params = {
      dir: resolve(ctx.cwd, dir ?? '.'),
      ...(path ? { path: resolve(ctx.cwd, path) } : {}),
      ...(format ? { format: format as Format } : {}),
      ...(allowSharedDir ? { allowSharedDir: true } : {}),
      ...(backend ? { backend: backend as BackendKind } : {}),
      ...(defaultBackend ? { defaultBackend: defaultBackend as BackendKind } : {}),
      ...policy,
    };
    const status = await client.request('add', params);
    for (const warning of status.warnings ?? []) ctx.note(`envmount: warning: ${warning}`);
    const notice = status.notice ? `\n  git:       ${status.notice}` : '';
    return { data: status, text: `Mounted ${status.path}\n${formatMountStatus(status)}${notice}` };
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
