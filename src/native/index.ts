/**
 * The only loader of the native addon (native/*.c, built by node-gyp at install). Everything native goes through
 * the typed interface below; the addon validates its arguments and throws Errors with an errno `code`.
 */
import { createRequire } from 'node:module';

export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

export interface Hardening {
  readonly dumpable: boolean;
  readonly coreLimit: number;
}

export type MountEventType = 'served' | 'closed-early' | 'timeout' | 'error' | 'displaced' | 'stopped';

/** What a mount thread reports. `bytes` written; `inode` of the FIFO served (or at the path, for `stopped`). */
export interface MountEvent {
  readonly type: MountEventType;
  readonly bytes: number;
  readonly inode: number;
  /** Time from the reader's arrival to the close of the write end. */
  readonly micros: number;
  readonly code?: string;
  readonly syscall?: string;
}

declare const handleBrand: unique symbol;
export type MountHandle = { readonly [handleBrand]: true };

interface Addon {
  mkfifo(path: string, mode: number): void;
  peerCredentials(fd: number): PeerCredentials;
  harden(): Hardening;
  mountStart(
    path: string,
    tempPath: string,
    writeTimeoutMs: number,
    onEvent: (event: MountEvent) => void,
    content: Buffer,
  ): MountHandle;
  mountSetContent(handle: MountHandle, content: Buffer): { locked: boolean };
  mountStop(handle: MountHandle): void;
}

const require = createRequire(import.meta.url);
// src/native/index.ts and dist/native/index.js both sit two levels below the package root.
const addon = require('../../build/Release/envmount.node') as Addon;

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
 * Starts the rendezvous thread of one mount. The path must hold a FIFO of this user. The thread blocks in open()
 * (no libuv pool thread), rotates the inode at each reader, writes the current content once, and reports.
 * `content` is the first content (copied); the caller wipes its own buffer.
 */
export function startMount(
  path: string,
  tempPath: string,
  writeTimeoutMs: number,
  onEvent: (event: MountEvent) => void,
  content: Buffer,
): MountHandle {
  return addon.mountStart(path, tempPath, writeTimeoutMs, onEvent, content);
}

/** Hands the rendered bytes to the thread (copied, mlocked where allowed). The caller wipes its own buffer. */
export function setMountContent(handle: MountHandle, content: Buffer): { locked: boolean } {
  return addon.mountSetContent(handle, content);
}

/** Ends the thread; a `stopped` event follows. Idempotent. */
export function stopMount(handle: MountHandle): void {
  addon.mountStop(handle);
}
