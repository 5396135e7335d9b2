/**
 * 1Password through the `op` CLI, for people signed in with it (its own session and biometric prompts apply): one
 * `op inject` per refresh, run with execFile semantics (no shell), every reference on stdin between random
 * boundary markers, values read back from stdout as bytes. References never go in argv, values never leave
 * Buffers, and op's stderr is reduced to a reason (it holds no values) classified with the table in
 * onepassword-errors.ts. op fails the whole inject on one bad reference: when its message names the reference, that
 * one is marked and the rest injected again; a failure of any other kind fails the call (the cache keeps the last
 * good values). Every run of one refresh shares one deadline, so a hanging op costs one timeout, not one per
 * reference.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseReference } from '../core/reference.js';
import { classify, opMessage, quotedNames } from './classify-error.js';
import { type ErrorEntry, OP_ERRORS } from './onepassword-errors.js';
import { ProviderFailure, type Resolved, type SecretProvider } from './provider.js';

export interface OpCliOptions {
  /** The `op` executable (a path, or a name looked up on PATH). */
  readonly opPath: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** For the whole of one resolveAll, however many op runs it takes. */
  readonly timeoutMs: number;
  /** The daemon runs with no_new_privs (systemd's NoNewPrivileges=yes), which every op it starts inherits. */
  readonly noNewPrivileges?: boolean;
}

interface RunResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** What to use instead when op runs under no_new_privs (the reason is in the README's 1Password section). */
export const NO_NEW_PRIVILEGES_FIX =
  'envmountd runs with NoNewPrivileges (the systemd unit), so Linux ignores op\'s setgid "onepassword-cli" bit and the 1Password app refuses op, and `op signin` sessions of your shell are not seen: use `envmount login --service-account` or `envmount login --account NAME` (the SDK), or run `envmountd start` in your session';

function runOp(options: OpCliOptions, input: string, timeoutMs: number, args = ['inject']): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.opPath, args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    let settled = false;
    const finish = (code: number | null, timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      for (const chunk of out) chunk.fill(0);
      resolve({ code, stdout, stderr, timedOut });
    };
    // At the deadline: kill it and answer now (a grandchild holding the pipes must not keep us waiting).
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
      finish(null, true);
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => finish(code, false));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Splits op's output at the boundary markers into one Buffer per reference. */
function split(stdout: Buffer, boundary: string, count: number): Buffer[] | undefined {
  const values: Buffer[] = [];
  let at = stdout.indexOf(`${boundary}:0:`);
  if (at === -1) return undefined;
  for (let i = 0; i < count; i++) {
    const start = at + Buffer.byteLength(`${boundary}:${i}:`);
    const next = i + 1 < count ? `${boundary}:${i + 1}:` : `${boundary}:end`;
    const end = stdout.indexOf(next, start);
    if (end === -1) return undefined;
    values.push(Buffer.from(stdout.subarray(start, end)));
    at = end;
  }
  return values;
}

/** Whether op handed back a `{{ op://` marker it did not consume (never served: it is template text). */
export function hasTemplateMarker(value: Buffer): boolean {
  for (let at = value.indexOf('{{'); at !== -1; at = value.indexOf('{{', at + 2)) {
    let i = at + 2;
    while (value[i] === 0x20 || value[i] === 0x09) i++;
    if (value.subarray(i, i + 5).toString('latin1') === 'op://') return true;
  }
  return false;
}

/** The references among `pending` that op's message is about: every name it quotes is one of theirs. */
function namedBy(message: string, pending: readonly string[]): string[] {
  const names = quotedNames(message).map((n) => n.toLowerCase());
  if (names.length === 0) return [];
  return pending.filter((reference) => {
    let ref: ReturnType<typeof parseReference>;
    try {
      ref = parseReference(reference);
    } catch {
      return false;
    }
    if (ref.scheme !== 'op') return false;
    const own = [ref.vault, ref.item, ref.section, ref.field].map((n) => n?.toLowerCase());
    return names.every((name) => own.includes(name));
  });
}

/** How long `op --version` may take when login checks that op runs. */
const CHECK_TIMEOUT_MS = 15_000;

const INSTALL_FIX =
  "install 1Password CLI (https://developer.1password.com/docs/cli/get-started/) where envmountd finds it on its PATH, or set ENVMOUNT_OP_PATH to its path in envmountd's environment (then restart envmountd)";

/** op did not start (missing, not executable): the one failure both the check and a refresh report. */
function notStarted(options: OpCliOptions, error: unknown): ProviderFailure {
  const missing = (error as { code?: string }).code === 'ENOENT';
  return new ProviderFailure(
    'unavailable',
    missing
      ? `the op CLI was not found (${options.opPath})`
      : `op could not be started (${options.opPath}: ${(error as Error).message})`,
    INSTALL_FIX,
    { cause: error },
  );
}

/** `op --version`, bounded: that the executable exists and runs. Its output is a version, never a value. */
async function checkOp(options: OpCliOptions): Promise<void> {
  let result: RunResult;
  try {
    result = await runOp(options, '', CHECK_TIMEOUT_MS, ['--version']);
  } catch (error) {
    throw notStarted(options, error);
  }
  result.stdout.fill(0);
  if (result.timedOut || result.code !== 0) {
    const how = result.timedOut ? `did not answer within ${CHECK_TIMEOUT_MS / 1000} s` : `exited with ${result.code}`;
    throw new ProviderFailure('unavailable', `\`${options.opPath} --version\` ${how}`, INSTALL_FIX);
  }
}

export function opCliProvider(options: OpCliOptions): SecretProvider {
  const seconds = Math.round(options.timeoutMs / 1000);
  const whole = (entry: ErrorEntry | undefined, message: string): ProviderFailure => {
    const fix = entry?.kind === 'auth' && options.noNewPrivileges ? NO_NEW_PRIVILEGES_FIX : entry?.fix;
    return new ProviderFailure(
      entry?.kind === 'reference' ? 'unavailable' : (entry?.kind ?? 'unavailable'),
      `${entry?.reason ?? 'op failed'} (${message || `op exited without a reason`})`,
      fix,
    );
  };
  const inject = async (references: readonly string[], deadline: number): Promise<Buffer[] | string> => {
    const boundary = `ENVMOUNT-${randomBytes(16).toString('hex')}`;
    const template = `${references.map((r, i) => `${boundary}:${i}:{{ ${r} }}`).join('')}${boundary}:end`;
    let result: RunResult;
    try {
      result = await runOp(options, template, Math.max(1, deadline - Date.now()));
    } catch (error) {
      throw notStarted(options, error);
    }
    try {
      if (result.timedOut) {
        throw new ProviderFailure(
          'unavailable',
          `op did not answer within ${seconds} s`,
          'run `op whoami` in a terminal (an op waiting on a prompt nobody sees hangs like this), then `envmount refresh`',
        );
      }
      if (result.code !== 0) return opMessage(result.stderr);
      const values = split(result.stdout, boundary, references.length);
      if (!values) throw new ProviderFailure('unavailable', 'op returned output envmount cannot read');
      return values;
    } finally {
      result.stdout.fill(0);
    }
  };
  return {
    description: `op CLI (${options.opPath})`,
    check: () => checkOp(options),
    async resolveAll(references) {
      const out = new Map<string, Resolved>();
      const deadline = Date.now() + options.timeoutMs;
      let pending = [...references];
      let alone = false;
      try {
        while (pending.length > 0) {
          const batch = alone ? pending.slice(0, 1) : pending;
          const result = await inject(batch, deadline);
          if (typeof result !== 'string') {
            for (const [i, reference] of batch.entries()) {
              const value = result[i] ?? Buffer.alloc(0);
              if (!hasTemplateMarker(value)) out.set(reference, { value });
              else {
                value.fill(0);
                out.set(reference, { problem: 'op left it unresolved (its {{ }} marker came back); use IDs' });
              }
            }
            pending = pending.slice(batch.length);
            continue;
          }
          const entry = classify(OP_ERRORS, result);
          if (entry?.kind !== 'reference') throw whole(entry, result);
          // op names the reference in quotes: mark the ones it names and inject the rest again. When it names
          // none of them, find it one at a time (still within the one deadline).
          const named = alone ? batch : namedBy(result, pending);
          if (named.length === 0) alone = true;
          for (const reference of named) out.set(reference, { problem: result });
          pending = pending.filter((r) => !named.includes(r));
        }
        return out;
      } catch (error) {
        for (const resolved of out.values()) if ('value' in resolved) resolved.value.fill(0);
        throw error;
      }
    },
    validate(reference) {
      if (reference.includes(' ')) {
        return '`op inject` leaves a reference with a space unresolved; write the ID of that vault, item or field instead (`op item get NAME --format json` shows them), or use the SDK (`envmount login --service-account` or `--account`)';
      }
      return undefined;
    },
  };
}
