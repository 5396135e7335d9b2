/** Human-readable renderings of daemon replies. Names and states only: replies never hold values. */

import type { DaemonStatus, MountInfo, MountStatus, OnePasswordStatus, WaitingRead } from '../control/protocol.js';
import { MIN_MASKED_LENGTH } from '../core/masker.js';
import { visible } from '../core/visible-text.js';

/** "1 value", "2 values": a count with its noun, singular or plural. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

function ago(iso: string | undefined, now: number): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

/** " started by claude" when a coding agent started the process, else nothing. */
export function startedBy(agent: string | undefined): string {
  return agent !== undefined ? ` started by ${visible(agent)}` : '';
}

/** A read waiting for approval: its ID, who, since when, and the command that answers it. */
export function formatWaiting(w: WaitingRead, now = Date.now()): string {
  const who = w.action !== undefined ? `an agent's request: ${visible(w.action)}` : `${visible(w.exe)} (pid ${w.pid})`;
  return `${w.id}: ${who}${startedBy(w.agent)}, waiting since ${ago(w.since, now)}; \`envmount approve ${w.id}\` or \`envmount deny ${w.id}\``;
}

/** The advice for a FIFO mount that saw collisions: FUSE gives every open a handle of its own. */
export function fuseAdvice(dir: string): string {
  return `the FUSE backend gives every open its own copy (Linux): \`envmount remove ${dir} && envmount add ${dir} --backend fuse\``;
}

export function formatMountList(mounts: readonly MountInfo[], now = Date.now()): string {
  if (mounts.length === 0) return 'No mounts. Add one with `envmount add DIR`.';
  return mounts
    .flatMap((m) => [
      `${m.state.padEnd(9)} ${m.path}  (${count(m.variables.length, 'variable')}${m.backend === 'fuse' ? ', fuse' : ''})`,
      ...(m.waiting ?? []).map((w) => `          waiting ${formatWaiting(w, now)}`),
    ])
    .join('\n');
}

export function formatMountStatus(m: MountStatus, onePassword?: OnePasswordStatus, now = Date.now()): string {
  const lines = [`${m.path}`, `  state:     ${m.state}${m.reason ? ` (${m.reason})` : ''}`];
  lines.push(`  template:  ${m.template}${m.format !== 'dotenv' ? ` (served as ${m.format})` : ''}`);
  lines.push(`  variables: ${m.variables.join(', ') || '(none)'}`);
  lines.push(`  readers:   ${m.policy}`);
  for (const w of m.waiting ?? []) lines.push(`  waiting:   ${formatWaiting(w, now)}`);
  lines.push(
    `  backend:   ${m.backend === 'fuse' ? 'fuse (a regular file served by envmountd)' : 'fifo (a named pipe per read)'}`,
  );
  lines.push(`  reads:     ${m.reads}, last ${ago(m.lastReadAt, now)}`);
  for (const r of m.lastReaders.slice(-3)) {
    const who = r.exe ? `${visible(r.exe)} (pid ${r.pid})${startedBy(r.agent)}` : '(reader not identified)';
    lines.push(`             ${r.decision} ${who} ${ago(r.time, now)}`);
  }
  if (m.collisions > 0) {
    lines.push(
      `  warning:   ${count(m.collisions, 'read')} where several processes opened the file at once and shared one pipe; use \`envmount run\` or a mount per consumer (--path)`,
    );
    if (m.backend !== 'fuse') lines.push(`             ${fuseAdvice(m.dir)}`);
  }
  if ((m.withheld ?? 0) > 0) {
    lines.push(
      `  warning:   ${m.withheld} reads where readers sharing one pipe read in pieces smaller than the content; nothing was written to them (see \`envmount log\`)`,
    );
  }
  if (m.usesOnePassword && onePassword && onePassword.state !== 'fresh') {
    const why = onePassword.lastError ? `: ${onePassword.lastError}` : '';
    const what =
      onePassword.state === 'stale' ? 'stale (last good values, within the grace period)' : onePassword.state;
    lines.push(`  1Password: ${what}${why}`);
  }
  if (!m.contentLocked) lines.push('  memory:    not locked in RAM (RLIMIT_MEMLOCK too low); values could reach swap');
  for (const p of m.problems) lines.push(`  unresolved ${p.key}: ${p.problem}`);
  for (const { key, reason } of m.refused) {
    const hint = reason.includes('NUL') ? '' : ' (`envmount run -- CMD` carries it in the environment)';
    lines.push(`  refused:   ${JSON.stringify(key).slice(1, -1)} is not served as ${m.format}: ${reason}${hint}`);
  }
  for (const { key, note } of m.readerLimits) lines.push(`  compat:    ${key}: ${note} (docs/compat.md)`);
  if (m.unmasked.length > 0) {
    lines.push(
      `  unmasked:  ${m.unmasked.join(', ')} (under ${MIN_MASKED_LENGTH} bytes: \`envmount run\` does not conceal them in output)`,
    );
  }
  return lines.join('\n');
}

export function formatOnePassword(p: OnePasswordStatus, now = Date.now()): string {
  const lines = [
    `  1Password: ${p.provider}: ${p.state}, ${count(p.references, 'reference')}, last success ${ago(p.lastSuccessAt, now)}`,
  ];
  if (p.lastError) lines.push(`             last error: ${p.lastError}${p.fix ? ` (${p.fix})` : ''}`);
  if (p.state === 'stale') lines.push('             serving the last good values until the grace period ends');
  return lines.join('\n');
}

export function formatDaemon(d: DaemonStatus): string {
  const hardening = d.dumpable ? 'DUMPABLE (hardening failed)' : 'not dumpable, core dumps off';
  return [
    `envmountd ${d.version}, pid ${d.pid}, up ${Math.round(d.uptimeMs / 1000)}s`,
    `  socket:    ${d.socket}`,
    `  process:   ${hardening}`,
    `  store:     ${count(d.storeNames, 'value')}${d.storeLocked ? ' (locked: run `envmount unlock`)' : ''}`,
    ...(d.valueRequests > 0
      ? [`  requests:  ${count(d.valueRequests, 'request')} waiting for a value (\`envmount set ENV/NAME\`)`]
      : []),
    d.onePassword ? formatOnePassword(d.onePassword) : '  1Password: not configured (`envmount login`)',
  ].join('\n');
}
