/**
 * The real Daemon started inside the test process (for measurements from within its event loop, or with a fake
 * 1Password provider), with the TestDaemon's temp XDG dirs. Returns it with a connected control client.
 */
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { ControlClient } from '../../src/control/client.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { socketPeer } from '../../src/daemon/peer.js';
import type { ProviderFactory } from '../../src/secrets/onepassword.js';
import type { TestDaemon } from './daemon.js';

export async function startInProcess(
  dirs: TestDaemon,
  options: { providerFactory?: ProviderFactory; serviceAccountToken?: string } = {},
): Promise<{ daemon: Daemon; client: ControlClient }> {
  const config = loadConfig(dirs.env);
  const daemon = await Daemon.start({
    config,
    logger: pino({ level: 'silent' }),
    uid: process.getuid?.() ?? 0,
    pid: process.pid,
    version: 'test',
    // Not hardened: PR_SET_DUMPABLE=0 on the test worker would outlive the test.
    harden: () => ({ dumpable: true, coreLimit: -1 }),
    peerOf: socketPeer,
    providerFactory:
      options.providerFactory ??
      (async () => {
        throw new Error('no 1Password in this test');
      }),
    serviceAccountToken: options.serviceAccountToken,
  });
  return { daemon, client: await ControlClient.connect(config.paths.socketPath) };
}
