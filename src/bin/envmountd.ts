#!/usr/bin/env -S node --
/**
 * The `envmountd` entry point: `envmountd start` runs the daemon in the foreground (what systemd or launchd runs),
 * JSON logs on stderr, clean stop on SIGTERM/SIGINT. The one place the daemon's dependencies are wired.
 */
import { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../config/config.js';
import { isEnvmountError } from '../core/errors.js';
import { cleanupAfterStop } from '../daemon/cleanup.js';
import { Daemon } from '../daemon/daemon.js';
import { socketPeer } from '../daemon/peer.js';
import { harden, notifyServiceManager, scrubEnvironment } from '../native/index.js';
import { providerFactory } from './providers.js';
import { VERSION } from './version.js';

async function start(): Promise<void> {
  const config = loadConfig(process.env);
  // The token moves into memory and out of the environment: nothing this process starts inherits it, and
  // /proc/PID/environ no longer shows it (the process is non-dumpable besides).
  const serviceAccountToken = process.env.OP_SERVICE_ACCOUNT_TOKEN || undefined;
  delete process.env.OP_SERVICE_ACCOUNT_TOKEN;
  scrubEnvironment('OP_SERVICE_ACCOUNT_TOKEN');
  const logger = pino(
    {
      name: 'envmountd',
      level: config.logLevel,
      // A second guard: values never reach a log call in the first place.
      redact: {
        paths: ['value', 'valueBase64', '*.value', '*.valueBase64', 'params', 'content'],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: 2, sync: true }),
  );
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
    });
  } catch (error) {
    logger.fatal({ code: isEnvmountError(error) ? error.code : undefined }, (error as Error).message);
    process.exitCode = isEnvmountError(error) && error.code === 'ALREADY_RUNNING' ? 3 : 1;
    return;
  }
  tellServiceManager('READY=1');
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without a clean stop');
      process.exit(1);
    }
    logger.info({ signal }, 'stopping');
    tellServiceManager('STOPPING=1');
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGHUP', shutdown);
}

const program = new Command('envmountd').description('the envmount daemon').version(VERSION, '-V, --version');
program.command('start').description('run the daemon in the foreground').action(start);
program
  .command('cleanup')
  .description('after a stop or a crash: let waiting readers go and remove the pipes (systemd ExecStopPost)')
  .option('--unless-restarting', 'do nothing when systemd says the daemon failed ($SERVICE_RESULT): it restarts it')
  .action(async (options: { unlessRestarting?: boolean }) => {
    const config = loadConfig(process.env);
    const logger = pino({ name: 'envmountd', level: config.logLevel }, pino.destination({ dest: 2, sync: true }));
    // A failed run is restarted (Restart=on-failure) within RestartSec, and the next daemon serves every reader
    // waiting on the pipes; releasing them now would hand them an empty file. If systemd gives up instead, the
    // unit fails and OnFailure= runs a plain cleanup.
    if (options.unlessRestarting && config.serviceResult && config.serviceResult !== 'success') {
      logger.info({ result: config.serviceResult }, 'the daemon failed and is restarted: pipes left for it');
      return;
    }
    await cleanupAfterStop(config.paths, process.getuid?.() ?? 0, logger);
  });
await program.parseAsync(process.argv);
