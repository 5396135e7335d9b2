/** `envmount policy | approvals | approve | deny | log`: who may read, and what was read. Names, never values. */
import { resolve } from 'node:path';
import type { ControlClient } from '../control/client.js';
import type { Approval, LogEntry } from '../control/protocol.js';
import { EnvmountError } from '../core/errors.js';
import { AGENTS_SETTINGS, type AgentsSetting } from '../core/policy.js';
import { parseRule } from '../core/policy-edit.js';
import { commandLine, visible } from '../core/visible-text.js';
import { type CliContext, type CommandOutput, withClient } from './context.js';
import { startedBy } from './format.js';
import { formatPolicy } from './policy-format.js';

export interface PolicyFlags {
  allow?: string[];
  deny?: string[];
  otherwise?: string;
  agents?: string;
}

/**
 * The policy part of a request, from repeated --allow/--deny, --otherwise and --agents. Rule texts are parsed here
 * too, so that a mistyped kind is a usage error before anything is sent (the daemon parses them again).
 */
export function policyParams(flags: PolicyFlags): {
  allow?: string[];
  deny?: string[];
  otherwise?: 'ask' | 'deny' | 'allow';
  agents?: AgentsSetting;
} {
  const otherwise = flags.otherwise;
  if (otherwise !== undefined && otherwise !== 'ask' && otherwise !== 'deny' && otherwise !== 'allow') {
    throw new EnvmountError('USAGE', `--otherwise takes ask, deny or allow, not "${otherwise}".`);
  }
  const agents = flags.agents;
  if (agents !== undefined && !(AGENTS_SETTINGS as readonly string[]).includes(agents)) {
    throw new EnvmountError('USAGE', `--agents takes ${AGENTS_SETTINGS.join(', ')}, not "${agents}".`);
  }
  for (const text of flags.allow ?? []) if (text !== 'any') parseRule(text, 'allow');
  for (const text of flags.deny ?? []) if (text !== 'any') parseRule(text, 'deny');
  return {
    ...(flags.allow?.length ? { allow: flags.allow } : {}),
    ...(flags.deny?.length ? { deny: flags.deny } : {}),
    ...(otherwise ? { otherwise } : {}),
    ...(agents ? { agents: agents as AgentsSetting } : {}),
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
  flags: PolicyFlags & { reset?: boolean; remove?: string[] },
): Promise<CommandOutput> {
  const params = policyParams(flags);
  return withClient(ctx, async (client) => {
    const status = await client.request('policy', {
      path: resolve(ctx.cwd, dir ?? '.'),
      ...params,
      ...(flags.remove?.length ? { remove: flags.remove } : {}),
      ...(flags.reset ? { reset: true } : {}),
    });
    for (const warning of status.warnings ?? []) ctx.note(`envmount: warning: ${warning}`);
    return { data: status, text: formatPolicy(status) };
  });
}

/** What a reader chose (paths, arguments) is escaped: it cannot move the cursor or rewrite the confirmation. */
function describeApproval(a: Approval): string {
  if (a.action !== undefined) {
    return `  ${a.id}  an agent (${visible(a.exe)}, pid ${a.pid}: ${commandLine(a.argv, 600)}) asks to ${visible(a.action)}\n    until: ${a.expiresAt}`;
  }
  const parents = a.ancestors.length ? `\n    parents: ${a.ancestors.map(visible).join(' <- ')}` : '';
  return `  ${a.id}  ${visible(a.identity ?? a.exe)} (pid ${a.pid})${startedBy(a.agent)} wants ${a.mount}\n    command: ${commandLine(a.argv, 600)}\n    in: ${visible(a.cwd)}${parents}\n    until: ${a.expiresAt}`;
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
    if (request.action !== undefined) return approveAction(ctx, client, request, flags);
    const always = request.always;
    if ((flags.always || forMs !== undefined) && always && 'problem' in always) {
      if (flags.always || always.problem.startsWith('its program is inline')) {
        throw new EnvmountError(
          'USAGE',
          `Cannot approve ${visible(request.identity ?? request.exe)} with ${flags.always ? '--always' : '--for'}: ${always.problem}. Approve this read only: \`envmount approve ${id}\`.`,
        );
      }
    }
    const stored = flags.always && always && 'rule' in always ? always.rule : undefined;
    const scope = stored
      ? `, and always from now on (stores the rule: allow ${visible(stored)})`
      : forMs !== undefined
        ? `, and for ${flags.for} (${visible(request.identity ?? request.exe)})`
        : ' (this read only)';
    const yes = await ctx.confirm(`${describeApproval(request)}\nLet it read${scope}? [y/N] `);
    if (!yes) throw new EnvmountError('USAGE', 'Not approved; the request is still pending.');
    const result = await client.request('approve', {
      id,
      ...(forMs !== undefined ? { forMs } : {}),
      ...(flags.always ? { always: true } : {}),
    });
    return {
      data: result,
      text: `Approved ${visible(request.identity ?? result.exe)} reading ${result.mount}${scope}.`,
    };
  });
}

/** An agent's request (from `envmount mcp`): applied as asked once the user says yes here. */
async function approveAction(
  ctx: CliContext,
  client: ControlClient,
  request: Approval,
  flags: { for?: string; always?: boolean },
): Promise<CommandOutput> {
  if (flags.for !== undefined || flags.always) {
    throw new EnvmountError(
      'USAGE',
      `Request ${request.id} is an agent's request; approve it without --for or --always.`,
    );
  }
  const yes = await ctx.confirm(`${describeApproval(request)}\nApply it? [y/N] `);
  if (!yes) throw new EnvmountError('USAGE', 'Not approved; the request is still pending.');
  const result = await client.request('approve', { id: request.id });
  return { data: result, text: `Applied: ${request.action}.` };
}

export function deny(ctx: CliContext, idText: string): Promise<CommandOutput> {
  const id = Number(idText);
  if (!Number.isInteger(id) || id <= 0)
    throw new EnvmountError('USAGE', `"${idText}" is not a request id; see \`envmount approvals\`.`);
  return withClient(ctx, async (client) => {
    const result = await client.request('deny', { id });
    return { data: result, text: `Denied ${visible(result.exe)} reading ${result.mount}.` };
  });
}

function formatEntry(e: LogEntry): string {
  const who = e.reader
    ? `pid ${e.reader.pid} ${visible(e.reader.exe)} (${commandLine(e.reader.argv, 300)})${startedBy(e.reader.agent)}`
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
