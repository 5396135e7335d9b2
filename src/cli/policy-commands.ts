/** `envmount policy | approvals | approve | deny | log`: who may read, and what was read. Names, never values. */
import { resolve } from 'node:path';
import type { Approval, LogEntry } from '../control/protocol.js';
import { EnvmountError } from '../core/errors.js';
import { type CliContext, type CommandOutput, withClient } from './context.js';
import { formatMountStatus } from './format.js';

export interface PolicyFlags {
  allow?: string[];
  deny?: string[];
  otherwise?: string;
}

/** The policy part of a request, from repeated --allow/--deny and --otherwise. */
export function policyParams(flags: PolicyFlags): {
  allow?: string[];
  deny?: string[];
  otherwise?: 'ask' | 'deny' | 'allow';
} {
  const otherwise = flags.otherwise;
  if (otherwise !== undefined && otherwise !== 'ask' && otherwise !== 'deny' && otherwise !== 'allow') {
    throw new EnvmountError('USAGE', `--otherwise takes ask, deny or allow, not "${otherwise}".`);
  }
  return {
    ...(flags.allow?.length ? { allow: flags.allow } : {}),
    ...(flags.deny?.length ? { deny: flags.deny } : {}),
    ...(otherwise ? { otherwise } : {}),
  };
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (!match) throw new EnvmountError('USAGE', `"${text}" is not a duration; write for example 30s, 10m, 8h or 7d.`);
  return Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1000);
}

export function policy(
  ctx: CliContext,
  dir: string | undefined,
  flags: PolicyFlags & { reset?: boolean },
): Promise<CommandOutput> {
  return withClient(ctx, async (client) => {
    const status = await client.request('policy', {
      path: resolve(ctx.cwd, dir ?? '.'),
      ...policyParams(flags),
      ...(flags.reset ? { reset: true } : {}),
    });
    return { data: status, text: formatMountStatus(status) };
  });
}

function describeApproval(a: Approval): string {
  const parents = a.ancestors.length ? `\n    parents: ${a.ancestors.join(' <- ')}` : '';
  return `  ${a.id}  ${a.exe} (pid ${a.pid}) wants ${a.mount}\n    command: ${a.argv.join(' ')}\n    in: ${a.cwd}${parents}\n    until: ${a.expiresAt}`;
}

export function approvals(ctx: CliContext): Promise<CommandOutput> {
  return withClient(ctx, async (client) => {
    const pending = await client.request('approvals', {});
    const text = pending.length
      ? `Pending reads (approve with \`envmount approve ID\`, refuse with \`envmount deny ID\`):\n${pending.map(describeApproval).join('\n')}`
      : 'No reads are waiting for approval.';
    return { data: pending, text };
  });
}

export async function approve(
  ctx: CliContext,
  idText: string,
  flags: { for?: string; always?: boolean },
): Promise<CommandOutput> {
  if (!ctx.interactive) {
    throw new EnvmountError(
      'FORBIDDEN',
      '`envmount approve` must be run by a person in a terminal: it asks for confirmation there.',
    );
  }
  const id = Number(idText);
  if (!Number.isInteger(id) || id <= 0)
    throw new EnvmountError('USAGE', `"${idText}" is not a request id; see \`envmount approvals\`.`);
  const forMs = flags.for !== undefined ? parseDuration(flags.for) : undefined;
  return withClient(ctx, async (client) => {
    const request = (await client.request('approvals', {})).find((a) => a.id === id);
    if (!request) throw new EnvmountError('NOT_FOUND', `No pending request ${id}. See \`envmount approvals\`.`);
    const scope = flags.always
      ? ', and always from now on'
      : forMs !== undefined
        ? `, and for ${flags.for}`
        : ' (this read only)';
    const yes = await ctx.confirm(`${describeApproval(request)}\nLet it read${scope}? [y/N] `);
    if (!yes) throw new EnvmountError('USAGE', 'Not approved; the request is still pending.');
    const result = await client.request('approve', {
      id,
      ...(forMs !== undefined ? { forMs } : {}),
      ...(flags.always ? { always: true } : {}),
    });
    return { data: result, text: `Approved ${result.exe} reading ${result.mount}${scope}.` };
  });
}

export function deny(ctx: CliContext, idText: string): Promise<CommandOutput> {
  const id = Number(idText);
  if (!Number.isInteger(id) || id <= 0)
    throw new EnvmountError('USAGE', `"${idText}" is not a request id; see \`envmount approvals\`.`);
  return withClient(ctx, async (client) => {
    const result = await client.request('deny', { id });
    return { data: result, text: `Denied ${result.exe} reading ${result.mount}.` };
  });
}

function formatEntry(e: LogEntry): string {
  const who = e.reader
    ? `pid ${e.reader.pid} ${e.reader.exe} (${e.reader.argv.join(' ')})`
    : e.decision === 'served'
      ? 'reader not identified (policy any)'
      : 'reader not identified';
  const others = e.others.length ? ` +${e.others.length} more on the same pipe` : '';
  const outcome = e.outcome ? ` ${e.outcome}` : '';
  return `${e.time}  ${e.decision.padEnd(12)} ${e.mount}  ${who}${others}  ${e.bytes} bytes${outcome}${e.reason ? `  (${e.reason})` : ''}`;
}

export async function log(
  ctx: CliContext,
  dir: string | undefined,
  flags: { follow?: boolean; limit?: string; json?: boolean },
): Promise<CommandOutput> {
  const limit = flags.limit !== undefined ? Number(flags.limit) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 2000)
    throw new EnvmountError('USAGE', '--limit takes a number from 1 to 2000.');
  const path = dir === undefined ? undefined : resolve(ctx.cwd, dir);
  const params = async (after?: number) => ({
    ...(path ? { path } : {}),
    ...(after !== undefined ? { after } : {}),
    limit,
  });
  return withClient(ctx, async (client) => {
    const { entries } = await client.request('log', await params());
    if (!flags.follow)
      return { data: entries, text: entries.length ? entries.map(formatEntry).join('\n') : 'No reads logged.' };
    let last = entries.at(-1)?.seq ?? 0;
    for (const e of entries) ctx.emit(flags.json ? JSON.stringify(e) : formatEntry(e));
    for (;;) {
      await ctx.sleep(500);
      const next = await client.request('log', await params(last));
      for (const e of next.entries) ctx.emit(flags.json ? JSON.stringify(e) : formatEntry(e));
      last = next.entries.at(-1)?.seq ?? last;
    }
  });
}
