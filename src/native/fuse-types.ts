/** The FUSE backend's types (native/fuse-*.c), loaded through src/native/index.ts. */
declare const fuseMountBrand: unique symbol;
/** A mounted FUSE session (native/fuse-*.c). */
export type FuseMount = { readonly [fuseMountBrand]: true };
declare const fuseTicketBrand: unique symbol;
/** A held open(2) of a FUSE mount under decide: answer it once with finishFuseOpen. */
export type FuseTicket = number & { readonly [fuseTicketBrand]: true };

export type FuseSupport = { readonly available: true } | { readonly available: false; readonly reason: string };

/** What a FUSE session thread reports. `pid` is the caller's thread id, `tgid` its process. */
export type FuseEvent =
  | {
      readonly type: 'open';
      readonly ticket: FuseTicket;
      readonly pid: number;
      readonly tgid: number;
      readonly uid: number;
      readonly gid: number;
      readonly flags: number;
    }
  /** decide false: an open got the current content (`bytes` long). */
  | {
      readonly type: 'served';
      readonly pid: number;
      readonly tgid: number;
      readonly uid: number;
      readonly gid: number;
      readonly flags: number;
      readonly bytes: number;
    }
  /** An open refused natively (for writing, or decide false without content): EACCES. */
  | {
      readonly type: 'refused';
      readonly pid: number;
      readonly tgid: number;
      readonly uid: number;
      readonly gid: number;
      readonly flags: number;
      readonly code: string;
    }
  /** A read from a process that neither opened the handle nor descends from its opener: EACCES. */
  | { readonly type: 'foreign-read'; readonly pid: number; readonly tgid: number; readonly openerPid: number }
  /** A handle closed: `bytes` served, `whole` when its reads reached the end. */
  | { readonly type: 'released'; readonly tgid: number; readonly bytes: number; readonly whole: boolean }
  /** options.background: the session thread has mounted; `dev` and `ino`: what lstat() of the path now shows
   * (absent when the kernel would not say without asking the session). */
  | { readonly type: 'mounted'; readonly dev?: number; readonly ino?: number }
  /** The session ended and the mount is gone (`external`: someone else unmounted it; `code`, `syscall` 'mount': a
   * background mount failed). */
  | { readonly type: 'stopped'; readonly external?: boolean; readonly code?: string; readonly syscall?: string };

/** `background`: the session thread mounts (unprivileged, fusermount3 takes milliseconds per mount) and reports
 * `mounted`, or `stopped` with the error; otherwise fuseMount mounts before it returns and throws on failure. */
export interface FuseMountOptions {
  readonly decide: boolean;
  readonly background?: boolean;
}

/** The addon's FUSE functions: present when it was built with libfuse 3. */
export interface FuseAddon {
  fuseMount(path: string, options: FuseMountOptions, onEvent: (event: FuseEvent) => void): FuseMount;
  fuseSetContent(mount: FuseMount, content: Buffer | null, mtimeMs: number): { locked: boolean };
  fuseSetDecide(mount: FuseMount, decide: boolean): void;
  fuseSetHandUp(patterns: readonly string[] | null): void;
  fuseFinishOpen(ticket: FuseTicket, content: Buffer | null): void;
  fuseUnmount(mount: FuseMount): void;
  fuseDetach(path: string): void;
  fuseMounted(path: string): boolean;
  fuseIdentity(path: string): { dev: number; ino: number };
  fuseUseRunner(runner: FuseRunner | null): void;
}

/**
 * How fusermount3 runs when this process cannot run it itself (no_new_privs: a systemd user unit's sandbox): each
 * prefix is an argv that runs the rest of its arguments elsewhere (`systemd-run --user --pipe --wait ... --`).
 * `mount` must give fusermount3 `_FUSE_COMMFD=0`: it sends the /dev/fuse descriptor over its standard input.
 */
export interface FuseRunner {
  readonly mount: readonly string[];
  readonly unmount: readonly string[];
}
