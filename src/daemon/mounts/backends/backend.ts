/**
 * The mount-backend seam: what the daemon needs from "a thing at the mount path that serves content to identified
 * readers". A backend places that thing (a FIFO, a FUSE mount), is handed the rendered content and the decide mode,
 * reports what happens at the path as BackendSignals, and takes it away again. The Mount (mount.ts) owns the state a
 * user sees (serving, paused, displaced, error) and the counters; policy, audit and rendering stay above the seam.
 * A new backend is a file here and a line in backends.ts.
 */
import type { BackendKind } from '../../../core/mount-backends.js';
import type { MountEvent } from '../../../native/index.js';
import type { PathState } from '../placement.js';
import type { MountRecord } from '../registry.js';

/** A reader that opened the path and waits for the content of its handle (FUSE): answered exactly once. */
export interface OpenRequest {
  /** The opening thread's process (thread group) id, from the kernel's request: no /proc scan. */
  readonly tgid: number;
  readonly pid: number;
  readonly uid: number;
  /** Fixes what this open reads (copied: the caller wipes its buffer); null: the open fails with EACCES. */
  answer(content: Buffer | null): void;
}

/** What a backend reports to its Mount (on the JS thread). */
export interface BackendSignals {
  /** FIFO: a pipe whose holders need a decision (a ticket; the reader gate finds and judges them). */
  fifoReader(event: MountEvent): void;
  /** FIFO: how one read ended (served, drained, closed early, timed out, a write error). */
  fifoEnd(event: MountEvent): void;
  /** A reader opened the path and waits for a decision (decide mode). */
  opened(open: OpenRequest): void;
  /** A reader was served without a decision (policy any served natively): `bytes` its handle holds. */
  served(reader: { readonly tgid: number; readonly bytes: number }): void;
  /** A handle was closed: how much of its content it read. */
  released(read: { readonly tgid: number; readonly bytes: number; readonly whole: boolean }): void;
  /** A process that neither opened the file nor inherited the handle tried to read through it (EACCES). */
  foreignRead(read: { readonly tgid: number; readonly openerPid: number }): void;
  /** The path may have changed (a watcher saw it): the healer should look now. */
  look(): void;
  /** A rotation name held something another user put there; nothing was written to it (FIFO). */
  foreign(): void;
  /** Something envmount did not make took the path; it was left untouched. */
  displaced(): void;
  /** Serving failed (`ENOENT`: the path or its directory went away). */
  failed(code: string | undefined, syscall: string | undefined): void;
  /** The backend stopped serving; `external`: someone else ended it (`umount`, `fusermount3 -u`). */
  stopped(external: boolean): void;
}

export interface BackendDeps {
  readonly uid: number;
  readonly writeTimeoutMs: number;
}

export interface MountBackend {
  readonly kind: BackendKind;
  /** Whether something is serving at the path now. */
  readonly running: boolean;
  /** Whether the content is locked in RAM (RLIMIT_MEMLOCK may not allow it). */
  readonly locked: boolean;
  /** The FIFO's inode (FIFO: the healer compares it with the path's); 0 for backends without one. */
  readonly inode: number;
  /** Places what serves at the path (reclaiming a leftover of a killed daemon) and serves `content` (copied).
   * Returns whether a leftover was reclaimed. */
  start(content: Buffer, decide: boolean): Promise<boolean>;
  /** Replaces what the next reader gets (copied: the caller wipes its buffer). */
  update(content: Buffer): void;
  setDecide(decide: boolean): void;
  /** Stops serving and waits (bounded) for the end; `removePlaceholder`: also removes what it put at the path if it
   * is still its own. Idempotent. */
  stop(removePlaceholder: boolean): Promise<void>;
  /** What the healer sees at the path, in the FIFO's terms: a placeholder of this backend that nothing serves is
   * `absent` (free to mount on again), its own live mount a FIFO of ours with `inode`. Throws what lstat throws. */
  inspect(): PathState;
  /** Whether the path holds what this backend serves (a cheap look for the healer); undefined: look at it with
   * the others in one native call (FIFO). */
  intact(): boolean | undefined;
}

export type BackendFactory = (record: MountRecord, deps: BackendDeps, signals: BackendSignals) => MountBackend;
