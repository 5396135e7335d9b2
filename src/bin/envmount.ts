#!/usr/bin/env -S node --
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../cli/main.js';
import { confirmer, secretReader } from '../cli/prompt.js';
/** The `envmount` entry point: wires config, streams and the control client, then hands over to the CLI. */
import { loadConfig } from '../config/config.js';
import { ControlClient } from '../control/client.js';
import { createChildRunner } from '../run/runner.js';
import { execCommand, serviceControl } from '../service/service-control.js';
import { VERSION } from './version.js';

const config = loadConfig(process.env);
const code = await main(
  process.argv.slice(2),
  {
    socketPath: config.paths.socketPath,
    cwd: process.cwd(),
    version: VERSION,
    connect: () => ControlClient.connect(config.paths.socketPath),
    readSecret: secretReader({ input: process.stdin, output: process.stderr }),
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    confirm: confirmer({ input: process.stdin, output: process.stderr }),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    environment: process.env,
    uid: process.getuid?.() ?? 0,
    defaultBackend: config.defaultBackend,
    registryFile: config.paths.registryFile,
    exec: (command, args, options) => execCommand(command, args, options.cwd),
    service: serviceControl({
      kind: config.service.manager,
      // dist/bin/envmount.js -> the package root, which ships systemd/ and launchd/.
      install: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
      node: process.execPath,
      home: config.service.home,
      configHome: config.service.configHome,
      environment: config.service.environment,
      uid: process.getuid?.() ?? 0,
    }),
    mcp: async () => {
      // Loaded only for `envmount mcp`: the SDK is not needed by any other command.
      const { serveMcp } = await import('../mcp/server.js');
      await serveMcp({
        version: VERSION,
        // Marked as an agent's: the daemon applies nothing from it that widens who can read what.
        connect: () => ControlClient.connect(config.paths.socketPath, { origin: 'agent' }),
        resolveDir: (dir) => resolve(process.cwd(), dir),
        stdin: process.stdin,
        stdout: process.stdout,
        log: (line) => process.stderr.write(`${line}\n`),
      });
    },
    child: createChildRunner({
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      signals: process,
    }),
  },
  { stdout: process.stdout, stderr: process.stderr },
);
process.exitCode = code;
