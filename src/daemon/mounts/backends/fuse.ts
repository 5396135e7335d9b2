/**
 * The FUSE backend (Linux): the mount path is a regular file served by the daemon through libfuse 3
 * (native/fuse-*.c), mounted over a placeholder (fuse-placeholder.ts). The kernel names the process of every open,
 * each open gets a handle of its own whose content is fixed when it is answered, and other users (root included)
 * are refused by the kernel (no allow_other). A policy that needs a decision hands every open up (fuse-opens.ts);
 * under policy `any` the session thread serves an open at once, without a round trip to JS, unless the opener may
 * be a known bulk reader (git, tar, rsync..., refused under every policy: core/bulk-readers.ts): an opener whose
 * executable or an argument bears one of their names (BULK_NAME_PATTERNS, checked in native/fuse-handup.c) is
 * handed up and judged in JS as before. The backend owns the session (FuseMount) and the placeholder.
 */
import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { BULK_NAME_PATTERNS } from '../../../core/bulk-readers.js';
import { EnvmountError, errnoCode } from '../../../core/errors.js';
import {
  type FuseEvent,
  type FuseMount,
  fuseFinishOpen,
  fuseIdentity,
  fuseMount,
  fuseSetContent,
  fuseSetDecide,
  fuseSetHandUp,
  fuseSupport,
  fuseUnmount,
} from '../../../native/index.js';
import type { PathState } from '../placement.js';
import type { MountRecord } from '../registry.js';
import { assertPrivateDirectory } from '../shared-dir.js';
import type { BackendDeps, BackendSignals, MountBackend } from './backend.js';
import { lookAtPlaceholder, placePlaceholder, removePlaceholder } from './fuse-placeholder.js';
import { waitStopped } from './stop-wait.js';

/** Why FUSE mounts cannot be made here (what it needs), or undefined when they can. */
export function fuseUnavailable(): string | undefined {
  const support = fuseSupport();
  return support.available ? undefined : support.reason;
}

/** The error for a FUSE mount this machine cannot make: what is missing, what FUSE needs, the FIFO way out. */
export function fuseUnavailableError(path: string, dir: string, missing: string): EnvmountError {
  return new EnvmountError(
    'FUSE_UNAVAILABLE',
    `Cannot mount "${path}" with the FUSE backend: ${missing}. FUSE needs Linux, the fuse3 package (fusermount3), /dev/fuse readable and writable by you, and envmount built where libfuse3-dev was installed. Or use the FIFO backend: \`envmount add ${dir} --backend fifo\`.`,
  );
}

/** fuseMount failed: EPERM/EIO are the kernel or fusermount3 saying no (the service unit's sandbox stops it). */
function mountRefused(path: string, dir: string, error: unknown): unknown {
  const code = errnoCode(error);
  if (code !== 'EPERM' && code !== 'EIO' && code !== 'EACCES') return error;
  return new EnvmountError(
    'FUSE_UNAVAILABLE',
    `Cannot mount "${path}" with the FUSE backend: the mount was refused (${code}); fusermount3 says why in envmountd's log (\`envmount service logs\` under the service). Under the systemd unit (NoNewPrivileges=yes) envmountd asks your user manager to run fusermount3 (\`systemd-run --user\`); where there is none, run envmountd from your session (\`envmountd start\`), or use \`envmount add ${dir} --backend fifo\`. Past 1000 FUSE mounts on the machine, fusermount3 refuses more unless mount_max in /etc/fuse.conf allows them.`,
    { cause: error },
  );
}

export class FuseBackend implements MountBackend {
  readonly kind = 'fuse' as const;
  readonly #record: MountRecord;
  readonly #deps: BackendDeps;
  readonly #signals: BackendSignals;
  #mount: FuseMount | undefined;
  /** The device and inode the path shows through the live mount (what the healer compares). */
  #dev = -1;
  #ino = 0;
  /** A digest of the content last handed down (never the content): the mtime moves only when it changes. */
  #digest: Buffer | undefined;
  #mtimeMs = 0;
  #stopped: Promise<void> = Promise.resolve();
  /** Whether the policy needs a decision for every open (Mount.setDecide); false: policy `any`. */
  #decide = true;
  /** While start() waits for the session thread to mount: its `mounted` or failed `stopped` settles this. */
  #starting: { resolve: (seen: { dev?: number; ino?: number }) => void; reject: (error: Error) => void } | undefined;
  #onStopped: () => void = () => undefined;
  locked = true;

  constructor(record: MountRecord, deps: BackendDeps, signals: BackendSignals) {
    this.#record = record;
    this.#deps = deps;
    this.#signals = signals;
  }

  get running(): boolean {
    return this.#mount !== undefined;
  }

  get inode(): number {
    return this.#mount ? this.#ino : 0;
  }

  async start(content: Buffer, decide: boolean): Promise<boolean> {
    if (this.#mount) return false;
    this.#decide = decide;
    const missing = fuseUnavailable();
    if (missing) throw fuseUnavailableError(this.#record.path, this.#record.dir, missing);
    const { path, dir } = this.#record;
    await assertPrivateDirectory(path, dir, this.#deps.uid, this.#record.allowSharedDir === true);
    const placed = await placePlaceholder(path, dir, this.#deps.uid);
    this.#stopped = new Promise((resolve) => {
      this.#onStopped = resolve;
    });
    // The session thread mounts (background): fusermount3 takes milliseconds, and many mounts restored at once
    // mount in parallel while this thread goes on. Opens wait for JS until the content and the hand-up names are
    // down (decide true), then only under a policy that needs decisions or for a possible bulk reader.
    fuseSetHandUp(BULK_NAME_PATTERNS);
    const mounted = new Promise<{ dev?: number; ino?: number }>((resolve, reject) => {
      this.#starting = { resolve, reject };
    });
    try {
      this.#mount = fuseMount(path, { decide: true, background: true }, (event) => this.#onEvent(event));
    } catch (error) {
      this.#starting = undefined;
      throw mountRefused(path, dir, error);
    }
    this.#mtimeMs = placed.mtimeMs;
    this.#hand(content);
    fuseSetDecide(this.#mount, this.#decide);
    try {
      const seen = await mounted;
      // The kernel's cached identity of the mounted file; asked through the mount (a getattr) only if unknown.
      const { dev, ino } = seen.dev !== undefined ? seen : await lstat(path);
      this.#dev = dev ?? -1;
      this.#ino = ino ?? 0;
    } catch (error) {
      throw mountRefused(path, dir, error);
    } finally {
      this.#starting = undefined;
    }
    return placed.reclaimed;
  }

  update(content: Buffer): void {
    if (this.#mount) this.#hand(content);
  }

  /** false (policy `any`): opens are served on the session thread, possible bulk readers excepted. */
  setDecide(decide: boolean): void {
    this.#decide = decide;
    if (this.#mount) fuseSetDecide(this.#mount, decide);
  }

  async stop(removeIt: boolean): Promise<void> {
    const mount = this.#mount;
    if (mount) {
      try {
        fuseUnmount(mount);
      } catch (error) {
        this.#onStopped();
        throw error;
      }
      await waitStopped(this.#stopped);
    }
    this.#mount = undefined;
    if (removeIt) await removePlaceholder(this.#record.path, this.#deps.uid);
  }

  inspect(): PathState {
    const { path } = this.#record;
    const look = lookAtPlaceholder(path, this.#deps.uid);
    switch (look.kind) {
      case 'absent':
      case 'placeholder':
      case 'stale':
        // Free to mount on again (start detaches a stale mount and reclaims the placeholder).
        return { kind: 'absent' };
      default: {
        const { stats } = look;
        if (this.#mount && stats.dev === this.#dev && stats.ino === this.#ino)
          return { kind: 'fifo', inode: this.#ino, mine: true, mode: stats.mode & 0o777 };
        if (stats.isFile()) return { kind: 'regular' };
        if (stats.isFIFO()) return { kind: 'fifo', inode: stats.ino, mine: stats.uid === this.#deps.uid, mode: 0 };
        if (stats.isSymbolicLink()) return { kind: 'symlink' };
        return { kind: stats.isDirectory() ? 'directory' : 'other' };
      }
    }
  }

  intact(): boolean {
    if (!this.#mount) return false;
    try {
      // From the kernel's cache: a look at every mount wakes none of their session threads.
      const seen = fuseIdentity(this.#record.path);
      return seen.dev === this.#dev && seen.ino === this.#ino;
    } catch {
      return false;
    }
  }

  /** Hands `content` down (copied); the mtime moves when it differs from the last. */
  #hand(content: Buffer): void {
    if (!this.#mount) return;
    const digest = createHash('sha256').update(content).digest();
    if (this.#digest && !digest.equals(this.#digest)) this.#mtimeMs = Math.max(Date.now(), this.#mtimeMs + 1);
    this.#digest = digest;
    this.locked = fuseSetContent(this.#mount, content, this.#mtimeMs).locked;
  }

  #onEvent(event: FuseEvent): void {
    const signals = this.#signals;
    switch (event.type) {
      case 'open': {
        const { ticket, tgid, pid, uid } = event;
        signals.opened({
          tgid,
          pid,
          uid,
          answer: (content) => {
            try {
              fuseFinishOpen(ticket, content);
            } catch (error) {
              // Already answered for us: the mount stopped while the decision was made.
              if (errnoCode(error) !== 'EINVAL') throw error;
            }
          },
        });
        return;
      }
      case 'served':
        signals.served({ tgid: event.tgid, bytes: event.bytes });
        return;
      case 'refused':
        return;
      case 'foreign-read':
        signals.foreignRead({ tgid: event.tgid, openerPid: event.openerPid });
        return;
      case 'released':
        signals.released({ tgid: event.tgid, bytes: event.bytes, whole: event.whole });
        return;
      case 'mounted':
        this.#starting?.resolve(event);
        return;
      case 'stopped':
        this.#mount = undefined;
        if (event.code && this.#starting) {
          // The mount failed: start() throws; nothing was serving.
          this.#onStopped();
          this.#starting.reject(Object.assign(new Error(`FUSE mount failed (${event.code})`), { code: event.code }));
          return;
        }
        this.#starting?.reject(Object.assign(new Error('FUSE mount stopped while mounting'), { code: 'ECANCELED' }));
        this.#onStopped();
        signals.stopped(event.external === true);
        return;
    }
  }
}
