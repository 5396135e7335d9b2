/**
 * The envmount CLI: parses argv, runs one command against the daemon, prints its outcome. The only place that
 * prints (stdout: data; stderr: diagnostics) and decides the exit code.
 */
import type { Writable } from 'node:stream';
import { Argument, Command, CommanderError } from 'commander';
import { isEnvmountError } from '../core/errors.js';
import { completionScript, SHELLS } from './completion.js';
import type { CliContext, CommandOutput } from './context.js';
import { connectOrExplain } from './daemon-down.js';
import { doctor } from './doctor.js';
import { type AddFlags, add, importEnv, list, remove, status } from './mount-commands.js';
import { lock, login, refresh, unlock } from './onepassword-commands.js';
import { log, policyParams } from './policy-commands.js';
import { policyCommands, policyOptions, RULES_HELP } from './policy-program.js';
import { type RunOptions, runCommand } from './run-command.js';
import { serviceInstall, serviceLogs, serviceStatus, serviceUninstall } from './service-commands.js';
import { set, unset, vars } from './variable-commands.js';

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

const EXIT = { ok: 0, failure: 1, usage: 2, daemonDown: 3, notExecutable: 126, notFound: 127 } as const;

const collect = (value: string, previous: string[] = []) => [...previous, value];

export async function main(
  argv: readonly string[],
  base: Omit<CliContext, 'emit' | 'note'>,
  io: CliIo,
): Promise<number> {
  let output: CommandOutput | undefined;
  const ctx: CliContext = {
    ...base,
    // Nothing answering: wait for a daemon being started, or say which command starts it here.
    connect: () => connectOrExplain(base),
    emit: (line) => io.stdout.write(`${line}\n`),
    note: (line) => io.stderr.write(`${line}\n`),
  };
  const program = new Command('envmount')
    .description('Serve .env files from memory through named pipes: no plaintext secrets on disk.')
    .version(ctx.version, '-V, --version')
    .option('--json', 'print data as JSON')
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError();
  const run =
    <A extends unknown[]>(fn: (...args: A) => Promise<CommandOutput>) =>
    async (...args: A) => {
      output = await fn(...args);
    };

  policyOptions(
    program
      .command('add [dir]')
      .description("mount the project's .env (rendered from .env.op or .env.tpl)")
      .option('--path <file>', 'mount at this path instead of DIR/.env')
      .option('--environment <id>', 'serve the variables of a 1Password Environment instead of a template')
      .option('--format <format>', 'what readers get: dotenv (default), json, shell (export lines) or yaml')
      .option('--allow-shared-dir', 'serve even though other users can write the directory (they could swap the pipe)')
      .option('--backend <backend>', 'fifo (default; or ENVMOUNT_BACKEND) or fuse (a regular file; Linux)'),
    `let these readers have the values (--allow any: every reader). ${RULES_HELP}`,
    'what readers no rule matches get: ask (default), deny or allow',
  ).action(
    run((dir: string | undefined, o: AddFlags) =>
      add(ctx, dir, {
        ...(o.path ? { path: o.path } : {}),
        ...(o.allowSharedDir ? { allowSharedDir: true } : {}),
        ...(o.environment ? { environment: o.environment } : {}),
        ...(o.format ? { format: o.format } : {}),
        ...(o.backend ? { backend: o.backend } : {}),
        ...policyParams(o),
      }),
    ),
  );
  policyCommands(program, ctx, run);
  program
    .command('log [dir]')
    .description('the audit log of reads: who, when, what was decided (never values)')
    .option('--follow', 'keep printing new reads')
    .option('--limit <n>', 'how many recent reads (default 50)')
    .action(
      run((dir: string | undefined, o: { follow?: boolean; limit?: string }) =>
        log(ctx, dir, { ...o, json: wantsJson() }),
      ),
    );
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
    .allowExcessArguments()
    .action(
      run((name: string, o: { raw?: boolean; allowEmpty?: boolean }, command: Command) =>
        set(ctx, name, { ...o, extra: command.args.slice(1).length }),
      ),
    );
  program
    .command('unset <name>')
    .description('remove a value from the store')
    .action(run((name: string) => unset(ctx, name)));
  program
    .command('login')
    .description('connect 1Password: a service account, the desktop app, or the op CLI')
    .option('--service-account', 'a service account token, from a hidden prompt or stdin (kept in the encrypted store)')
    .option('--account <name>', 'the 1Password desktop app, signed in to this account (name or UUID)')
    .option('--op-cli', 'the op CLI you are signed in to (`op signin`)')
    .action(run((o: { serviceAccount?: boolean; account?: string; opCli?: boolean }) => login(ctx, o)));
  program
    .command('refresh [dir]')
    .description('re-read templates and resolve every 1Password reference again')
    .action(run((dir: string | undefined) => refresh(ctx, dir)));
  program
    .command('lock')
    .description("wipe every value from the daemon's memory")
    .action(run(() => lock(ctx)));
  program
    .command('unlock')
    .description('read the store and 1Password again after a lock')
    .action(run(() => unlock(ctx)));
  program
    .command('vars')
    .description('list the names in the store (never values)')
    .action(run(() => vars(ctx)));
  policyOptions(
    program
      .command('import [dir]')
      .description('move a plaintext .env into the store and mount it in its place')
      .option('--prefix <name>', 'store the values as PREFIX/KEY (default: the directory name)')
      .option('--merge', 'with a template already there: add the references to it (a name in both stops it)'),
    'who may read the new mount (as for add)',
    'what readers no rule matches get: ask (default), deny or allow',
  ).action(
    run(
      (
        dir: string | undefined,
        o: { prefix?: string; merge?: boolean; allow?: string[]; deny?: string[]; otherwise?: string },
      ) =>
        importEnv(ctx, dir, {
          ...(o.prefix ? { prefix: o.prefix } : {}),
          ...(o.merge ? { merge: true } : {}),
          ...policyParams(o),
        }),
    ),
  );

  const service = program.command('service').description('envmountd as a user service (systemd or launchd)');
  service
    .command('install')
    .description('write the unit, enable and start it')
    .action(run(() => serviceInstall(ctx)));
  service
    .command('uninstall')
    .description('stop it, disable it, remove the unit')
    .action(run(() => serviceUninstall(ctx)));
  service
    .command('status')
    .description('running or not, pid, uptime, mounts, last error')
    .action(run(() => serviceStatus(ctx)));
  service
    .command('logs')
    .description("the daemon's log")
    .option('--lines <n>', 'how many recent lines (default 100)')
    .option('-f, --follow', 'keep printing new lines')
    .action(run((o: { lines?: string; follow?: boolean }) => serviceLogs(ctx, o)));
  program
    .command('doctor')
    .description('check the daemon, the service, every mount and 1Password; print the fix for each problem')
    .action(run(() => doctor(ctx)));
  program
    .command('mcp')
    .description('an MCP server on stdio for coding agents: environments and mounts, never a value')
    .action(
      run(async () => {
        await ctx.mcp();
        return { data: undefined, text: '', exitCode: 0 };
      }),
    );
  program
    .command('run')
    .description("run a command with the project's values in its environment (output masked in a terminal)")
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--env-file <file>', 'take the values from this template (.env.op); repeatable, later files win', collect)
    .option('--environment <id>', 'take the values from a 1Password Environment')
    .option('--dir <dir>', 'the project whose mount gives the values (default: the current directory)')
    .option('--no-masking', 'do not conceal values in the output')
    .option('--mask', 'conceal values also when the output is not a terminal (pipes are byte-exact by default)')
    .option('--no-inherit', "give the child only the values, not this shell's environment")
    .option('--allow-dangerous <name>', 'allow setting a name like LD_PRELOAD or NODE_OPTIONS; repeatable', collect)
    .passThroughOptions()
    .action(run((command: string[], o: RunOptions) => runCommand(ctx, command, o)));

  program
    .command('completion')
    .addArgument(new Argument('<shell>').choices(SHELLS))
    .description('print the completion script for bash, zsh or fish (`source <(envmount completion bash)`)')
    .action(
      run(async (shell: string) => {
        const script = completionScript(program, shell);
        return { data: { shell, script }, text: script };
      }),
    );

  // `--json` after the command too (`envmount status --json`): every command takes it.
  const everyCommand = (c: Command): Command[] => [c, ...c.commands.flatMap(everyCommand)];
  for (const command of everyCommand(program).slice(1)) command.option('--json', 'print data as JSON');
  let jsonAfter = false;
  program.hook('preAction', (_program, action) => {
    jsonAfter = action.opts<{ json?: boolean }>().json === true;
  });
  const wantsJson = () => program.opts<{ json?: boolean }>().json === true || jsonAfter;

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`envmount: ${message}\n`);
    if (!isEnvmountError(error)) return EXIT.failure;
    const byCode: Partial<Record<string, number>> = {
      DAEMON_NOT_RUNNING: EXIT.daemonDown,
      USAGE: EXIT.usage,
      COMMAND_NOT_FOUND: EXIT.notFound,
      NOT_EXECUTABLE: EXIT.notExecutable,
    };
    return byCode[error.code] ?? EXIT.failure;
  }
  if (!output) {
    program.outputHelp();
    return EXIT.usage;
  }
  if (output.exitCode !== undefined) return output.exitCode;
  const json = wantsJson();
  io.stdout.write(json ? `${JSON.stringify(output.data, null, 2)}\n` : `${output.text}\n`);
  return output.failed ? EXIT.failure : EXIT.ok;
}
