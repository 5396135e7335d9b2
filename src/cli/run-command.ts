/**
 * `envmount run [options] -- command args...`: the values of a mount (or of env files, or an Environment) in a
 * child's environment. The command is located before any value is asked for; the daemon decides whether this
 * process may have the values, as for a read of `.env`. Output masking is on in a terminal, off on pipes unless
 * `--mask`. The values pass through JS strings here (the child's environ needs them); the Buffers are wiped.
 */
import { resolve } from 'node:path';
import { EnvmountError } from '../core/errors.js';
import { MIN_MASKED_LENGTH } from '../core/masker.js';
import { type CliContext, type CommandOutput, withClient } from './context.js';

export interface RunOptions {
  readonly envFile?: string[];
  readonly environment?: string;
  readonly dir?: string;
  /** `--no-masking` sets false. */
  readonly masking: boolean;
  readonly mask?: boolean;
  /** `--no-inherit` sets false. */
  readonly inherit: boolean;
  readonly allowDangerous?: string[];
}

/** After this long without the daemon's answer, say what the run is waiting for. */
const WAITING_NOTE_MS = 700;

export async function runCommand(ctx: CliContext, command: readonly string[], o: RunOptions): Promise<CommandOutput> {
  const [name, ...args] = command;
  if (name === undefined) {
    throw new EnvmountError('USAGE', 'Give the command to run after --, as in `envmount run -- npm start`.');
  }
  const cwd = ctx.cwd;
  const file = await ctx.child.locate(name, cwd, ctx.environment.PATH);
  const params = {
    dir: resolve(cwd, o.dir ?? '.'),
    ...(o.envFile?.length ? { envFiles: o.envFile.map((f) => resolve(cwd, f)) } : {}),
    ...(o.environment ? { environment: o.environment } : {}),
    ...(o.allowDangerous?.length ? { allowDangerous: o.allowDangerous } : {}),
    // What the daemon judges (and checks against this process's own command line): the command, not envmount.
    command: { file, argv: [name, ...args] },
  };
  const reply = await withClient(ctx, async (client) => {
    const waiting = setTimeout(
      () => ctx.note('envmount: waiting for the daemon to authorize this run (see `envmount approvals`)'),
      WAITING_NOTE_MS,
    );
    try {
      return await client.request('run', params);
    } finally {
      clearTimeout(waiting);
    }
  });
  const env: Record<string, string> = {};
  if (o.inherit) {
    for (const [key, value] of Object.entries(ctx.environment)) if (value !== undefined) env[key] = value;
  }
  const values: Buffer[] = [];
  const secrets: Buffer[] = [];
  const short: string[] = [];
  try {
    for (const variable of reply.variables) {
      const value = Buffer.from(variable.valueBase64, 'base64');
      values.push(value);
      env[variable.name] = value.toString('utf8');
      // Only what came from references is concealed: a literal like NODE_ENV=production is no secret.
      for (const [start, end] of variable.secretRanges) {
        if (end <= start || end > value.length) continue;
        if (end - start < MIN_MASKED_LENGTH) short.push(variable.name);
        else secrets.push(value.subarray(start, end));
      }
    }
    const masking = o.masking && (ctx.child.terminal || o.mask === true);
    if (masking && short.length > 0) {
      ctx.note(`envmount: not masked in output (under ${MIN_MASKED_LENGTH} bytes): ${short.join(', ')}`);
    }
    const exitCode = await ctx.child.run({
      file,
      args,
      argv0: name,
      cwd,
      env,
      secrets: masking ? secrets : [],
    });
    return { data: { exitCode }, text: '', exitCode };
  } finally {
    for (const value of values) value.fill(0);
  }
}
