/**
 * One mount: what serves its path (a backend: backends/backend.ts) and the state a user sees. The Mount owns its
 * backend and the counters; it knows nothing of templates or values beyond the bytes it is handed.
 */
import type { Logger } from 'pino';
import type { MountState } from '../../control/protocol.js';
import type { BackendKind } from '../../core/mount-backends.js';
import type { MountEvent, MountHandle } from '../../native/index.js';
import type { BackendSignals, MountBackend, OpenRequest } from './backends/backend.js';
import { createBackend } from './backends/backends.js';
import {
  displacedReason,
  pathGoneReason,
  replacedReason,
  servingFailedReason,
  unmountedReason,
} from './mount-reasons.js';
import type { PathState } from './placement.js';
import type { MountRecord } from './registry.js';

export interface MountDeps {
  readonly uid: number;
  readonly writeTimeoutMs: number;
  readonly logger: Logger;
}

/** What the mount reports upward: how each read ended and readers that need a decision. */
export interface MountHooks {
  /** FIFO: the final event of every open (served, drained, closed early, timed out, a write error). */
  readonly onOutcome: (event: MountEvent) => void;
  /** FIFO: a pipe whose holders need a decision. */
  readonly onReader: (event: MountEvent) => void;
  /** FUSE: an open waiting for the content of its handle. */
  readonly onOpen: (open: OpenRequest) => void;
  /** FUSE: a handle served without a decision, and the close of each handle. */
  readonly onServed: (reader: { readonly tgid: number; readonly bytes: number }) => void;
  readonly onReleased: (read: { readonly tgid: number; readonly bytes: number; readonly whole: boolean }) => void;
  /** FUSE: a read through a handle by a process that neither opened it nor inherited it (refused). */
  readonly onForeignRead: (read: { readonly tgid: number; readonly openerPid: number }) => void;
  /** The path changed under the mount (the watcher says): the healer should look at it now. */
  readonly onLook: () => void;
  /** A rotation found something not ours at its name (another user exchanged it); nothing was written to it. */
  readonly onForeign: () => void;
  /** The backend stopped (on its own, or after stop()). */
  readonly onStopped: () => void;
}

/** Hooks that do nothing (tests; a mount nobody reads). A FUSE open is answered EACCES: it must not hang. */
export const IDLE_HOOKS: MountHooks = {
  onOutcome: () => undefined,
  onReader: () => undefined,
  onOpen: (open) => open.answer(null),
  onServed: () => undefined,
  onReleased: () => undefined,
  onForeignRead: () => undefined,
  onLook: () => undefined,
  onForeign: () => undefined,
  onStopped: () => undefined,
};

export class Mount {
  // Replaced (not mutated) when its store environment is renamed; the path never changes.
  record: MountRecord;
  readonly #deps: MountDeps;
  readonly #backend: MountBackend;
  #decide = false;
  // Written only by the transitions below (start, stop, pause, displace, fail) and the backend's signals.
  #state: MountState = 'stopped';
  #reason: string | undefined;
  reads = 0;
  lastReadAt: Date | undefined;
  bytesPerRead = 0;
  contentLocked = true;

  constructor(record: MountRecord, deps: MountDeps, hooks: MountHooks) {
    this.record = record;
    this.#deps = deps;
    this.#backend = createBackend(record, deps, this.#signals(hooks));
  }

  get backend(): BackendKind {
    return this.#backend.kind;
  }

  /** Whether each reader is handed up for a decision (true) or served the content at once (false). */
  setDecide(decide: boolean): void {
    this.#decide = decide;
    this.#backend.setDecide(decide);
  }

  get state(): MountState {
    return this.#state;
  }

  /** Why the mount is not serving, as `status` shows it (mount-reasons.ts); undefined while it serves. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Waits for its path or directory (`reason`) to come back: the healer resumes it. The backend is not serving. */
  pause(reason: string): void {
    this.#state = 'paused';
    this.#reason = reason;
  }

  /**
   * Steps aside for something not ours at the path, left untouched: `what` it is, in words, and whether a template
   * is beside it (for the advice); or, `what` undefined, something the backend saw replace its pipe.
   */
  displace(what?: string, hasTemplate = false): void {
    this.#state = 'displaced';
    this.#reason =
      what === undefined
        ? replacedReason(this.path, this.record.dir)
        : displacedReason(this.path, this.record.dir, what, hasTemplate);
  }

  /** Could not be placed or serve: `message` says why (`envmount add` retries it). */
  fail(message: string): void {
    this.#state = 'error';
    this.#reason = message;
  }

  get path(): string {
    return this.record.path;
  }

  /** The inode of the FIFO the thread waits on (0 while not started, or without a FIFO). */
  get inode(): number {
    return this.#backend.inode;
  }

  /** The FIFO thread's handle while it runs, for looks at many mounts in one native call (lookAtMounts). */
  get handle(): MountHandle | undefined {
    return (this.#backend as { handle?: MountHandle }).handle;
  }

  /** What the healer sees at the path, in the FIFO's terms (backend.inspect). */
  inspect(): PathState {
    return this.#backend.inspect();
  }

  /** Whether the path holds what the backend serves; undefined: ask lookAtMounts (FIFO). */
  intact(): boolean | undefined {
    return this.#backend.intact();
  }

  /** Places (or reclaims) what serves the path and starts serving `content` (copied: the caller wipes it). */
  async start(content: Buffer): Promise<void> {
    if (this.#backend.running) return;
    const reclaimed = await this.#backend.start(content, this.#decide);
    this.bytesPerRead = content.length;
    this.contentLocked = this.#backend.locked;
    this.#state = 'serving';
    this.#reason = undefined;
    this.#deps.logger.info(
      { path: this.path, reclaimed, backend: this.backend },
      reclaimed ? 'mount reclaimed' : 'mount placed',
    );
  }

  /** Replaces what the next reader gets (copied: the caller wipes its buffer). */
  update(content: Buffer): void {
    this.bytesPerRead = content.length;
    this.#backend.update(content);
    this.contentLocked = this.#backend.locked;
  }

  /** Stops serving and removes what the backend put at the path if it is still its own (`removeIt`). Idempotent. */
  async stop(removeIt = true): Promise<void> {
    await this.#backend.stop(removeIt);
    if (this.#state === 'serving') this.#state = 'stopped';
  }

  #read(): void {
    this.reads++;
    this.lastReadAt = new Date();
  }

  #signals(hooks: MountHooks): BackendSignals {
    const log = this.#deps.logger;
    return {
      fifoReader: (event) => {
        this.#read();
        log.debug({ path: this.path, holders: event.holders?.length, micros: Math.round(event.micros) }, 'reader');
        hooks.onReader(event);
      },
      fifoEnd: (event) => {
        if (event.type === 'served') {
          this.reads += (event.copies ?? event.count ?? 1) - 1;
          this.#read();
        } else if (event.type === 'closed-early') this.#read();
        if (event.type === 'error') log.warn({ path: this.path, code: event.code }, 'write to a reader failed');
        else log.debug({ path: this.path, type: event.type, bytes: event.bytes }, 'read ended');
        hooks.onOutcome(event);
      },
      opened: (open) => {
        this.#read();
        hooks.onOpen(open);
      },
      served: (reader) => {
        this.#read();
        hooks.onServed(reader);
      },
      released: (read) => hooks.onReleased(read),
      foreignRead: (read) => hooks.onForeignRead(read),
      look: () => hooks.onLook(),
      foreign: () => {
        log.warn({ path: this.path }, 'a rotation name held a pipe envmount did not make; left untouched, not served');
        hooks.onForeign();
      },
      displaced: () => {
        this.displace();
        log.warn({ path: this.path }, 'mount displaced');
      },
      failed: (code, syscall) => {
        if (code === 'ENOENT') this.pause(pathGoneReason(this.path, this.record.dir));
        else this.fail(servingFailedReason(syscall, code));
        log.warn({ path: this.path, code, syscall }, 'mount thread error');
      },
      stopped: (external) => {
        if (external && this.#state === 'serving') {
          // Someone unmounted it (umount, fusermount3 -u): the healer mounts it again on its placeholder.
          this.pause(unmountedReason(this.path, this.record.dir));
          log.warn({ path: this.path }, 'mount unmounted from outside');
        }
        hooks.onStopped();
      },
    };
  }
}
