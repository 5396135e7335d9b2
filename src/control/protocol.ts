/**
 * The control protocol between envmountd and its clients (CLI, MCP): newline-delimited JSON over a unix socket,
 * versioned, one request per line, requests capped in size. Values cross it in `set` and `import` requests and in
 * one reply: `run`'s, to a peer the reader policy allowed (the MCP front end never sends `run`).
 */
import { z } from 'zod';
import { isBase64 } from '../core/base64.js';
import { BACKENDS } from '../core/mount-backends.js';
import { FORMATS } from '../core/render-formats.js';

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
  agents: z.enum(['ask', 'deny', 'rules']).optional(),
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
      allowSharedDir: z.boolean().optional(),
      backend: z.enum(BACKENDS).optional(),
      /** The user's default (ENVMOUNT_BACKEND): for a new mount only; an existing one keeps its backend. */
      defaultBackend: z.enum(BACKENDS).optional(),
      ...policyOptions,
    })
    .strict(),
  policy: z
    .object({ path: absolute, ...policyOptions, remove: ruleTexts.optional(), reset: z.boolean().optional() })
    .strict(),
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
  import: z
    .object({
      dir: absolute,
      prefix: z.string().min(1).max(100).optional(),
      merge: z.boolean().optional(),
      ...policyOptions,
    })
    .strict(),
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
      /** The command the client will run: its resolved executable and its argv (checked against the peer's own). */
      command: z
        .object({ file: absolute.max(4096), argv: z.array(z.string().max(100_000)).min(1).max(10_000) })
        .strict()
        .optional(),
    })
    .strict(),
} as const;

export type Method = keyof typeof paramSchemas;
export type Params<M extends Method> = z.infer<(typeof paramSchemas)[M]>;

export type * from './replies.js';

export interface Request {
  v: number;
  id: number;
  method: string;
  params?: unknown;
  /** Set by the `envmount mcp` front end: the request comes from an agent, and nothing it asks may widen access. */
  origin?: 'agent';
}

export interface ErrorBody {
  code: string;
  message: string;
}

export type Response =
  | { v: number; id: number | null; ok: true; result: unknown }
  | { v: number; id: number | null; ok: false; error: ErrorBody };
