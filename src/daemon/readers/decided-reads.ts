/**
 * The audit of decided reads (reader-gate.ts decides; this finishes the ticket and records the outcome): at once when
 * the write completed in the call, or at the final event (drained, closed-early, timeout, error) when a native
 * writer thread finishes it. One entry per read, with its outcome.
 */
import { finishTicket, type MountEvent, type Ticket, type TicketResult } from '../../native/index.js';
import type { AuditInput, AuditLog } from './audit.js';
import { eventOutcome } from './read-outcome.js';

/** What a decided read needs here: the mount (its path, and where withheld copies are counted). */
export interface DecidedMount {
  readonly path: string;
  noteWithheld(): void;
}

/** One decided read: the mount, the ticket, the served pipe's inode and the scan's unreadable count. */
export interface DecidedRead<M extends DecidedMount = DecidedMount> {
  readonly mount: M;
  readonly ticket: Ticket;
  readonly inode: number;
  readonly unreadable: number;
}

type Pending = { readonly mount: DecidedMount; readonly input: Omit<AuditInput, 'outcome'>; readonly refused: boolean };

export class DecidedReads {
  readonly #audit: AuditLog;
  /** By mount path and the served pipe's inode (unique per read: every read gets a fresh FIFO). */
  readonly #pending = new Map<string, Pending>();

  constructor(audit: AuditLog) {
    this.#audit = audit;
  }

  /** Finishes the ticket with `content` and audits the read, now or (a writer thread finishes it) at its end. */
  finish(read: DecidedRead, content: Buffer, readers: number, input: Omit<AuditInput, 'outcome'>, refused: boolean) {
    const result: TicketResult = finishTicket(read.ticket, content, readers);
    const full = read.unreadable > 0 ? { ...input, unreadable: read.unreadable } : input;
    if (result.pending) {
      this.#pending.set(`${read.mount.path}\0${read.inode}`, { mount: read.mount, input: full, refused });
      return result;
    }
    const outcome = refused ? 'refused' : result.closedEarly ? 'partial' : result.code ? 'error' : 'whole';
    const reason = !refused && result.closedEarly ? `the reader closed after ${result.bytes} bytes` : full.reason;
    this.#audit.record({ ...full, outcome, reason, bytes: refused ? 0 : result.bytes });
    return result;
  }

  /** The final event of a read a writer thread finished: audited now. False when it is not a decided read's. */
  finished(path: string, event: MountEvent): boolean {
    const key = `${path}\0${event.inode}`;
    const pending = this.#pending.get(key);
    if (!pending) return false;
    this.#pending.delete(key);
    const result = eventOutcome(event);
    if (result.withheld) pending.mount.noteWithheld();
    const shared = event.readers !== undefined ? { readers: event.readers, copies: event.copies ?? 0 } : {};
    const outcome = pending.refused
      ? { outcome: 'refused' as const }
      : {
          outcome: result.outcome,
          reason: result.reason ?? pending.input.reason,
          bytes: result.withheld ? 0 : event.bytes,
        };
    this.#audit.record({ ...pending.input, ...shared, ...outcome });
    return true;
  }
}
