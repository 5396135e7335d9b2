/**
 * The FIFO backend: a named pipe at the path and one native thread that waits in open(), rotates the inode at each
 * reader and writes the content once (native/mount.c). It owns the thread and the FIFO inode the thread reports.
 */
import {
  type MountEvent,
  type MountHandle,
  mountInode,
  mountLocked,
  setMountContent,
  setMountDecide,
  startMount,
  stopMount,
} from '../../../native/index.js';
import { inspectPathSync, type PathState, placeFifo, removeOwnFifo, rotationTempPath } from '../placement.js';
import type { MountRecord } from '../registry.js';
import { assertPrivateDirectory } from '../shared-dir.js';
import type { BackendDeps, BackendSignals, MountBackend } from './backend.js';
import { waitStopped } from './stop-wait.js';

export class FifoBackend implements MountBackend {
  readonly kind = 'fifo' as const;
  readonly #record: MountRecord;
  readonly #deps: BackendDeps;
  readonly #signals: BackendSignals;
  #handle: MountHandle | undefined;
  #inode = 0;
  #decide = false;
  #stopped: Promise<void> = Promise.resolve();
  #onStopped: () => void = () => undefined;
  locked = true;

  constructor(record: MountRecord, deps: BackendDeps, signals: BackendSignals) {
    this.#record = record;
    this.#deps = deps;
    this.#signals = signals;
  }

  get running(): boolean {
    return this.#handle !== undefined;
  }

  /** The inode of the FIFO the thread waits on (0 while not started): asked of the thread, not its last report. */
  get inode(): number {
    return this.#handle ? mountInode(this.#handle) : this.#inode;
  }

  /** The thread's handle while it runs, for looks at many mounts in one native call (lookAtMounts). */
  get handle(): MountHandle | undefined {
    return this.#handle;
  }

  async start(content: Buffer, decide: boolean): Promise<boolean> {
    if (this.#handle) return false;
    const { path, dir } = this.#record;
    const allowShared = this.#record.allowSharedDir === true;
    await assertPrivateDirectory(path, dir, this.#deps.uid, allowShared);
    const reclaimed = await placeFifo(path, dir, this.#deps.uid);
    const placed = inspectPathSync(path, this.#deps.uid);
    this.#inode = placed.kind === 'fifo' ? placed.inode : 0;
    this.#stopped = new Promise((resolve) => {
      this.#onStopped = resolve;
    });
    this.#decide = decide;
    this.#handle = startMount(
      path,
      rotationTempPath(path),
      this.#deps.writeTimeoutMs,
      (event) => this.#onEvent(event),
      content,
      decide,
      !allowShared,
    );
    this.locked = mountLocked(this.#handle);
    return reclaimed;
  }

  update(content: Buffer): void {
    if (this.#handle) this.locked = setMountContent(this.#handle, content).locked;
  }

  setDecide(decide: boolean): void {
    this.#decide = decide;
    if (this.#handle) setMountDecide(this.#handle, decide);
  }

  get decide(): boolean {
    return this.#decide;
  }

  async stop(removePlaceholder: boolean): Promise<void> {
    if (this.#handle) stopMount(this.#handle);
    await waitStopped(this.#stopped);
    this.#handle = undefined;
    if (removePlaceholder && this.#inode !== 0) await removeOwnFifo(this.#record.path, this.#inode, this.#deps.uid);
  }

  inspect(): PathState {
    return inspectPathSync(this.#record.path, this.#deps.uid);
  }

  intact(): boolean | undefined {
    return undefined;
  }

  #onEvent(event: MountEvent): void {
    if (event.inode !== 0) this.#inode = event.inode;
    const signals = this.#signals;
    switch (event.type) {
      case 'reader':
        signals.fifoReader(event);
        return;
      case 'look':
        signals.look();
        return;
      case 'foreign':
        signals.foreign();
        return;
      case 'displaced':
        signals.displaced();
        return;
      case 'error':
        // One read's write failed: the mount goes on serving.
        if (event.syscall === 'write') signals.fifoEnd(event);
        else signals.failed(event.code, event.syscall);
        return;
      case 'stopped':
        this.#handle = undefined;
        this.#onStopped();
        signals.stopped(false);
        return;
      default:
        // served, drained, closed-early, timeout: the end of one read.
        signals.fifoEnd(event);
    }
  }
}
