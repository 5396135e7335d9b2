/**
 * Asking the user. A read that needs approval becomes a pending request; it ends when the user approves or denies
 * it (`envmount approve ID` / `deny ID`, or a desktop dialog) or when the timeout passes. Approvals can grant the
 * same executable on the same mount for a while (`--for`); `--always` is turned into a stored rule by the caller.
 */
import type { Approval, WaitingRead } from '../../control/protocol.js';
import type { ProcessInfo } from './process-info.js';

/** `stopped`: the daemon stopped before an answer came; `removed`: the mount was removed meanwhile. */
/** `exited`: the asker was gone when someone answered (`envmount approve` checks); nobody decided. */
export type Answer = 'allow' | 'deny' | 'timeout' | 'stopped' | 'removed' | 'exited';

/** A read waiting for an answer, as `envmount approvals` shows it (the protocol's shape). */
export type PendingApproval = Approval;

export interface ApproveOptions {
  /** Also let this executable read this mount for this long without asking. */
  readonly forMs?: number;
}

interface Waiting {
  readonly request: PendingApproval;
  readonly reader: ProcessInfo;
  readonly answer: (answer: Answer) => void;
  readonly timer: NodeJS.Timeout;
}

/** The process behind a request, as /proc described it when it asked (for a dialog's facts). */
export interface Asker {
  readonly reader: ProcessInfo;
  readonly ancestors: readonly ProcessInfo[];
}

/** Shows a request where the user can answer it (a desktop dialog); resolves with the answer, if any. */
export type Prompter = (
  request: PendingApproval,
  signal: AbortSignal,
  asker: Asker,
) => Promise<'allow' | 'deny' | undefined>;

/**
 * Tells the person that a read waits, where they will see it (a line on the reader's terminal:
 * src/daemon/readers/wait-notice.ts); called once per read that waits, never for an agent's own request.
 */
export type WaitNotice = (request: PendingApproval, asker: Asker) => void;

export class Approvals {
  readonly #timeoutMs: number;
  readonly #prompter: Prompter | undefined;
  readonly #notice: WaitNotice | undefined;
  // Owned here: pending requests by id, and grants by "mount\0identity" with their expiry (ms since epoch).
  readonly #waiting = new Map<number, Waiting>();
  readonly #grants = new Map<string, number>();
  #nextId = 1;

  constructor(timeoutMs: number, prompter?: Prompter, notice?: WaitNotice) {
    this.#timeoutMs = timeoutMs;
    this.#prompter = prompter;
    this.#notice = notice;
  }

  /**
   * Registers a request and resolves with the user's answer or `timeout`. `action`: an agent's request (from
   * `envmount mcp`, whose process is `reader`) in words; it is answered only by `envmount approve` in a terminal,
   * never by the desktop dialog, and waits `timeoutMs` (default: the approval timeout).
   */
  ask(
    mount: string,
    reader: ProcessInfo,
    ancestors: readonly ProcessInfo[],
    options: {
      readonly action?: string;
      readonly timeoutMs?: number;
      /** Who it is (core/reader-identity.ts), its agent, what `--always` would store. */
      readonly who?: Pick<PendingApproval, 'identity' | 'agent' | 'always'>;
    } = {},
  ): { id: number; answer: Promise<Answer> } {
    const id = this.#nextId++;
    const now = Date.now();
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const request: PendingApproval = {
      id,
      mount,
      pid: reader.pid,
      exe: reader.exe,
      argv: reader.argv,
      cwd: reader.cwd,
      ancestors: ancestors.map((a) => a.exe),
      ...(reader.agent !== undefined ? { agent: reader.agent } : {}),
      ...options.who,
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + timeoutMs).toISOString(),
      ...(options.action !== undefined ? { action: options.action } : {}),
    };
    const controller = new AbortController();
    const answer = new Promise<Answer>((resolve) => {
      const finish = (value: Answer) => {
        const waiting = this.#waiting.get(id);
        if (!waiting) return;
        clearTimeout(waiting.timer);
        this.#waiting.delete(id);
        controller.abort();
        resolve(value);
      };
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      this.#waiting.set(id, { request, reader, answer: finish, timer });
    });
    if (options.action !== undefined) return { id, answer };
    try {
      this.#notice?.(request, { reader, ancestors });
    } catch {
      // A notice is a courtesy: the request stands in `envmount approvals` and `status` whatever became of it.
    }
    this.#prompter?.(request, controller.signal, { reader, ancestors }).then(
      (value) => {
        if (value) this.#waiting.get(id)?.answer(value);
      },
      () => undefined,
    );
    return { id, answer };
  }

  list(): PendingApproval[] {
    return [...this.#waiting.values()].map((w) => w.request);
  }

  /** What waits on one mount, oldest first, as `status` and `list` show it. */
  waitingOn(mount: string): WaitingRead[] {
    return this.list()
      .filter((request) => request.mount === mount)
      .map((r) => ({
        id: r.id,
        pid: r.pid,
        exe: r.exe,
        argv: r.argv,
        ...(r.agent !== undefined ? { agent: r.agent } : {}),
        since: r.requestedAt,
        until: r.expiresAt,
        ...(r.action !== undefined ? { action: r.action } : {}),
      }));
  }

  get(id: number): PendingApproval | undefined {
    return this.#waiting.get(id)?.request;
  }

  /** The process behind a pending request, as described when it asked (to check it is still there). */
  reader(id: number): ProcessInfo | undefined {
    return this.#waiting.get(id)?.reader;
  }

  /** Approves a pending request; false when there is none with that id. */
  approve(id: number, options: ApproveOptions = {}): boolean {
    const waiting = this.#waiting.get(id);
    if (!waiting) return false;
    if (options.forMs !== undefined) {
      const who = waiting.request.identity ?? waiting.request.exe;
      this.#grants.set(grantKey(waiting.request.mount, who), Date.now() + options.forMs);
    }
    waiting.answer('allow');
    return true;
  }

  deny(id: number): boolean {
    const waiting = this.#waiting.get(id);
    if (!waiting) return false;
    waiting.answer('deny');
    return true;
  }

  /** Ends a request whose asker has exited: neither approved nor denied (the audit log says it exited). */
  dropExited(id: number): boolean {
    const waiting = this.#waiting.get(id);
    if (!waiting) return false;
    waiting.answer('exited');
    return true;
  }

  /** Whether a `--for` grant lets the reader `identity` (core/reader-identity.ts) read `mount` now. */
  granted(mount: string, identity: string): boolean {
    const key = grantKey(mount, identity);
    const until = this.#grants.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#grants.delete(key);
    return false;
  }

  /** The `--for` grants of a mount still in force: who, and until when. */
  grants(mount: string): { reader: string; until: string }[] {
    const now = Date.now();
    return [...this.#grants.entries()].flatMap(([key, until]) => {
      const [of, reader] = key.split('\0');
      return of === mount && until > now && reader !== undefined
        ? [{ reader, until: new Date(until).toISOString() }]
        : [];
    });
  }

  /** Drops every grant of a mount (`policy --reset`, `remove`). */
  clearGrants(mount: string): void {
    for (const key of [...this.#grants.keys()]) if (key.startsWith(`${mount}\0`)) this.#grants.delete(key);
  }

  /**
   * Ends every pending request of a mount (`removed`: it goes away) or all of them (`stopped`: the daemon is
   * stopping); the readers are refused, and told why.
   */
  cancel(mount?: string): void {
    for (const waiting of [...this.#waiting.values()]) {
      if (mount === undefined) waiting.answer('stopped');
      else if (waiting.request.mount === mount) waiting.answer('removed');
    }
  }
}

function grantKey(mount: string, exe: string): string {
  return `${mount}\0${exe}`;
}
