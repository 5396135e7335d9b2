/**
 * The decision for each open of a FUSE mount. The kernel names the opener (its thread group id): it is described
 * from /proc (readers/process-info.ts; no scan of other processes), refused if it is a known bulk reader no rule
 * names (core/bulk-readers.ts, under every policy), and otherwise judged by the same gate as `envmount run`
 * (policy, grants, questions: an `ask` holds the open until answered). The handle gets the rendered values or the
 * `#` refusal lines a FIFO reader gets, fixed for its life. Each open is audited when its handle is released (how
 * much of it was read). Owned by the mount's entry; one per FUSE mount.
 */
import type { Logger } from 'pino';
import { bulkReaderName, namedByRule } from '../../core/bulk-readers.js';
import { needsNoDecision, ruleText, shellWord } from '../../core/policy.js';
import { isInterpreter, scriptOf } from '../../core/reader-identity.js';
import { type AuditDecision, type AuditInput, type AuditLog, auditReader } from '../readers/audit.js';
import { describeProcess, type ProcessInfo, UNKNOWN_EXE } from '../readers/process-info.js';
import { type GatedMount, type ReaderGate, refusalText } from '../readers/reader-gate.js';
import type { OpenRequest } from './backends/backend.js';

export interface FuseOpenDeps {
  readonly gate: ReaderGate;
  readonly audit: AuditLog;
  readonly logger: Logger;
}

type Pending = Omit<AuditInput, 'outcome' | 'bytes'> & { readonly refused: boolean };

export class FuseOpens {
  readonly #deps: FuseOpenDeps;
  /** Opens answered and not yet released, by process, oldest first (a process may hold several handles). */
  readonly #open = new Map<number, Pending[]>();

  constructor(deps: FuseOpenDeps) {
    this.#deps = deps;
  }

  /** Decides one open and answers it. Never throws: a failure answers EACCES. */
  async answer(mount: GatedMount, open: OpenRequest): Promise<void> {
    try {
      await this.#answer(mount, open);
    } catch (error) {
      this.#deps.logger.error({ err: error, path: mount.path }, 'FUSE open decision failed');
      open.answer(null);
    }
  }

  async #answer(mount: GatedMount, open: OpenRequest): Promise<void> {
    const info = describeProcess(open.tgid);
    const location = { dir: mount.dir, files: mount.template ? [mount.path, mount.template] : [mount.path] };
    if (!info) {
      const why = 'the process that opened the file could not be identified (it exited)';
      this.#refuse(mount, open, undefined, 'unidentified', why, 'read it again');
      return;
    }
    if (info.exe === UNKNOWN_EXE) {
      const why = `the executable of pid ${info.pid} cannot be read (/proc/${info.pid}/exe), so no rule can judge it`;
      this.#refuse(mount, open, info, 'unidentified', why, 'read it from a process whose executable can be read');
      return;
    }
    const bulk = bulkReaderName(info);
    if (bulk && !namedByRule(mount.policy, info, location)) {
      const why = `${bulk} reads whole trees (it copies, archives, syncs or indexes them), and a regular-file mount must not end up in a copy; refused under every policy unless a rule names it`;
      // A tool an interpreter runs (npm) is named with its script: `exe:` of node would let every node program read.
      const script = scriptOf(info);
      const rule = ruleText(
        isInterpreter(info.exe) && script?.kind === 'file'
          ? { effect: 'allow', kind: 'script', pattern: script.path, exe: info.exe }
          : { effect: 'allow', kind: 'exe', pattern: info.exe },
      );
      this.#refuse(
        mount,
        open,
        info,
        'denied',
        why,
        `envmount policy ${shellWord(mount.dir)} --allow ${shellWord(rule)}`,
      );
      return;
    }
    if (needsNoDecision(mount.policy)) {
      this.#serve(mount, open, info, 'served');
      return;
    }
    const verdict = await this.#deps.gate.authorize(mount, info);
    if (verdict.allowed) this.#serve(mount, open, info, 'allowed');
    else this.#refuse(mount, open, info, verdict.decision, verdict.why, verdict.fix);
  }

  #serve(mount: GatedMount, open: OpenRequest, info: ProcessInfo, decision: AuditDecision): void {
    const content = mount.render();
    try {
      open.answer(content);
    } finally {
      content.fill(0);
    }
    this.#pend(open.tgid, {
      mount: mount.path,
      decision,
      reason: undefined,
      reader: auditReader(info),
      others: [],
      refused: false,
    });
  }

  #refuse(
    mount: GatedMount,
    open: OpenRequest,
    info: ProcessInfo | undefined,
    decision: AuditDecision,
    why: string,
    fix: string,
  ): void {
    open.answer(refusalText(mount, info, why, fix));
    this.#pend(open.tgid, {
      mount: mount.path,
      decision,
      reason: why,
      reader: info ? auditReader(info) : undefined,
      others: [],
      refused: true,
    });
    this.#deps.logger.info({ path: mount.path, pid: open.tgid, exe: info?.exe, decision }, 'read refused');
  }

  #pend(tgid: number, pending: Pending): void {
    const list = this.#open.get(tgid) ?? [];
    list.push(pending);
    this.#open.set(tgid, list);
  }

  /** A handle served natively (no decision): audited at its release like the others. */
  served(path: string, tgid: number): void {
    const info = describeProcess(tgid);
    const reader = info ? auditReader(info) : undefined;
    this.#pend(tgid, { mount: path, decision: 'served', reason: undefined, reader, others: [], refused: false });
  }

  /** A handle was closed: its open's audit entry, with how much of it was read. */
  released(read: { readonly tgid: number; readonly bytes: number; readonly whole: boolean }): void {
    const list = this.#open.get(read.tgid);
    const pending = list?.shift();
    if (list && list.length === 0) this.#open.delete(read.tgid);
    if (!pending) return;
    const { refused, ...input } = pending;
    if (refused) {
      this.#deps.audit.record({ ...input, outcome: 'refused', bytes: 0 });
      return;
    }
    const outcome = read.whole ? 'whole' : 'partial';
    const reason = read.whole ? input.reason : `the reader closed after ${read.bytes} bytes`;
    this.#deps.audit.record({ ...input, outcome, reason, bytes: read.bytes });
  }

  /** A read through a handle by a process that neither opened it nor inherited it: refused by the kernel side. */
  foreignRead(path: string, read: { readonly tgid: number; readonly openerPid: number }): void {
    const info = describeProcess(read.tgid);
    this.#deps.audit.record({
      mount: path,
      decision: 'foreign',
      outcome: 'refused',
      reason: `read through a handle pid ${read.openerPid} opened, by a process that neither opened it nor inherited it`,
      bytes: 0,
      reader: info ? auditReader(info) : undefined,
      others: [],
    });
  }

  /** The mount stopped: opens never released are audited as ended by the stop. */
  stopped(): void {
    for (const list of this.#open.values()) {
      for (const { refused, ...input } of list) {
        const reason = refused ? input.reason : 'the mount stopped while the file was open';
        this.#deps.audit.record({ ...input, outcome: refused ? 'refused' : 'partial', reason, bytes: 0 });
      }
    }
    this.#open.clear();
  }
}
