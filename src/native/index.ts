/**
 * The typed interface to the native addon (native/*.c, loaded by load.ts; the FUSE functions are in fuse.ts).
 * Everything native goes through it; the addon validates its arguments and throws Errors with an errno `code`.
 */
import type { FuseAddon, FuseSupport } from './fuse-types.js';
import { loaded } from './load.js';

export {
  fuseDetach,
  fuseFinishOpen,
  fuseIdentity,
  fuseMount,
  fuseMounted,
  fuseSetContent,
  fuseSetDecide,
  fuseSetHandUp,
  fuseSupport,
  fuseUnmount,
  fuseUseRunner,
} from './fuse.js';
export type { FuseEvent, FuseMount, FuseMountOptions, FuseRunner, FuseSupport, FuseTicket } from './fuse-types.js';

export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

export interface Hardening {
  readonly dumpable: boolean;
  readonly coreLimit: number;
}

export type MountEventType =
  | 'served'
  | 'closed-early'
  | 'timeout'
  | 'error'
  | 'displaced'
  | 'stopped'
  | 'reader'
  | 'drained'
  /** The watcher (native/watch.c) saw the mount's path change to something else: look at it. */
  | 'look'
  /** A rotation name held something not ours after mkfifo (another user exchanged it): never written to. */
  | 'foreign';

/** A process holding a served FIFO open (`mode`: the fd's access mode). */
export interface FifoHolder {
  readonly pid: number;
  readonly fd: number;
  readonly mode: 'r' | 'w' | 'rw';
}

declare const ticketBrand: unique symbol;
/** The open write end of one reader's pipe, waiting for a policy decision. Finish it exactly once. */
export type Ticket = { readonly [ticketBrand]: true };

export interface TicketResult {
  readonly bytes: number;
  /** A writer thread is finishing the rest; a `drained` (or `timeout`) event follows. */
  readonly pending: boolean;
  readonly closedEarly: boolean;
  readonly code?: string;
}

/** What a mount thread reports. `bytes` written; `inode` of the FIFO served (or at the path, for `stopped`). */
export interface MountEvent {
  readonly type: MountEventType;
  readonly bytes: number;
  readonly inode: number;
  /** Time from the reader's arrival to the close of the write end. */
  readonly micros: number;
  readonly code?: string;
  readonly syscall?: string;
  /** `reader` events: who holds the served pipe (other than the daemon), found before any byte is written. */
  readonly holders?: readonly FifoHolder[];
  readonly ticket?: Ticket;
  /** Readers that shared one pipe and each got a copy of their own (see native/share.c). */
  readonly copies?: number;
  /** Readers native/share.c saw on a shared pipe; those beyond `copies` got nothing (EOF). */
  readonly readers?: number;
  /** `served`: this many reads in a row, each one reader given the same content whole, reported as one event (the
   * latest `inode`, the longest `micros`). Absent for one read. */
  readonly count?: number;
}

/** A scan of who holds a pipe: the holders, and how many processes of this user could not be scanned (their fd
 * table is closed to the daemon: non-dumpable), which may hold it unseen. */
export interface HolderScan {
  readonly holders: FifoHolder[];
  readonly unreadable: number;
}

declare const handleBrand: unique symbol;
export type MountHandle = { readonly [handleBrand]: true };

interface Addon extends Partial<FuseAddon> {
  fuseSupport(): FuseSupport;
  mkfifo(path: string, mode: number): void;
  peerCredentials(fd: number): PeerCredentials;
  harden(): Hardening;
  scrubEnvironment(name: string): number;
  mountStart(
    path: string,
    tempPath: string,
    writeTimeoutMs: number,
    onEvent: (event: MountEvent) => void,
    content: Buffer,
    decide: boolean,
    strictDir: boolean,
  ): MountHandle;
  mountSetContent(handle: MountHandle, content: Buffer): { locked: boolean };
  mountStop(handle: MountHandle): void;
  mountSetDecide(handle: MountHandle, decide: boolean): void;
  mountsLook(handles: readonly MountHandle[]): Int32Array;
  mountInode(handle: MountHandle): number;
  mountLocked(handle: MountHandle): boolean;
  watchAvailable(): boolean;
  ticketFinish(ticket: Ticket, content: Buffer, readers: number): TicketResult;
  fifoHolders(path: string): FifoHolder[];
  ticketHolders(ticket: Ticket): HolderScan;
  notify(socket: string, message: string): void;
  mountsSetPrivateGroup(gid: number): void;
  pathHasAcl(path: string): boolean;
}

const addon = loaded as Addon;

/** Creates a FIFO; never replaces anything (EEXIST). */
export function mkfifo(path: string, mode = 0o600): void {
  addon.mkfifo(path, mode);
}

/** SO_PEERCRED (Linux) / getpeereid (macOS) of a connected unix socket's fd. */
export function peerCredentials(fd: number): PeerCredentials {
  return addon.peerCredentials(fd);
}

/** Turns off core dumps and makes the process non-dumpable (no ptrace or /proc/PID/mem by the same user). */
export function harden(): Hardening {
  return addon.harden();
}

/**
 * Overwrites NAME's value in the process's original environment block (what /proc/PID/environ shows) with NUL
 * bytes; deleting the variable from the environment object alone leaves it there. Returns how many were found
 * (Linux; 0 elsewhere).
 */
export function scrubEnvironment(name: string): number {
  return addon.scrubEnvironment(name);
}

/**
 * Starts the rendezvous thread of one mount. The path must hold a FIFO of this user. The thread blocks in open()
 * (no libuv pool thread), rotates the inode at each reader, writes the current content once, and reports.
 * `content` is the first content (copied; the caller wipes its own buffer); `decide` the first mode (setMountDecide).
 * `tempPrefix`: each rotation's name is it plus a random suffix. `strictDir`: lookAtMounts reports `sharedDir` when
 * other users can write the mount's directory.
 */
export function startMount(
  path: string,
  tempPrefix: string,
  writeTimeoutMs: number,
  onEvent: (event: MountEvent) => void,
  content: Buffer,
  decide: boolean,
  strictDir = true,
): MountHandle {
  return addon.mountStart(path, tempPrefix, writeTimeoutMs, onEvent, content, decide, strictDir);
}

/** Hands the rendered bytes to the thread (copied, mlocked where allowed). The caller wipes its own buffer. */
export function setMountContent(handle: MountHandle, content: Buffer): { locked: boolean } {
  return addon.mountSetContent(handle, content);
}

/** Ends the thread; a `stopped` event follows. Idempotent. */
export function stopMount(handle: MountHandle): void {
  addon.mountStop(handle);
}

/** Whether readers are handed to JS for a decision (`reader` events with a ticket) or served at once. */
export function setMountDecide(handle: MountHandle, decide: boolean): void {
  addon.mountSetDecide(handle, decide);
}

/** What is at each mount's path against its thread's FIFO (one lstat each, in C, in one call): see MOUNT_LOOK. */
export function lookAtMounts(handles: readonly MountHandle[]): Int32Array {
  return addon.mountsLook(handles);
}

/** Codes of lookAtMounts; below 0: -errno of lstat. */
export const MOUNT_LOOK = {
  same: 0,
  absent: 1,
  otherFifo: 2,
  foreignFifo: 3,
  regular: 4,
  symlink: 5,
  directory: 6,
  other: 7,
  /** The mount's FIFO, in a directory another user can write (strict mounts only). */
  sharedDir: 8,
} as const;

/** The inode of the FIFO the mount thread waits on now (0 before it started). */
export function mountInode(handle: MountHandle): number {
  return addon.mountInode(handle);
}

/** Whether mount paths are watched (inotify: Linux), so that the healer's timer may look at them rarely. */
export function watchAvailable(): boolean {
  return addon.watchAvailable();
}

/** Whether the content the mount holds is locked in RAM (RLIMIT_MEMLOCK may not allow it). */
export function mountLocked(handle: MountHandle): boolean {
  return addon.mountLocked(handle);
}

/**
 * Writes `content` (empty: nothing) to a waiting reader and closes. `readers` above one (processes sharing the
 * pipe) gives each its own copy from a thread (`pending`). Throws EINVAL if already finished.
 */
export function finishTicket(ticket: Ticket, content: Buffer, readers = 1): TicketResult {
  return addon.ticketFinish(ticket, content, readers);
}

/** Every other process holding the FIFO at `path` open, from /proc (Linux) or libproc (macOS). */
export function fifoHolders(path: string): FifoHolder[] {
  return addon.fifoHolders(path);
}

/** The user's private group (or -1): its write bit on a mount directory is no other user's (native/rotate.c). */
export function setPrivateGroup(gid: number): void {
  addon.mountsSetPrivateGroup(gid);
}

/** Whether the directory at `path` has an extended POSIX access ACL (then other users may write it). */
export function pathHasAcl(path: string): boolean {
  return addon.pathHasAcl(path);
}

/** Who holds a waiting reader's pipe now (threads with an fd table of their own included): the confirming scan
 * before a decision is acted on. */
export function ticketHolders(ticket: Ticket): HolderScan {
  return addon.ticketHolders(ticket);
}

/**
 * Sends `message` ("READY=1", "STOPPING=1") to the service manager's notification socket ($NOTIFY_SOCKET: a path
 * or an @abstract name), as sd_notify(3) does, from this process (systemd's NotifyAccess=main). Never blocks.
 */
export function notifyServiceManager(socket: string, message: string): void {
  addon.notify(socket, message);
}
