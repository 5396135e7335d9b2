/**
 * 1Password through the `op` CLI, for people signed in with it (its own session and biometric prompts apply): one
 * `op inject` per refresh, run with execFile semantics (no shell), every reference on stdin between random
 * boundary markers, values read back from stdout as bytes. References never go in argv, values never leave
 * Buffers, and op's stderr is reduced to a reason (it holds no values). When the batch fails on a reference, each
 * reference is injected alone to tell which one.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ProviderFailure, type Resolved, type SecretProvider } from './provider.js';

export interface OpCliOptions {
  /** The `op` executable (a path, or a name looked up on PATH). */
  readonly opPath: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs: number;
}

interface RunResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

function runOp(options: OpCliOptions, input: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.opPath, ['inject'], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      for (const chunk of out) chunk.fill(0);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** The reason in op's error output, without its "[ERROR] date time" prefix. */
function reason(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.trim() !== '') ?? 'op failed';
  return line
    .replace(/^\[ERROR\]\s+\S+\s+\S+\s+/, '')
    .trim()
    .slice(0, 300);
}

const SIGNED_OUT =
  /not currently signed in|session expired|signed out|sign in|authorization (prompt )?(was )?(dismissed|denied)|locked/i;

function failureOf(result: RunResult): ProviderFailure {
  const why = reason(result.stderr);
  return SIGNED_OUT.test(result.stderr)
    ? new ProviderFailure(
        'auth',
        `op is signed out or locked (${why})`,
        'run `op signin` (or unlock the 1Password app), then `envmount refresh`',
      )
    : new ProviderFailure('unavailable', `op failed (${why})`);
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

export function opCliProvider(options: OpCliOptions): SecretProvider {
  const inject = async (references: readonly string[]): Promise<Buffer[] | RunResult> => {
    const boundary = `ENVMOUNT-${randomBytes(16).toString('hex')}`;
    const template = `${references.map((r, i) => `${boundary}:${i}:{{ ${r} }}`).join('')}${boundary}:end`;
    let result: RunResult;
    try {
      result = await runOp(options, template);
    } catch (error) {
      const missing = (error as { code?: string }).code === 'ENOENT';
      throw new ProviderFailure(
        'unavailable',
        missing
          ? `the op CLI was not found (${options.opPath})`
          : `op could not be started (${(error as Error).message})`,
        missing ? 'install 1Password CLI, or set ENVMOUNT_OP_PATH' : undefined,
        { cause: error },
      );
    }
    try {
      if (result.code !== 0) return result;
      const values = split(result.stdout, boundary, references.length);
      if (!values) throw new ProviderFailure('unavailable', 'op returned output envmount cannot read');
      return values;
    } finally {
      result.stdout.fill(0);
    }
  };
  return {
    description: `op CLI (${options.opPath})`,
    async resolveAll(references) {
      const out = new Map<string, Resolved>();
      if (references.length === 0) return out;
      const batch = await inject(references);
      if (Array.isArray(batch)) {
        for (const [i, reference] of references.entries()) out.set(reference, { value: batch[i] ?? Buffer.alloc(0) });
        return out;
      }
      if (SIGNED_OUT.test(batch.stderr) || references.length === 1) {
        if (references.length === 1 && !SIGNED_OUT.test(batch.stderr)) {
          out.set(references[0] ?? '', { problem: reason(batch.stderr) });
          return out;
        }
        throw failureOf(batch);
      }
      // One bad reference fails the whole inject: find which, one at a time.
      for (const reference of references) {
        const single = await inject([reference]);
        if (Array.isArray(single)) out.set(reference, { value: single[0] ?? Buffer.alloc(0) });
        else if (SIGNED_OUT.test(single.stderr)) throw failureOf(single);
        else out.set(reference, { problem: reason(single.stderr) });
      }
      return out;
    },
    validate() {
      return undefined;
    },
  };
}
