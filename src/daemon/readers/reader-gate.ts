/**
 * The effects around the verdict on one read of a mount whose policy needs one: who holds the served pipe (found by
 * the mount thread before any byte was written), describing each process, asking the user when the verdict says
 * ask, finishing the ticket once and auditing. The decision itself is pure: core/reader-verdict.ts. Allowed readers
 * get the values; anyone else gets `#` comment lines saying who was refused, by which rule, and how to allow it.
 * If anyone other than allowed readers holds the pipe, no value is written.
 */
import type { Logger } from 'pino';
import type { MountLocation } from '../../core/argv-location.js';
import type { Policy } from '../../core/policy.js';
import { identityOf } from '../../core/reader-identity.js';
import { type Outcome, unansweredFix, type VerdictMount, verdict } from '../../core/reader-verdict.js';
import { type MountEvent, ticketHolders } from '../../native/index.js';
import type { Approvals } from './approvals.js';
import { type AuditDecision, type AuditLog, type AuditReader, auditReader } from './audit.js';
import { type DecidedRead, DecidedReads } from './decided-reads.js';
import type { ProcessInfo } from './process-info.js';
import { type Facts, factsOf, PROC_DESCRIBER, type ProcessDescriber, whoFor } from './reader-facts.js';

export interface GatedMount {
  readonly path: string;
  readonly dir: string;
  readonly policy: Policy;
  /** The template file, if the mount has one (named in arguments, it does not make an `argv:` rule match). */
  readonly template?: string | undefined;
  /** The bytes an allowed reader gets now (the caller of render wipes them). */
  render(): Buffer;
  /** Two or more processes held one pipe. */
  noteCollision(): void;
  /** Copies were withheld from a shared pipe whose readers read in pieces (native/share.c). */
  noteWithheld(): void;
}

export interface GateDeps {
  readonly approvals: Approvals;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly processes?: ProcessDescriber;
}

/** Where the mount is: arguments naming it are taken out before `argv:` rules match (core/argv-location.ts). */
export function locationOf(mount: Pick<GatedMount, 'path' | 'dir' | 'template'>): MountLocation {
  return { dir: mount.dir, files: mount.template ? [mount.path, mount.template] : [mount.path] };
}

function verdictMount(mount: Pick<GatedMount, 'path' | 'dir' | 'policy' | 'template'>): VerdictMount {
  return { dir: mount.dir, policy: mount.policy, location: locationOf(mount) };
}

function clean(text: string, max = 160): string {
  const flat = [...text].map((ch) => (ch.charCodeAt(0) < 0x20 ? ' ' : ch)).join('');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

export function refusalText(mount: GatedMount, reader: ProcessInfo | undefined, why: string, fix: string): Buffer {
  const who = reader
    ? `pid ${reader.pid}, ${clean(reader.exe)} (${clean(reader.argv.join(' '))})`
    : 'a process envmount could not identify';
  return Buffer.from(
    [`# envmount refused this read of ${mount.path}`, `# reader: ${who}`, `# why: ${why}`, `# to allow it: ${fix}`, '']
      .map((line) => clean(line, 4000))
      .join('\n'),
  );
}

/** Why a read that waited for an answer got none: the daemon stopped, or the mount was removed. */
function cancelled(
  result: 'stopped' | 'removed' | 'exited',
  mount: Pick<GatedMount, 'path' | 'dir'>,
): { why: string; fix: string } {
  if (result === 'exited') return { why: 'it exited before it was approved', fix: 'read again, and approve that read' };
  return result === 'stopped'
    ? {
        why: 'envmountd stopped before anyone answered',
        fix: 'start it (`envmountd start`, or `envmount service install`), then read again',
      }
    : { why: `the mount ${mount.path} was removed before anyone answered`, fix: `\`envmount add ${mount.dir}\`` };
}

/** How long a reader's fd is looked for after its open() returned to the daemon's side. */
const FD_WAIT_MS = 20;

export type Verdict =
  | { readonly allowed: true; readonly basis: string }
  | {
      readonly allowed: false;
      readonly decision: AuditDecision;
      readonly why: string;
      readonly fix: string;
      readonly basis: string;
    };

export class ReaderGate {
  readonly #deps: GateDeps;
  readonly #reads: DecidedReads;
  readonly #processes: ProcessDescriber;

  constructor(deps: GateDeps) {
    this.#deps = deps;
    this.#reads = new DecidedReads(deps.audit);
    this.#processes = deps.processes ?? PROC_DESCRIBER;
  }

  #judge(mount: GatedMount | Pick<GatedMount, 'path' | 'dir' | 'policy' | 'template'>, infos: readonly ProcessInfo[]) {
    const readers = infos.map((info) => {
      const facts = factsOf(info, this.#processes);
      return { info, facts, granted: this.#deps.approvals.granted(mount.path, identityOf(facts)) };
    });
    return { readers, outcome: verdict(verdictMount(mount), readers) };
  }

  async handle(mount: GatedMount, event: MountEvent): Promise<void> {
    const ticket = event.ticket;
    if (!ticket) return;
    // Who holds the pipe: readers that queued on a reclaimed FIFO come listed by the thread; otherwise this one scan
    // finds them. A reader's open() may not have installed its fd yet: looked for again for up to 20 ms.
    let scan = ticketHolders(ticket);
    let holders = [...(event.holders ?? []), ...scan.holders];
    for (let waited = 0; !holders.some((h) => h.mode !== 'w') && waited < FD_WAIT_MS; waited++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      scan = ticketHolders(ticket);
      holders = [...(event.holders ?? []), ...scan.holders];
    }
    // Processes of this user whose fd table is closed to us (non-dumpable) may hold the pipe unseen: recorded with
    // the read, not refused (ssh-agent and gpg-agent are such processes: THREAT-MODEL.md).
    const read = { mount, ticket, inode: event.inode, unreadable: scan.unreadable };
    const pids = [...new Set(holders.map((h) => h.pid))];
    const infos = pids.flatMap((pid) => this.#processes.describe(pid) ?? []);
    const reading = holders.some((h) => h.mode !== 'w');
    const { readers, outcome } = this.#judge(mount, reading ? infos : []);
    const auditOf = (i: number | undefined) => readers.filter((_, j) => j !== i).map((r) => auditReader(r.info));
    if (outcome.kind === 'refuse') {
      if (outcome.collision) mount.noteCollision();
      const at = outcome.reader;
      const who = at === undefined ? undefined : readers[at]?.info;
      this.#refuse(read, who, outcome.decision, outcome.why, outcome.fix, auditOf(at), outcome.basis);
      return;
    }
    const first = readers[0];
    if (!first) return;
    if (outcome.kind === 'serve') {
      this.#serve(read, first.info, 'allowed', auditOf(0), basisOf(outcome));
      return;
    }
    const { id, answer } = this.#deps.approvals.ask(mount.path, first.info, first.facts.chain(), {
      who: whoFor(verdictMount(mount), first.facts),
    });
    this.#deps.logger.info(
      { id, path: mount.path, pid: first.info.pid, exe: first.info.exe },
      'read waits for approval',
    );
    const result = await answer;
    const joined = result === 'allow' ? ticketHolders(ticket).holders.filter((h) => h.pid !== first.info.pid) : [];
    if (joined.length > 0) {
      mount.noteCollision();
      const why = 'another process opened the same pipe while the read waited for approval';
      this.#refuse(read, first.info, 'collision', why, 'read it again', [], 'collision');
    } else if (result === 'allow' && this.#processes.isSame(first.info)) {
      this.#serve(read, first.info, 'allowed', [], `approved (${outcome.basis})`);
    } else if (result === 'stopped' || result === 'removed' || result === 'exited') {
      const { why, fix } = cancelled(result, mount);
      this.#refuse(read, first.info, 'cancelled', why, fix, [], outcome.basis);
    } else {
      const why = result === 'timeout' ? 'nobody approved it in time' : 'the request was denied';
      const decision: AuditDecision = result === 'timeout' ? 'timed-out' : 'denied';
      const fix = unansweredFix(verdictMount(mount), first.facts);
      this.#refuse(read, first.info, decision, why, fix, [], outcome.basis);
    }
  }

  /**
   * The decision for a process that asks for the values themselves (`envmount run`, the peer of the control
   * connection): the same policy, grants and questions as a read of the mount. The caller audits the outcome.
   */
  async authorize(
    mount: Pick<GatedMount, 'path' | 'dir' | 'policy' | 'template'>,
    reader: ProcessInfo,
    facts: Facts = factsOf(reader, this.#processes),
  ): Promise<Verdict> {
    const granted = this.#deps.approvals.granted(mount.path, identityOf(facts));
    const outcome = verdict(verdictMount(mount), [{ facts, granted }]);
    if (outcome.kind === 'serve') return { allowed: true, basis: basisOf(outcome) };
    if (outcome.kind === 'refuse') {
      const { decision, why, fix, basis } = outcome;
      return { allowed: false, decision: decision === 'collision' ? 'denied' : decision, why, fix, basis };
    }
    const { id, answer } = this.#deps.approvals.ask(mount.path, reader, facts.chain(), {
      who: whoFor(verdictMount(mount), facts),
    });
    this.#deps.logger.info({ id, path: mount.path, pid: reader.pid, exe: reader.exe }, 'run waits for approval');
    const result = await answer;
    const basis = outcome.basis;
    if (result === 'allow' && this.#processes.isSame(reader)) return { allowed: true, basis: `approved (${basis})` };
    if (result === 'stopped' || result === 'removed' || result === 'exited')
      return { allowed: false, decision: 'cancelled', basis, ...cancelled(result, mount) };
    const fix = unansweredFix(verdictMount(mount), facts);
    return result === 'timeout'
      ? { allowed: false, decision: 'timed-out', why: 'nobody approved it in time', fix, basis }
      : { allowed: false, decision: 'denied', why: 'the request was denied', fix, basis };
  }

  /** The `--for` grants of a mount still in force. */
  grants(path: string): { reader: string; until: string }[] {
    return this.#deps.approvals.grants(path);
  }

  /** Drops a mount's `--for` grants (`policy --reset`). */
  clearGrants(path: string): void {
    this.#deps.approvals.clearGrants(path);
  }

  /** The final event of a decided read a native thread finished: audited now. False when not a decided read's. */
  finished(path: string, event: MountEvent): boolean {
    return this.#reads.finished(path, event);
  }

  #serve(
    read: DecidedRead<GatedMount>,
    reader: ProcessInfo,
    decision: AuditDecision,
    others: AuditReader[],
    rule: string,
  ): void {
    const content = read.mount.render();
    try {
      const input = {
        mount: read.mount.path,
        decision,
        reason: undefined,
        bytes: 0,
        reader: auditReader(reader),
        others,
        rule,
      };
      this.#reads.finish(read, content, others.length + 1, input, false);
    } finally {
      content.fill(0);
    }
  }

  #refuse(
    read: DecidedRead<GatedMount>,
    reader: ProcessInfo | undefined,
    decision: AuditDecision,
    why: string,
    fix: string,
    others: AuditReader[],
    rule: string,
  ): void {
    const { mount } = read;
    const input = {
      mount: mount.path,
      decision,
      reason: why,
      bytes: 0,
      reader: reader ? auditReader(reader) : undefined,
      others,
      rule,
    };
    const result = this.#reads.finish(read, refusalText(mount, reader, why, fix), others.length + 1, input, true);
    this.#deps.logger.info(
      { path: mount.path, pid: reader?.pid, exe: reader?.exe, decision, bytes: result.bytes },
      'read refused',
    );
  }
}

function basisOf(outcome: Extract<Outcome, { kind: 'serve' }>): string {
  return outcome.judgements.map((j) => j.basis).join(', ');
}
