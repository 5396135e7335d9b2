/**
 * The audit log: one JSON line per read (time, mount, reader, decision, bytes; never a value), in a 0600 file
 * under the state dir, rotated by size to `.1`. The newest entries are also kept in memory for `envmount log`.
 */
import { type FileHandle, open, readFile, rename } from 'node:fs/promises';
import type { Logger } from 'pino';
import { errnoCode } from '../../core/errors.js';
import type { ProcessInfo } from './process-info.js';

/** Who decided: `served` (policy any, reader not identified), a decided read's verdict, `cancelled` (the read
 * waited for an answer and the daemon stopped or the mount went away first), or `foreign` (a rotation found a pipe
 * someone else put at its name: nothing was written to it). */
export type AuditDecision =
  | 'served'
  | 'allowed'
  | 'denied'
  | 'timed-out'
  | 'cancelled'
  | 'unidentified'
  | 'collision'
  | 'foreign';

/**
 * What the open of the mount came to: the whole content read (`whole`), the reader closed after `bytes` (`partial`),
 * it did not read it all before the write deadline (`timeout`), it got nothing because another reader on the same
 * pipe took the copy or copies were withheld (`empty`), refusal comment lines (`refused`), or a write error.
 */
export type AuditOutcome = 'whole' | 'partial' | 'timeout' | 'empty' | 'refused' | 'error';

export interface AuditReader {
  readonly pid: number;
  readonly exe: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  /** The coding agent that started it, when one did (agents.ts). */
  readonly agent?: string;
}

export interface AuditEntry {
  readonly seq: number;
  readonly time: string;
  readonly mount: string;
  readonly decision: AuditDecision;
  /** Every open of a mount has one (absent: values handed to `envmount run`, not a read of the pipe). */
  readonly outcome?: AuditOutcome;
  readonly reason: string | undefined;
  readonly bytes: number;
  /** The reader, when the policy identified it (mode `any` serves without asking who reads). */
  readonly reader: AuditReader | undefined;
  /** Other processes that held the same pipe (a collision). */
  readonly others: readonly AuditReader[];
  /** What decided: the rule that matched, a grant, an answer, or the fallback (absent: policy any, or unknown). */
  readonly rule?: string;
  /** Processes of this user whose fd table could not be read when the reader was identified (they may have held
   * the pipe unseen: THREAT-MODEL.md). Absent when none. */
  readonly unreadable?: number;
  /** A shared pipe: how many readers were on it and how many got a whole copy (the rest got nothing). */
  readonly readers?: number;
  readonly copies?: number;
}

export type AuditInput = Omit<AuditEntry, 'seq' | 'time'>;

const KEEP_IN_MEMORY = 2000;
const MAX_ARG = 200;
const MAX_ARGS = 32;

/** argv as logged: bounded in size (a reader's own arguments are not ours to store in full). */
export function boundedArgv(argv: readonly string[]): string[] {
  const kept = argv.slice(0, MAX_ARGS).map((a) => (a.length > MAX_ARG ? `${a.slice(0, MAX_ARG)}…` : a));
  return argv.length > MAX_ARGS ? [...kept, `… ${argv.length - MAX_ARGS} more`] : kept;
}

/** A process as the log records it: pid, executable, bounded argv, cwd, and the agent that started it. */
export function auditReader(info: ProcessInfo): AuditReader {
  const agent = info.agent;
  return {
    pid: info.pid,
    exe: info.exe,
    argv: boundedArgv(info.argv),
    cwd: info.cwd,
    ...(agent !== undefined ? { agent } : {}),
  };
}

export class AuditLog {
  readonly #file: string;
  readonly #maxBytes: number;
  readonly #logger: Logger;
  // Owned here: the in-memory tail and the append queue; entries are appended in `seq` order.
  readonly #recent: AuditEntry[] = [];
  #seq = 0;
  #size = 0;
  #writing: Promise<void> = Promise.resolve();
  #handle: FileHandle | undefined;
  #pending: string[] = [];
  // The last entry's millisecond and its ISO form: a batch of reads handed over together formats the time once
  // (toISOString costs about 3 us, as much as the rest of a policy `any` read's entry).
  #timeMs = -1;
  #timeIso = '';

  private constructor(file: string, maxBytes: number, logger: Logger) {
    this.#file = file;
    this.#maxBytes = maxBytes;
    this.#logger = logger;
  }

  static async open(file: string, maxBytes: number, logger: Logger): Promise<AuditLog> {
    const log = new AuditLog(file, maxBytes, logger);
    try {
      const text = await readFile(file, 'utf8');
      log.#size = Buffer.byteLength(text);
      for (const line of text.split('\n').slice(-KEEP_IN_MEMORY - 1)) {
        try {
          const entry = JSON.parse(line) as AuditEntry;
          log.#recent.push(entry);
          log.#seq = Math.max(log.#seq, entry.seq);
        } catch {
          // A torn last line after a crash: skipped.
        }
      }
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
    return log;
  }

  record(input: AuditInput): AuditEntry {
    const entry: AuditEntry = { seq: ++this.#seq, time: this.#now(), ...input };
    this.#keep(entry, `${JSON.stringify(entry)}\n`);
    return entry;
  }

  /** `count` entries of one input, one per open (reads alike in a row), the line after `seq` formatted once. */
  recordEach(input: AuditInput, count: number): void {
    const time = this.#now();
    const rest = JSON.stringify({ time, ...input }).slice(1);
    for (let i = 0; i < count; i++) {
      const entry: AuditEntry = { seq: ++this.#seq, time, ...input };
      this.#keep(entry, `{"seq":${entry.seq},${rest}\n`);
    }
  }

  #keep(entry: AuditEntry, line: string): void {
    this.#recent.push(entry);
    if (this.#recent.length > KEEP_IN_MEMORY) this.#recent.shift();
    // Lines recorded in one turn of the event loop go out in one write (policy `any` can serve thousands a second).
    this.#pending.push(line);
    if (this.#pending.length === 1) {
      this.#writing = this.#writing
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => this.#append(this.#pending.splice(0).join('')))
        .catch((error: unknown) => this.#logger.error({ err: error }, 'audit log write failed'));
    }
  }

  #now(): string {
    const ms = Date.now();
    if (ms !== this.#timeMs) {
      this.#timeMs = ms;
      this.#timeIso = new Date(ms).toISOString();
    }
    return this.#timeIso;
  }

  /** Entries after `after` (a seq), optionally for one mount, the newest `limit`. */
  query(options: { mount?: string; after?: number; limit?: number }): AuditEntry[] {
    const matching = this.#recent.filter(
      (e) => (options.mount === undefined || e.mount === options.mount) && e.seq > (options.after ?? 0),
    );
    return matching.slice(-(options.limit ?? 100));
  }

  /** Resolves when every entry recorded so far is on disk. */
  flush(): Promise<void> {
    return this.#writing;
  }

  async #append(line: string): Promise<void> {
    const bytes = Buffer.byteLength(line);
    if (this.#size + bytes > this.#maxBytes && this.#size > 0) {
      await this.#handle?.close();
      this.#handle = undefined;
      await rename(this.#file, `${this.#file}.1`).catch((error) => {
        if (errnoCode(error) !== 'ENOENT') throw error;
      });
      this.#size = 0;
    }
    this.#handle ??= await open(this.#file, 'a', 0o600);
    await this.#handle.write(line);
    this.#size += bytes;
  }

  /** Writes what is queued and closes the file. */
  async close(): Promise<void> {
    await this.#writing;
    await this.#handle?.close();
    this.#handle = undefined;
  }
}
