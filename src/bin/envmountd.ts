#!/usr/bin/env -S node --
/**
 * The `envmountd` entry point: `envmountd start` runs the daemon in the foreground (what systemd or launchd runs),
 * clean stop on SIGTERM/SIGINT; `envmountd cleanup` releases what a dead daemon left. The one place the daemon's
 * dependencies are wired. Logs go to stderr: sentences on a terminal, JSON lines otherwise (the journal), or as
 * `--log-format` says. Exit codes: see EXIT.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { type DestinationStream, type Logger, pino } from 'pino';
import { loadConfig } from '../config/config.js';
import { isEnvmountError } from '../core/errors.js';
import { humanLogLine } from '../core/log-line.js';
import { cleanupAfterStop } from '../daemon/cleanup.js';
import { Daemon } from '../daemon/daemon.js';
import { socketPeer } from '../daemon/peer.js';
import { fuseUseRunner, harden, notifyServiceManager, scrubEnvironment } from '../native/index.js';
import { fuseRunner } from './privileges.js';
import { providerFactory } from './providers.js';
import { VERSION } from './version.js';

/** envmount's CLI script beside this one, by its real path (`envmount run` from it is judged on its command). */
function cliScripts(): string[] {
  try {
    return [realpathSync(fileURLToPath(new URL('./envmount.js', import.meta.url)))];
  } catch {
    return [];
  }
}

/** 3 is not used: `envmount` exits 3 for "the daemon is not running". */
const EXIT = { ok: 0, failure: 1, usage: 2, alreadyRunning: 4 } as const;

type LogFormat = 'pretty' | 'json';

function destination(format: LogFormat): DestinationStream {
  if (format === 'json') return pino.destination({ dest: 2, sync: true });
  return {
    write: (line: string) => {
      try {
        process.stderr.write(humanLogLine(JSON.parse(line) as Record<string, unknown>));
      } catch {
        process.stderr.write(line);
      }
    },
  };
}

function makeLogger(format: LogFormat, level: string): Logger {
  return pino(
    {
      name: 'envmountd',
      level,
      // A second guard: values never reach a log call in the first place.
      redact: {
        paths: ['value', 'valueBase64', '*.value', '*.valueBase64', 'params', 'content'],
        censor: '[redacted]',
      },
    },
    destination(format),
  );
}

/** Under a unit's no_new_privs, FUSE mounts and detaches ask the user's systemd to run fusermount3 (privileges.ts). */
async function useFuseRunner(logger: Logger): Promise<void> {
  const runner = await fuseRunner(process.env, process.getuid?.() ?? 0);
  if (!runner) return;
  fuseUseRunner(runner);
  logger.debug('FUSE mounts go through the user manager (systemd-run): this process runs with no_new_privs');
}

async function start(format: LogFormat): Promise<void> {
  const config = loadConfig(process.env);
  // The token moves into memory and out of the environment: nothing this process starts inherits it, and
  // /proc/PID/environ no longer shows it (the process is non-dumpable besides).
  const serviceAccountToken = process.env.OP_SERVICE_ACCOUNT_TOKEN || undefined;
  delete process.env.OP_SERVICE_ACCOUNT_TOKEN;
  scrubEnvironment('OP_SERVICE_ACCOUNT_TOKEN');
  const logger = makeLogger(format, config.logLevel);
  // systemd (Type=notify) counts the unit started when READY=1 comes, sent once the socket answers; children
  // (op, the approval dialog) must not inherit the socket.
  const notifySocket = process.env.NOTIFY_SOCKET || undefined;
  delete process.env.NOTIFY_SOCKET;
  const tellServiceManager = (message: string) => {
    if (!notifySocket) return;
    try {
      notifyServiceManager(notifySocket, message);
    } catch (error) {
      logger.warn({ code: (error as NodeJS.ErrnoException).code }, 'could not notify the service manager');
    }
  };
  await useFuseRunner(logger);
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({
      config,
      logger,
      uid: process.getuid?.() ?? 0,
      pid: process.pid,
      version: VERSION,
      harden,
      peerOf: socketPeer,
      providerFactory: providerFactory(config, { ...process.env }, VERSION),
      serviceAccountToken,
      cliScripts: cliScripts(),
    });
  } catch (error) {
    logger.fatal({ code: isEnvmountError(error) ? error.code : undefined }, (error as Error).message);
    process.exitCode = isEnvmountError(error) && error.code === 'ALREADY_RUNNING' ? EXIT.alreadyRunning : EXIT.failure;
    return;
  }
  tellServiceManager('READY=1');
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without a clean stop');
      process.exit(EXIT.failure);
    }
    logger.info({ signal }, 'stopping');
    tellServiceManager('STOPPING=1');
    daemon.stop().then(
      () => process.exit(EXIT.ok),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(EXIT.failure);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGHUP', shutdown);
}

async function cleanup(format: LogFormat, options: { unlessRestarting?: boolean; json?: boolean }): Promise<void> {
  const config = loadConfig(process.env);
  const logger = makeLogger(format, config.logLevel);
  const print = (data: object, text: string) =>
    process.stdout.write(options.json ? `${JSON.stringify(data)}\n` : `${text}\n`);
  // A failed run is restarted (Restart=on-failure) within RestartSec, and the next daemon serves every reader
  // waiting on the pipes; releasing them now would hand them an empty file. If systemd gives up instead, the
  // unit fails and OnFailure= runs a plain cleanup.
  if (options.unlessRestarting && config.serviceResult && config.serviceResult !== 'success') {
    logger.info({ result: config.serviceResult }, 'the daemon failed and is restarted: pipes left for it');
    print(
      { restarting: true, result: config.serviceResult },
      `envmountd failed (${config.serviceResult}) and is being restarted: its pipes are left for it.`,
    );
    return;
  }
  await useFuseRunner(logger);
  const result = await cleanupAfterStop(config.paths, process.getuid?.() ?? 0, logger);
  const pipes = [
    ...(result.removed > 0 || result.detached === 0
      ? [`${result.removed} pipe${result.removed === 1 ? '' : 's'}`]
      : []),
    ...(result.detached > 0 ? [`${result.detached} FUSE mount${result.detached === 1 ? '' : 's'} (detached)`] : []),
  ].join(' and ');
  const released =
    result.released === 0
      ? 'no reader was waiting'
      : `readers waiting on ${result.released} were let go with a comment line`;
  print(
    result,
    result.daemonRunning
      ? `envmountd is running (it answers on ${config.paths.socketPath}): its pipes are its own; nothing was cleaned.`
      : result.removed === 0 && result.detached === 0
        ? 'Nothing to clean: no pipe or mount of a stopped envmountd is left.'
        : `Removed ${pipes} left by a stopped envmountd (${released}); \`envmountd start\` puts the mounts back.`,
  );
}

const program = new Command('envmountd')
  .description('the envmount daemon')
  .version(VERSION, '-V, --version')
  .addOption(
    new Option(
      '--log-format <format>',
      'pretty (sentences; the default on a terminal) or json (the default otherwise)',
    ).choices(['pretty', 'json']),
  )
  .addHelpText(
    'after',
    `\nExit codes: ${EXIT.ok} stopped cleanly (or cleanup done), ${EXIT.failure} failed, ${EXIT.usage} usage, ${EXIT.alreadyRunning} another envmountd already runs for this user.`,
  )
  .exitOverride();
const format = (): LogFormat =>
  program.opts<{ logFormat?: LogFormat }>().logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json');
program
  .command('start')
  .description('run the daemon in the foreground')
  .action(() => start(format()));
program
  .command('cleanup')
  .description('after a stop or a crash: let waiting readers go and remove the pipes (systemd ExecStopPost)')
  .option('--unless-restarting', 'do nothing when systemd says the daemon failed ($SERVICE_RESULT): it restarts it')
  .option('--json', 'print the result as JSON')
  .action((options: { unlessRestarting?: boolean; json?: boolean }) => cleanup(format(), options));
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
