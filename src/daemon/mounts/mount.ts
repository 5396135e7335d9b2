/**
 * One mount: the FIFO at a path and the native thread that serves it. The Mount owns its thread and the FIFO
 * inode the thread reports; it knows nothing of templates or values beyond the bytes it is handed.
 */
import type { Logger } from 'pino';
import type { MountState } from '../../control/protocol.js';
import {
  type MountEvent,
  type MountHandle,
  mountInode,
  mountLocked,
  setMountContent,
  setMountDecide,
  startMount,
  stopMount,
} from '../../native/index.js';
import { displacedReason, pathGoneReason, replacedReason, servingFailedReason } from './mount-reasons.js';
import { inspectPath, placeFifo, removeOwnFifo, rotationTempPath } from './placement.js';
import type { MountRecord } from './registry.js';
import { assertPrivateDirectory } from './shared-dir.js';

export interface MountDeps {
  readonly uid: number;
  readonly writeTimeoutMs: number;
  readonly logger: Logger;
}

/** What the mount reports upward: how each read ended (served, drained, closed early, timed out, a write error: the
 * final event of every open) and readers that need a decision. */
export interface MountHooks {
  readonly onOutcome: (event: MountEvent) => void;
  readonly onReader: (event: MountEvent) => void;
  /** The path changed under the mount (the watcher says): the healer should look at it now. */
  readonly onLook: () => void;
  /** A rotation found something not ours at its name (another user exchanged it); nothing was written to it. */
  readonly onForeign: () => void;
}

const STOP_WAIT_MS = 2000;

export class Mount {
  // Replaced (not mutated) when its store environment is renamed; the path never changes.
  record: MountRecord;
  readonly #deps: MountDeps;
  readonly #hooks: MountHooks;
  #decide = false;
  #handle: MountHandle | undefined;
  #inode = 0;
  #stopped: Promise<void> = Promise.resolve();
  #onStopped: () => void = () => undefined;
  // Written only by the transitions below (start, stop, pause, displace, fail) and the thread's events.
  #state: MountState = 'stopped';
  #reason: string | undefined;
  reads = 0;
  lastReadAt: Date | undefined;
  bytesPerRead = 0;
  contentLocked = true;

  constructor(record: MountRecord, deps: MountDeps, hooks: MountHooks) {
    this.record = record;
    this.#deps = deps;
    this.#hooks = hooks;
  }

  /** Whether each reader is handed up for a decision (true) or served the content at once (false). */
  setDecide(decide: boolean): void {
    this.#decide = decide;
    if (this.#handle) setMountDecide(this.#handle, decide);
  }

  get state(): MountState {
    return this.#state;
  }

  /** Why the mount is not serving, as `status` shows it (mount-reasons.ts); undefined while it serves. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Waits for its path or directory (`reason`) to come back: the healer resumes it. The thread is not running. */
  pause(reason: string): void {
    this.#state = 'paused';
    this.#reason = reason;
  }

  /**
   * Steps aside for something not ours at the path, left untouched: `what` it is, in words, and whether a template
   * is beside it (for the advice); or, `what` undefined, something the thread saw replace its pipe.
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

  /** The inode of the FIFO the thread waits on (0 while not started): asked of the thread, not its last report. */
  get inode(): number {
    return this.#handle ? mountInode(this.#handle) : this.#inode;
  }

  /** The thread's handle while it runs, for looks at many mounts in one native call (lookAtMounts). */
  get handle(): MountHandle | undefined {
    return this.#handle;
  }

  /** Places (or reclaims) the FIFO and starts serving `content` (copied: the caller wipes its buffer). */
  async start(content: Buffer): Promise<void> {
    if (this.#handle) return;
    const allowShared = this.record.allowSharedDir === true;
    await assertPrivateDirectory(this.path, this.record.dir, this.#deps.uid, allowShared);
    const reclaimed = await placeFifo(this.path, this.record.dir, this.#deps.uid);
    const placed = await inspectPath(this.path, this.#deps.uid);
    this.#inode = placed.kind === 'fifo' ? placed.inode : 0;
    this.#stopped = new Promise((resolve) => {
      this.#onStopped = resolve;
    });
    this.#handle = startMount(
      this.path,
      rotationTempPath(this.path),
      this.#deps.writeTimeoutMs,
      (event) => this.#onEvent(event),
      content,
      this.#decide,
      !allowShared,
    );
    this.bytesPerRead = content.length;
    this.contentLocked = mountLocked(this.#handle);
    this.#state = 'serving';
    this.#reason = undefined;
    this.#deps.logger.info({ path: this.path, reclaimed }, reclaimed ? 'mount reclaimed' : 'mount placed');
  }

  /** Replaces what the next reader gets (copied: the caller wipes its buffer). */
  update(content: Buffer): void {
    this.bytesPerRead = content.length;
    if (this.#handle) this.contentLocked = setMountContent(this.#handle, content).locked;
  }

  /** Stops the thread and removes the FIFO if it is still the one this mount made. Idempotent. */
  async stop(removeFifo = true): Promise<void> {
    const handle = this.#handle;
    if (handle) stopMount(handle);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_WAIT_MS);
    });
    try {
      if (await Promise.race([this.#stopped.then(() => false), timedOut])) {
        this.#deps.logger.warn({ path: this.path }, 'mount thread did not stop in time');
      }
    } finally {
      clearTimeout(timer);
    }
    this.#handle = undefined;
    if (removeFifo && this.#inode !== 0) {
      await removeOwnFifo(this.path, this.#inode, this.#deps.uid);
    }
    if (this.#state === 'serving') this.#state = 'stopped';
  }

  #onEvent(event: MountEvent): void {
    const log = this.#deps.logger;
    if (event.inode !== 0) this.#inode = event.inode;
    switch (event.type) {
      case 'served':
        this.reads += event.copies ?? 1;
        this.lastReadAt = new Date();
        log.debug({ path: this.path, bytes: event.bytes, micros: Math.round(event.micros) }, 'served');
        this.#hooks.onOutcome(event);
        return;
      case 'reader':
        this.reads++;
        this.lastReadAt = new Date();
        log.debug({ path: this.path, holders: event.holders?.length, micros: Math.round(event.micros) }, 'reader');
        this.#hooks.onReader(event);
        return;
      case 'look':
        this.#hooks.onLook();
        return;
      case 'foreign':
        log.warn({ path: this.path }, 'a rotation name held a pipe envmount did not make; left untouched, not served');
        this.#hooks.onForeign();
        return;
      case 'drained':
        log.debug({ path: this.path, bytes: event.bytes }, 'large content drained');
        this.#hooks.onOutcome(event);
        return;
      case 'closed-early':
        this.reads++;
        this.lastReadAt = new Date();
        log.info({ path: this.path, bytes: event.bytes }, 'reader closed before reading everything');
        this.#hooks.onOutcome(event);
        return;
      case 'timeout':
        log.warn({ path: this.path, bytes: event.bytes }, 'reader did not read in time; gave up on it');
        this.#hooks.onOutcome(event);
        return;
      case 'displaced':
        this.displace();
        log.warn({ path: this.path }, 'mount displaced');
        return;
      case 'error':
        if (event.syscall === 'write') {
          // One read's write failed; the mount goes on serving.
          log.warn({ path: this.path, code: event.code }, 'write to a reader failed');
          this.#hooks.onOutcome(event);
          return;
        }
        if (event.code === 'ENOENT') this.pause(pathGoneReason(this.path, this.record.dir));
        else this.fail(servingFailedReason(event.syscall, event.code));
        log.warn({ path: this.path, code: event.code, syscall: event.syscall }, 'mount thread error');
        return;
      case 'stopped':
        this.#handle = undefined;
        this.#onStopped();
        return;
    }
  }
}
