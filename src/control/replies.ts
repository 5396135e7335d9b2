/**
 * The replies of the control protocol (protocol.ts): what each method returns. Names, states and counts; the one
 * reply that carries values is `run`'s (RunValues), to a peer the reader policy allowed.
 */
import type { BackendKind } from '../core/mount-backends.js';
import type { Format } from '../core/render-formats.js';

export type MountState = 'serving' | 'paused' | 'displaced' | 'error' | 'stopped';

export interface MountInfo {
  readonly path: string;
  readonly dir: string;
  readonly template: string;
  readonly state: MountState;
  readonly variables: readonly string[];
  /** The environment the mount serves instead of a template file, if any. */
  readonly storeEnvironment: string | undefined;
  readonly onePasswordEnvironment: string | undefined;
  /** Added with --allow-shared-dir: serves even though other users can write its directory. */
  readonly allowSharedDir?: boolean;
  /** How the path is served: a named pipe per read (`fifo`) or a regular file through FUSE (`fuse`). */
  readonly backend: BackendKind;
  /** Reads (and agents' requests) waiting for the user's answer now, oldest first: who, since when, the ID. */
  readonly waiting?: readonly WaitingRead[];
}

/** A read waiting for approval, as `status` and `list` show it (`envmount approvals` has the whole request). */
export interface WaitingRead {
  readonly id: number;
  readonly pid: number;
  readonly exe: string;
  readonly argv: readonly string[];
  readonly agent?: string;
  readonly since: string;
  readonly until: string;
  /** An agent's request, in words, instead of a read. */
  readonly action?: string;
}

export interface VariableProblem {
  readonly key: string;
  readonly reference: string;
  readonly problem: string;
}

export interface MountStatus extends MountInfo {
  readonly reason: string | undefined;
  readonly reads: number;
  readonly lastReadAt: string | undefined;
  readonly bytesPerRead: number;
  readonly contentLocked: boolean;
  readonly problems: readonly VariableProblem[];
  /** Variables not served: no quoting of the format is safe for their value (names and reasons, never values). */
  readonly refused: readonly { readonly key: string; readonly reason: string }[];
  /** Variables some common readers would not read back exactly, and which (docs/compat.md). */
  readonly readerLimits: readonly { readonly key: string; readonly note: string }[];
  /** Keys whose value is too short for `envmount run` to mask in output (names only). */
  readonly unmasked: readonly string[];
  /** Who may read, in words, and as data. */
  readonly policy: string;
  /** What readers get: dotenv, json, shell or yaml. */
  readonly format: Format;
  readonly rules: readonly {
    effect: 'allow' | 'deny';
    kind: 'exe' | 'argv' | 'ancestor' | 'script';
    pattern: string;
    exe?: string;
  }[];
  readonly otherwise: 'allow' | 'ask' | 'deny';
  /** What readers started by a coding agent get: ask (always asked), deny, or rules (as any reader). */
  readonly agents: 'ask' | 'deny' | 'rules';
  /** Approvals that let a reader through without asking: `--for` grants (until) and `--always` rules (stored). */
  readonly grants: readonly { readonly reader: string; readonly until?: string; readonly rule?: string }[];
  /** What a policy change warned about (a deny rule that wins over a new allow); set on `policy` and `add` replies. */
  readonly warnings?: readonly string[];
  /** Reads where several processes held one pipe (see `envmount log`). */
  readonly collisions: number;
  /** Shared pipes whose readers read in pieces smaller than the content: nothing written to them (fail closed). */
  readonly withheld?: number;
  readonly lastReaders: readonly {
    time: string;
    decision: string;
    pid?: number;
    exe?: string;
    agent?: string;
    rule?: string;
  }[];
  /** Said by `add` once: what was done to keep a FUSE mount out of git. */
  readonly notice?: string;
  /** Whether the mount needs 1Password (its `op://` values go stale with the cache). */
  readonly usesOnePassword: boolean;
}

export interface Approval {
  readonly id: number;
  readonly mount: string;
  readonly pid: number;
  readonly exe: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly ancestors: readonly string[];
  /** Who it is for rules and grants: `node /app/server.js`, `python3 (inline code: -c)`, `/usr/bin/cat`. */
  readonly identity?: string;
  /** The coding agent that started it, if one did. */
  readonly agent?: string;
  /** The rule `approve --always` would store (the narrowest that names it), or why none can be stored. */
  readonly always?: { readonly rule: string } | { readonly problem: string };
  readonly requestedAt: string;
  readonly expiresAt: string;
  /** What an agent asks for, in words (a request from `envmount mcp`, not a read). */
  readonly action?: string;
}

/** An agent's request that waits for the user: what it applies, and the command that confirms it. */
export interface Confirmation {
  readonly id: number;
  readonly applies: string;
  readonly command: string;
  readonly expiresAt: string;
}

export interface LogEntry {
  readonly seq: number;
  readonly time: string;
  readonly mount: string;
  readonly decision: string;
  /** What the read came to: whole, partial, timeout, empty, refused or error (absent: `envmount run`). */
  readonly outcome?: string;
  readonly reason: string | undefined;
  readonly bytes: number;
  readonly reader:
    | {
        pid: number;
        exe: string;
        argv: readonly string[];
        cwd: string /** Started by this coding agent. */;
        agent?: string;
      }
    | undefined;
  readonly others: readonly { pid: number; exe: string }[];
  /** What decided: the rule that matched (`allow script:/app/server.js`), a grant, an answer, or the fallback. */
  readonly rule?: string;
}

export interface DaemonStatus {
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
  readonly uptimeMs: number;
  readonly socket: string;
  readonly dumpable: boolean;
  readonly coreLimit: number;
  readonly storeNames: number;
  /** The 1Password source and its cache, when one is configured (`envmount login`). */
  readonly onePassword: OnePasswordStatus | undefined;
  readonly storeLocked: boolean;
  /** Requests waiting for a store value to be set (`envmount mcp`'s request_variable). */
  readonly valueRequests: number;
}

export interface OnePasswordStatus {
  readonly provider: string;
  readonly state: 'empty' | 'fresh' | 'stale' | 'failing' | 'locked';
  readonly references: number;
  readonly lastSuccessAt: string | undefined;
  readonly lastError: string | undefined;
  readonly fix: string | undefined;
  readonly nextRefreshAt: string | undefined;
}

export interface Results {
  ping: { pid: number; version: string; protocol: number };
  /** `confirm`: (agent requests) what is not applied until the user confirms it. */
  add: MountStatus & { confirm?: Confirmation };
  remove: { path: string };
  list: MountInfo[];
  status: { daemon: DaemonStatus; mounts: MountStatus[] };
  set: { name: string; created: boolean; mounts: number };
  unset: { name: string; removed: boolean };
  vars: { names: string[] };
  import: { path: string; template: string; names: string[]; merged: boolean };
  policy: MountStatus;
  approvals: Approval[];
  /** `rule`: the rule `--always` stored. */
  approve: { id: number; mount: string; exe: string; rule?: string };
  deny: { id: number; mount: string; exe: string };
  log: { entries: LogEntry[] };
  login: OnePasswordStatus;
  refresh: { mounts: MountStatus[]; onePassword: OnePasswordStatus | undefined };
  lock: { locked: true };
  unlock: { locked: false; onePassword: OnePasswordStatus | undefined };
  run: RunValues;
  environments: { environments: EnvironmentInfo[] };
  environmentCreate: EnvironmentInfo;
  environmentRename: EnvironmentInfo;
  environmentVariables: { name: string; kind: EnvironmentInfo['kind']; variables: EnvironmentVariable[] };
  environmentAppend: EnvironmentInfo & { confirm?: Confirmation };
  environmentRequest: { name: string; variable: string; set: boolean };
}

/** An environment: a named set of variables of the store, or a 1Password Environment a mount uses. */
export interface EnvironmentInfo {
  readonly name: string;
  readonly kind: 'store' | '1password';
  readonly variables: number;
  /** Store variables declared but not set yet (requested from the user). */
  readonly pending: number;
  /** Mounts that serve it. */
  readonly mounts: readonly string[];
}

export interface EnvironmentVariable {
  readonly name: string;
  /** Whether it has a value now (a store value set, or a reference). Never the value. */
  readonly set: boolean;
  readonly reference: string | undefined;
}

/**
 * The one reply that carries values: `envmount run` needs them for the child's environment. Sent only to a peer the
 * reader policy allowed, after the dangerous-name check; in file order, later files winning.
 */
export interface RunValues {
  /** What the values came from (a mount's template, env files, an Environment), for messages. */
  readonly source: string;
  readonly variables: readonly {
    readonly name: string;
    readonly valueBase64: string;
    /** The byte ranges [start, end) of the value that came from references: what output masking conceals. */
    readonly secretRanges: readonly (readonly [number, number])[];
  }[];
}
