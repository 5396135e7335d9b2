/**
 * The decision for one reader of a mount whose policy needs one: who holds the served pipe (found by the mount
 * thread before any byte was written), what the policy says about each, asking the user when it says ask. Allowed
 * readers get the values; anyone else gets `#` comment lines saying who was refused and how to allow it. Every
 * outcome is audited. If anyone other than allowed readers holds the pipe, no value is written.
 */
import type { Logger } from 'pino';
import type { MountLocation } from '../../core/argv-location.js';
import { type Decision, decide, describeRule, type Policy, type ReaderFacts } from '../../core/policy.js';
import { type MountEvent, ticketHolders } from '../../native/index.js';
import type { Approvals } from './approvals.js';
import { type AuditDecision, type AuditLog, type AuditReader, auditReader } from './audit.js';
import { type DecidedRead, DecidedReads } from './decided-reads.js';
import { ancestorsOf, describeProcess, isSameProcess, type ProcessInfo, UNKNOWN_EXE } from './process-info.js';
import { approveAdvice, deniedAdvice } from './refusal-advice.js';

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
}

interface Reader {
  readonly info: ProcessInfo;
  readonly facts: ReturnType<typeof factsOf>;
  readonly decision: Decision;
}

/** Facts for the policy; the parent chain is read from /proc only if a rule (or a question) needs it. */
function factsOf(info: ProcessInfo): ReaderFacts & { readonly chain: () => ProcessInfo[] } {
  let ancestors: ProcessInfo[] | undefined;
  const chain = () => {
    ancestors ??= ancestorsOf(info);
    return ancestors;
  };
  return {
    exe: info.exe,
    argv: info.argv,
    cwd: info.cwd,
    get ancestors() {
      return chain();
    },
    chain,
  };
}

/** Where the mount is: arguments naming it are taken out before `argv:` rules match (core/argv-location.ts). */
function locationOf(mount: Pick<GatedMount, 'path' | 'dir' | 'template'>): MountLocation {
  return { dir: mount.dir, files: mount.template ? [mount.path, mount.template] : [mount.path] };
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
  result: 'stopped' | 'removed',
  mount: Pick<GatedMount, 'path' | 'dir'>,
): { why: string; fix: string } {
  return result === 'stopped'
    ? {
        why: 'envmountd stopped before anyone answered',
        fix: 'start it (`envmountd start`, or `envmount service install`), then read again',
      }
    : { why: `the mount ${mount.path} was removed before anyone answered`, fix: `\`envmount add ${mount.dir}\`` };
}

/** A reader whose executable no thread shows: no rule, `--otherwise` or grant can speak for it. */
function unidentified(reader: ProcessInfo): { why: string; fix: string } {
  return {
    why: `the executable of pid ${reader.pid} cannot be read (/proc/${reader.pid}/exe), so no rule can judge it`,
    fix: 'read it from a process whose executable can be read (one whose main thread has not exited)',
  };
}

/** How long a reader's fd is looked for after its open() returned to the daemon's side. */
const FD_WAIT_MS = 20;

export type Verdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly decision: AuditDecision; readonly why: string; readonly fix: string };

export class ReaderGate {
  readonly #deps: GateDeps;
  readonly #reads: DecidedReads;

  constructor(deps: GateDeps) {
    this.#deps = deps;
    this.#reads = new DecidedReads(deps.audit);
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
    const readers: Reader[] = [];
    for (const pid of pids) {
      const info = describeProcess(pid);
      if (!info) continue;
      const facts = factsOf(info);
      const granted = this.#deps.approvals.granted(mount.path, info.exe);
      readers.push({
        info,
        facts,
        decision: granted ? { verdict: 'allow', rule: undefined } : decide(mount.policy, facts, locationOf(mount)),
      });
    }
    const first = readers[0];
    if (!first || !holders.some((h) => h.mode !== 'w')) {
      const why = 'the process that opened the file could not be identified (it may have exited)';
      this.#refuse(read, undefined, 'unidentified', why, `envmount policy ${mount.dir} --allow any`, []);
      return;
    }
    const others = readers.slice(1).map((r) => auditReader(r.info));
    const blind = readers.find((r) => r.info.exe === UNKNOWN_EXE);
    if (blind) {
      const { why, fix } = unidentified(blind.info);
      const rest = readers.filter((r) => r !== blind).map((r) => auditReader(r.info));
      this.#refuse(read, blind.info, 'unidentified', why, fix, rest);
      return;
    }
    // Readers sharing one pipe who may all read each get a copy of their own (native/share.c); otherwise the pipe
    // is refused as a whole, since what is written on it goes to whichever of them reads first.
    if (readers.length > 1 && !readers.every((r) => r.decision.verdict === 'allow')) mount.noteCollision();
    const denied = readers.find((r) => r.decision.verdict === 'deny');
    if (denied) {
      const rule = denied.decision.rule;
      const why = rule ? `the rule "${describeRule(rule)}" refuses it` : 'this mount refuses readers no rule allows';
      const decision: AuditDecision = readers.length > 1 ? 'collision' : 'denied';
      this.#refuse(
        read,
        denied.info,
        decision,
        why,
        deniedAdvice(mount, locationOf(mount), denied.facts, denied.info, rule),
        others,
      );
      return;
    }
    if (readers.every((r) => r.decision.verdict === 'allow')) {
      this.#serve(read, first.info, 'allowed', others);
      return;
    }
    if (readers.length > 1) {
      const why = `${readers.length} processes opened the file at the same instant and share one pipe`;
      const fix = `read through \`envmount run\`, or give each consumer its own mount (--path)`;
      this.#refuse(read, first.info, 'collision', why, fix, others);
      return;
    }
    const { id, answer } = this.#deps.approvals.ask(mount.path, first.info, first.facts.chain());
    this.#deps.logger.info(
      { id, path: mount.path, pid: first.info.pid, exe: first.info.exe },
      'read waits for approval',
    );
    const result = await answer;
    const joined = result === 'allow' ? ticketHolders(ticket).holders.filter((h) => h.pid !== first.info.pid) : [];
    if (joined.length > 0) {
      mount.noteCollision();
      const why = 'another process opened the same pipe while the read waited for approval';
      this.#refuse(read, first.info, 'collision', why, 'read it again', []);
    } else if (result === 'allow' && isSameProcess(first.info)) {
      this.#serve(read, first.info, 'allowed', []);
    } else if (result === 'stopped' || result === 'removed') {
      const { why, fix } = cancelled(result, mount);
      this.#refuse(read, first.info, 'cancelled', why, fix, []);
    } else {
      const why = result === 'timeout' ? 'nobody approved it in time' : 'the request was denied';
      const decision: AuditDecision = result === 'timeout' ? 'timed-out' : 'denied';
      this.#refuse(read, first.info, decision, why, this.#allowCommand(mount, first.info), []);
    }
  }

  /**
   * The decision for a process that asks for the values themselves (`envmount run`, the peer of the control
   * connection): the same policy, grants and questions as a read of the mount. The caller audits the outcome.
   */
  async authorize(
    mount: Pick<GatedMount, 'path' | 'dir' | 'policy' | 'template'>,
    reader: ProcessInfo,
  ): Promise<Verdict> {
    if (reader.exe === UNKNOWN_EXE) return { allowed: false, decision: 'unidentified', ...unidentified(reader) };
    const facts = factsOf(reader);
    const decision: Decision = this.#deps.approvals.granted(mount.path, reader.exe)
      ? { verdict: 'allow', rule: undefined }
      : decide(mount.policy, facts, locationOf(mount));
    const fix = this.#allowCommand(mount, reader);
    if (decision.verdict === 'allow') return { allowed: true };
    if (decision.verdict === 'deny') {
      const rule = decision.rule;
      const why = rule ? `the rule "${describeRule(rule)}" refuses it` : 'this mount refuses readers no rule allows';
      return {
        allowed: false,
        decision: 'denied',
        why,
        fix: deniedAdvice(mount, locationOf(mount), facts, reader, rule),
      };
    }
    const { id, answer } = this.#deps.approvals.ask(mount.path, reader, facts.chain());
    this.#deps.logger.info({ id, path: mount.path, pid: reader.pid, exe: reader.exe }, 'run waits for approval');
    const result = await answer;
    if (result === 'allow' && isSameProcess(reader)) return { allowed: true };
    if (result === 'stopped' || result === 'removed')
      return { allowed: false, decision: 'cancelled', ...cancelled(result, mount) };
    return result === 'timeout'
      ? { allowed: false, decision: 'timed-out', why: 'nobody approved it in time', fix }
      : { allowed: false, decision: 'denied', why: 'the request was denied', fix };
  }

  #allowCommand(mount: Pick<GatedMount, 'dir'>, reader: ProcessInfo): string {
    return approveAdvice(mount.dir, reader);
  }

  /** The final event of a decided read a native thread finished: audited now. False when not a decided read's. */
  finished(path: string, event: MountEvent): boolean {
    return this.#reads.finished(path, event);
  }

  #serve(read: DecidedRead<GatedMount>, reader: ProcessInfo, decision: AuditDecision, others: AuditReader[]): void {
    const content = read.mount.render();
    try {
      const input = {
        mount: read.mount.path,
        decision,
        reason: undefined,
        bytes: 0,
        reader: auditReader(reader),
        others,
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
  ): void {
    const { mount } = read;
    const input = {
      mount: mount.path,
      decision,
      reason: why,
      bytes: 0,
      reader: reader ? auditReader(reader) : undefined,
      others,
    };
    const result = this.#reads.finish(read, refusalText(mount, reader, why, fix), others.length + 1, input, true);
    this.#deps.logger.info(
      { path: mount.path, pid: reader?.pid, exe: reader?.exe, decision, bytes: result.bytes },
      'read refused',
    );
  }
}
