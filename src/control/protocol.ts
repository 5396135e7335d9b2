/**
 * The control protocol between envmountd and its clients (CLI, MCP): newline-delimited JSON over a unix socket,
 * versioned, one request per line, requests capped in size. Values cross it in `set` and `import` requests and in
 * one reply: `run`'s, to a peer the reader policy allowed (the MCP front end never sends `run`).
 */
import { z } from 'zod';
import { isBase64 } from '../core/base64.js';
import { FORMATS, type Format } from '../core/render-formats.js';

export const PROTOCOL_VERSION = 1;
export const MAX_REQUEST_BYTES = 1024 * 1024;

const absolute = z.string().min(1).startsWith('/', 'must be an absolute path');
const ruleTexts = z.array(z.string().min(1).max(500)).max(100);
const environmentId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be a 1Password Environment ID');
const otherwise = z.enum(['ask', 'deny', 'allow']);

/** A value in base64: refused (not decoded loosely into other bytes) unless it is exactly that. */
const base64 = z.string().refine(isBase64, 'is not valid base64 (A-Z a-z 0-9 + /, padded with = to a multiple of 4)');
const policyOptions = {
  allow: ruleTexts.optional(),
  deny: ruleTexts.optional(),
  otherwise: otherwise.optional(),
};

export const paramSchemas = {
  ping: z.object({}).strict(),
  add: z
    .object({
      dir: absolute,
      path: absolute.optional(),
      environment: environmentId.optional(),
      format: z.enum(FORMATS).optional(),
      storeEnvironment: z.string().min(1).max(100).optional(),
      ...policyOptions,
    })
    .strict(),
  policy: z.object({ path: absolute, ...policyOptions, reset: z.boolean().optional() }).strict(),
  approvals: z.object({}).strict(),
  approve: z
    .object({
      id: z.number().int().positive(),
      forMs: z.number().int().positive().optional(),
      always: z.boolean().optional(),
    })
    .strict(),
  deny: z.object({ id: z.number().int().positive() }).strict(),
  log: z
    .object({
      path: absolute.optional(),
      after: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(2000).optional(),
    })
    .strict(),
  remove: z.object({ path: absolute }).strict(),
  list: z.object({}).strict(),
  status: z.object({}).strict(),
  set: z.object({ name: z.string().min(1).max(200), valueBase64: base64 }).strict(),
  unset: z.object({ name: z.string().min(1).max(200) }).strict(),
  vars: z.object({}).strict(),
  login: z
    .object({
      serviceAccountTokenBase64: base64.min(1).max(16384).optional(),
      account: z.string().min(1).max(200).optional(),
      opCli: z.boolean().optional(),
    })
    .strict()
    .refine((p) => [p.serviceAccountTokenBase64, p.account, p.opCli].filter((v) => v !== undefined).length === 1, {
      message: 'give exactly one of serviceAccountTokenBase64, account, opCli',
    }),
  refresh: z.object({ path: absolute.optional() }).strict(),
  lock: z.object({}).strict(),
  unlock: z.object({}).strict(),
  import: z.object({ dir: absolute, prefix: z.string().min(1).max(100).optional(), ...policyOptions }).strict(),
  environments: z.object({}).strict(),
  environmentCreate: z.object({ name: z.string().min(1).max(100) }).strict(),
  environmentRename: z.object({ from: z.string().min(1).max(100), to: z.string().min(1).max(100) }).strict(),
  environmentVariables: z.object({ name: z.string().min(1).max(100) }).strict(),
  environmentAppend: z
    .object({
      name: z.string().min(1).max(100),
      variables: z
        .array(
          z
            .object({
              name: z.string().min(1).max(200),
              valueBase64: base64.max(1024 * 1024).optional(),
              reference: z.string().min(1).max(1000).optional(),
            })
            .strict()
            .refine((v) => (v.valueBase64 === undefined) !== (v.reference === undefined), {
              message: 'give each variable exactly one of a value or a reference',
            }),
        )
        .min(1)
        .max(200),
    })
    .strict(),
  environmentRequest: z
    .object({
      name: z.string().min(1).max(100),
      variable: z.string().min(1).max(200),
      timeoutMs: z.number().int().min(0).max(600_000),
    })
    .strict(),
  run: z
    .object({
      dir: absolute,
      envFiles: z.array(absolute).max(50).optional(),
      environment: environmentId.optional(),
      allowDangerous: z.array(z.string().min(1).max(200)).max(100).optional(),
    })
    .strict(),
} as const;

export type Method = keyof typeof paramSchemas;
export type Params<M extends Method> = z.infer<(typeof paramSchemas)[M]>;

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
  readonly rules: readonly { effect: 'allow' | 'deny'; kind: 'exe' | 'argv' | 'ancestor'; pattern: string }[];
  readonly otherwise: 'allow' | 'ask' | 'deny';
  /** Reads where several processes held one pipe (see `envmount log`). */
  readonly collisions: number;
  readonly lastReaders: readonly { time: string; decision: string; pid?: number; exe?: string }[];
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
  readonly requestedAt: string;
  readonly expiresAt: string;
}

export interface LogEntry {
  readonly seq: number;
  readonly time: string;
  readonly mount: string;
  readonly decision: string;
  readonly reason: string | undefined;
  readonly bytes: number;
  readonly reader: { pid: number; exe: string; argv: readonly string[]; cwd: string } | undefined;
  readonly others: readonly { pid: number; exe: string }[];
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
  add: MountStatus;
  remove: { path: string };
  list: MountInfo[];
  status: { daemon: DaemonStatus; mounts: MountStatus[] };
  set: { name: string; created: boolean; mounts: number };
  unset: { name: string; removed: boolean };
  vars: { names: string[] };
  import: { path: string; template: string; names: string[] };
  policy: MountStatus;
  approvals: Approval[];
  approve: { id: number; mount: string; exe: string };
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
  environmentAppend: EnvironmentInfo;
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

export interface Request {
  v: number;
  id: number;
  method: string;
  params?: unknown;
}

export interface ErrorBody {
  code: string;
  message: string;
}

export type Response =
  | { v: number; id: number | null; ok: true; result: unknown }
  | { v: number; id: number | null; ok: false; error: ErrorBody };
