/**
 * What one open of a mount came to, from the native event that ends it (every open is one audit entry): the whole
 * content, closed after N bytes, the write deadline passed, nothing (a shared pipe: another reader took the copy, or
 * copies were withheld), or a write error. Policy `any` reads are recorded here; decided reads by the reader gate.
 */
import type { MountEvent } from '../../native/index.js';
import type { AuditInput, AuditLog, AuditOutcome } from './audit.js';

export interface ReadOutcome {
  readonly outcome: AuditOutcome;
  readonly reason: string | undefined;
  /** Copies were withheld from a shared pipe (native/share.c): counted in `status`. */
  readonly withheld: boolean;
}

/** The outcome a final event (served, drained, closed-early, timeout, a write error) reports. */
export function eventOutcome(event: MountEvent): ReadOutcome {
  const shared = event.readers !== undefined && event.readers > 1;
  switch (event.type) {
    case 'served':
    case 'drained':
      if (event.code === 'EMSGSIZE') {
        const why = `${event.readers ?? 'several'} readers shared one pipe and one of them reads in pieces smaller than the content (or its read size could not be told): nothing was written, so that none gets a spliced copy`;
        return { outcome: 'empty', reason: why, withheld: true };
      }
      if (shared && (event.copies ?? 0) < (event.readers ?? 0)) {
        const left = (event.readers ?? 0) - (event.copies ?? 0);
        const why = `${left} of ${event.readers} readers sharing one pipe got nothing (each copy goes whole to one reader)`;
        return { outcome: 'whole', reason: why, withheld: false };
      }
      return { outcome: 'whole', reason: undefined, withheld: false };
    case 'closed-early':
      return { outcome: 'partial', reason: `the reader closed after ${event.bytes} bytes`, withheld: false };
    case 'timeout':
      return {
        outcome: 'timeout',
        reason: `the reader did not read everything before the write deadline (${event.bytes} bytes went out)`,
        withheld: false,
      };
    default:
      return { outcome: 'error', reason: `the write failed (${event.code ?? 'error'})`, withheld: false };
  }
}

/**
 * Audits a policy `any` read (the reader is not identified): one entry per open. On a shared pipe, one `whole`
 * entry per copy handed out and one `empty` entry per reader left without one.
 */
export function auditUndecidedRead(audit: AuditLog, mount: string, event: MountEvent): ReadOutcome {
  const result = eventOutcome(event);
  // Literals, not a spread of a shared base: a spread of a spread took V8's slow path, 3 us an entry at thousands of
  // reads a second.
  const entry = (outcome: AuditOutcome, reason: string | undefined, bytes: number): AuditInput => ({
    mount,
    decision: 'served',
    outcome,
    reason,
    bytes,
    reader: undefined,
    others: [],
  });
  const readers = event.readers ?? 0;
  const copies = event.copies ?? 0;
  if (result.withheld) {
    for (let i = 0; i < Math.max(readers, 1); i++) audit.record(entry('empty', result.reason, 0));
    return result;
  }
  if (readers <= 1 || result.outcome !== 'whole') {
    // Reads alike in a row come as one event with their count (native/mount.c): still one entry per open.
    audit.recordEach(entry(result.outcome, result.reason, event.bytes), event.count ?? 1);
    return result;
  }
  const each = copies > 0 ? Math.round(event.bytes / copies) : 0;
  for (let i = 0; i < copies; i++) audit.record(entry('whole', undefined, each));
  const why = 'another reader on the same pipe took the copy (shared pipe)';
  for (let i = copies; i < readers; i++) audit.record(entry('empty', why, 0));
  return result;
}
