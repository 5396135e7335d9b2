/**
 * The envmount CLI: parses argv, runs one command against the daemon, prints its outcome. The only place that
 * prints (stdout: data; stderr: diagnostics) and decides the exit code.
 */
import type { Writable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { isEnvmountError } from '../core/errors.js';
import type { CliContext, CommandOutput } from './context.js';
import { add, importEnv, list, remove, status } from './mount-commands.js';
import { set, unset, vars } from './variable-commands.js';

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

const EXIT = { ok: 0, failure: 1, usage: 2, daemonDown: 3 } as const;

export async function main(argv: readonly string[], ctx: CliContext, io: CliIo): Promise<number> {
  let output: CommandOutput | undefined;
  const program = new Command('envmount')
    .description('Serve .env files from memory through named pipes: no plaintext secrets on disk.')
    .version(ctx.version, '-V, --version')
    .option('--json', 'print data as JSON')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError();
  const run =
    <A extends unknown[]>(fn: (...args: A) => Promise<CommandOutput>) =>
    async (...args: A) => {
      output = await fn(...args);
    };

  program
    .command('add [dir]')
    .description("mount the project's .env (rendered from .env.op or .env.tpl)")
    .option('--path <file>', 'mount at this path instead of DIR/.env')
    .action(run((dir: string | undefined, o: { path?: string }) => add(ctx, dir, o)));
  program
    .command('remove [dir]')
    .description('remove a mount (its pipe is deleted; the template stays)')
    .action(run((dir: string | undefined) => remove(ctx, dir)));
  program
    .command('list')
    .description('list mounts')
    .action(run(() => list(ctx)));
  program
    .command('status')
    .description('daemon and mount health')
    .action(run(() => status(ctx)));
  program
    .command('set <name>')
    .description('store a value (hidden prompt, or stdin when not a terminal; never argv)')
    .option('--raw', 'keep stdin byte-exact (do not drop one trailing newline)')
    .option('--allow-empty', 'store an empty value')
    .action(run((name: string, o: { raw?: boolean; allowEmpty?: boolean }) => set(ctx, name, o)));
  program
    .command('unset <name>')
    .description('remove a value from the store')
    .action(run((name: string) => unset(ctx, name)));
  program
    .command('vars')
    .description('list the names in the store (never values)')
    .action(run(() => vars(ctx)));
  program
    .command('import [dir]')
    .description('move a plaintext .env into the store and mount it in its place')
    .option('--prefix <name>', 'store the values as PREFIX/KEY (default: the directory name)')
    .action(run((dir: string | undefined, o: { prefix?: string }) => importEnv(ctx, dir, o)));

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`envmount: ${message}\n`);
    if (!isEnvmountError(error)) return EXIT.failure;
    return error.code === 'DAEMON_NOT_RUNNING' ? EXIT.daemonDown : error.code === 'USAGE' ? EXIT.usage : EXIT.failure;
  }
  if (!output) {
    program.outputHelp();
    return EXIT.usage;
  }
  const json = program.opts<{ json?: boolean }>().json;
  io.stdout.write(json ? `${JSON.stringify(output.data, null, 2)}\n` : `${output.text}\n`);
  return EXIT.ok;
}
