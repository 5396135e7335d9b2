/** What `list` and `status` say about a mount: state, reads, problems, policy, recent readers. Names, never values. */
import type { MountInfo, MountStatus } from '../../control/protocol.js';
import { describePolicy, describeRule } from '../../core/policy.js';
import type { AuditLog } from '../readers/audit.js';
import type { Entry } from './mount-entry.js';
import { directoryGoneReason, pipeRemovedReason } from './mount-reasons.js';
import { exists } from './placement.js';
import { sharedDirectoryProblem } from './shared-dir.js';

export function mountInfo(entry: Entry): MountInfo {
  const { record, state } = entry.mount;
  const variables = 'entries' in entry.template ? entry.template.entries.map((e) => e.key) : [];
  return {
    path: record.path,
    dir: record.dir,
    template: record.template,
    state,
    variables,
    storeEnvironment: record.storeEnvironment,
    onePasswordEnvironment: record.environment,
    ...(record.allowSharedDir ? { allowSharedDir: true } : {}),
    backend: entry.mount.backend,
  };
}

/** What status needs besides the entry: the audit log, and the `--for` grants (the reader gate's). */
export interface StatusDeps {
  readonly audit: AuditLog;
  readonly gate?: { grants(path: string): { reader: string; until: string }[] };
}

export function mountStatus(entry: Entry, { audit, gate }: StatusDeps): MountStatus {
  const { mount } = entry;
  const templateError = 'error' in entry.template ? entry.template.error : undefined;
  return {
    ...mountInfo(entry),
    state: templateError && mount.state === 'serving' ? 'error' : mount.state,
    // A paused or displaced mount says why first: its template may be gone with its project.
    reason: mount.state === 'serving' ? (templateError ?? mount.reason) : (mount.reason ?? templateError),
    reads: mount.reads,
    lastReadAt: mount.lastReadAt?.toISOString(),
    bytesPerRead: mount.bytesPerRead,
    contentLocked: mount.contentLocked,
    problems: entry.problems,
    refused: entry.refused,
    unmasked: entry.unmasked,
    readerLimits: entry.readerLimits,
    policy: describePolicy(entry.policy),
    format: entry.format,
    rules: entry.policy.rules,
    otherwise: entry.policy.fallback,
    agents: entry.policy.agents ?? 'ask',
    grants: [
      ...(gate?.grants(mount.path) ?? []),
      ...entry.policy.rules
        .filter((r) => r.since !== undefined)
        .map((r) => ({ reader: r.pattern, rule: describeRule(r) })),
    ],
    collisions: entry.collisions,
    withheld: entry.withheld,
    usesOnePassword:
      'entries' in entry.template &&
      entry.template.entries.some((e) => e.parts.some((p) => p.kind === 'ref' && p.ref.scheme === 'op')),
    lastReaders: audit.query({ mount: mount.path, limit: 5 }).map((e) => ({
      time: e.time,
      decision: e.decision,
      pid: e.reader?.pid,
      exe: e.reader?.exe,
      ...(e.reader?.agent !== undefined ? { agent: e.reader.agent } : {}),
      ...(e.rule !== undefined ? { rule: e.rule } : {}),
    })),
  };
}

/** Status with the path checked now: a serving mount whose FIFO or directory vanished is reported paused. */
export async function checkedMountStatus(
  entry: Entry,
  deps: StatusDeps & { readonly uid: number },
): Promise<MountStatus> {
  const { uid } = deps;
  const status = mountStatus(entry, deps);
  if (entry.mount.state === 'serving') {
    // A directory that became writable by other users (SHARED_DIRECTORY): the healer pauses the mount within
    // seconds (and a restored one starts paused); say so now.
    const { path, dir, allowSharedDir } = entry.mount.record;
    const shared = sharedDirectoryProblem(path, dir, uid, allowSharedDir === true);
    if (shared) return { ...status, state: 'paused', reason: shared };
  }
  // The thread's own state decides, not a template error: a deleted project takes its template with it.
  if (entry.mount.state !== 'serving' || (await exists(status.path))) return status;
  const dirGone = !(await exists(status.dir));
  return {
    ...status,
    state: 'paused',
    reason: dirGone ? directoryGoneReason(status.dir) : pipeRemovedReason(status.path),
  };
}

/** A status with the warnings of a policy change (a deny rule that wins over a new allow). */
export function withWarnings(status: MountStatus, warnings: readonly string[]): MountStatus {
  return warnings.length > 0 ? { ...status, warnings } : status;
}
