/**
 * envmountd's lifecycle: harden the process, claim the control socket (refusing if a daemon already answers),
 * open the store and registry, put the mounts back, serve requests; on stop, undo all of it in reverse order.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { DaemonStatus, Params } from '../control/protocol.js';
import { type ControlServer, type Peer, startControlServer } from '../control/server.js';
import { ensurePrivateDir } from '../io/atomic-write.js';
import { type Hardening, setPrivateGroup, watchAvailable } from '../native/index.js';
import { OnePassword, type ProviderFactory } from '../secrets/onepassword.js';
import { EmbeddedStore } from '../secrets/store.js';
import { loadStoreKey } from '../secrets/store-key.js';
import { valueSource } from '../secrets/value-source.js';
import { AgentRequests } from './agent-requests.js';
import { environmentMethods } from './environments/environment-methods.js';
import { Environments } from './environments/environments.js';
import { ValueWaiters } from './environments/value-waiters.js';
import { createHandler } from './handlers.js';
import { MountService } from './mounts/mounts.js';
import { Registry } from './mounts/registry.js';
import { userPrivateGroup } from './mounts/shared-dir.js';
import { Approvals } from './readers/approvals.js';
import { AuditLog } from './readers/audit.js';
import { desktopPrompter } from './readers/desktop-prompt.js';
import { ReaderGate } from './readers/reader-gate.js';
import { terminalNotice } from './readers/wait-notice.js';
import { runValues } from './run/run-values.js';

export interface DaemonDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly uid: number;
  readonly pid: number;
  readonly version: string;
  readonly harden: () => Hardening;
  readonly peerOf: (socket: Socket) => Peer;
  /** Builds a 1Password provider (the SDK or the op CLI), wired in src/bin. */
  readonly providerFactory: ProviderFactory;
  /** OP_SERVICE_ACCOUNT_TOKEN, taken out of the environment by src/bin. */
  readonly serviceAccountToken: string | undefined;
  /** The real paths of envmount's CLI scripts: `envmount run` from one is judged on its command (run/). */
  readonly cliScripts?: readonly string[];
}

export class Daemon {
  readonly #server: ControlServer;
  readonly #mounts: MountService;
  readonly #store: EmbeddedStore;
  readonly #logger: Logger;
  readonly #approvals: Approvals;
  readonly #audit: AuditLog;
  readonly #onePassword: OnePassword;
  readonly #waiters: ValueWaiters;
  #stopping: Promise<void> | undefined;

  private constructor(
    server: ControlServer,
    mounts: MountService,
    store: EmbeddedStore,
    logger: Logger,
    approvals: Approvals,
    audit: AuditLog,
    onePassword: OnePassword,
    waiters: ValueWaiters,
  ) {
    this.#waiters = waiters;
    this.#onePassword = onePassword;
    mounts.startHealing(watchAvailable());
    this.#approvals = approvals;
    this.#audit = audit;
    this.#server = server;
    this.#mounts = mounts;
    this.#store = store;
    this.#logger = logger;
  }

  static async start(deps: DaemonDeps): Promise<Daemon> {
    const { config, logger } = deps;
    const hardening = deps.harden();
    // Before any mount thread starts: they apply the same StrictModes rule as JS (core/shared-directory.ts).
    setPrivateGroup(userPrivateGroup());
    const startedAt = new Date();
    for (const dir of [config.paths.configDir, config.paths.stateDir, config.paths.dataDir]) {
      await ensurePrivateDir(dir);
    }
    // The store and mounts are opened only after the socket is ours, so a second daemon touches nothing.
    let ready: (handler: ReturnType<typeof createHandler>) => void = () => undefined;
    const handlerReady = new Promise<ReturnType<typeof createHandler>>((resolve) => {
      ready = resolve;
    });
    const server = await startControlServer({
      socketPath: config.paths.socketPath,
      runtimeDir: config.paths.runtimeDir,
      uid: deps.uid,
      logger: logger.child({ component: 'control' }),
      peerOf: deps.peerOf,
      handle: async (method, params, peer) => (await handlerReady)(method, params, peer),
    });
    let store: EmbeddedStore | undefined;
    let audit: AuditLog | undefined;
    let approvalsRef: Approvals | undefined;
    let onePassword: OnePassword | undefined;
    let waitersRef: ValueWaiters | undefined;
    try {
      store = await EmbeddedStore.open(config.paths.storeFile, await loadStoreKey(config.paths.keyFile, true));
      const registry = await Registry.load(config.paths.registryFile);
      const environments = await Environments.load(config.paths.environmentsFile);
      const waiters = new ValueWaiters();
      waitersRef = waiters;
      audit = await AuditLog.open(config.paths.auditFile, config.auditMaxBytes, logger.child({ component: 'audit' }));
      const approvals = new Approvals(
        config.approvalTimeoutMs,
        config.desktopPrompt ? desktopPrompter({ platform: config.platform, display: true }) : undefined,
        terminalNotice(deps.uid),
      );
      approvalsRef = approvals;
      // The cache re-renders the mounts after each refresh; the mounts exist a few lines below.
      let mountsRef: MountService | undefined;
      const openStore = store;
      onePassword = new OnePassword({
        factory: deps.providerFactory,
        settingsFile: config.paths.onePasswordFile,
        store,
        logger: logger.child({ component: '1password' }),
        refreshMs: config.refreshMs,
        graceMs: config.graceMs,
        backoffMs: config.backoffMs,
        onChange: () => mountsRef?.refreshAll(),
      });
      const op = onePassword;
      await op.start(deps.serviceAccountToken);
      const source = valueSource(store, () => op.cache);
      const gate = new ReaderGate({ approvals, audit, logger: logger.child({ component: 'readers' }) });
      const mounts = new MountService({
        audit,
        gate,
        registry,
        source,
        storeEnvironments: (name) => environments.entries(name),
        references: op,
        uid: deps.uid,
        writeTimeoutMs: config.writeTimeoutMs,
        logger: logger.child({ component: 'mounts' }),
      });
      mountsRef = mounts;
      await mounts.restore();
      const daemonStatus = (): DaemonStatus => ({
        pid: deps.pid,
        version: deps.version,
        startedAt: startedAt.toISOString(),
        uptimeMs: Date.now() - startedAt.getTime(),
        socket: config.paths.socketPath,
        dumpable: hardening.dumpable,
        coreLimit: hardening.coreLimit,
        storeNames: openStore.names().length,
        onePassword: op.status(),
        storeLocked: openStore.locked,
        valueRequests: waiters.count,
      });
      const lock = () => {
        op.cache?.lock();
        openStore.lock();
        mounts.refreshAll();
        logger.info('locked: every value wiped from memory');
      };
      const unlock = async () => {
        if (openStore.locked) await openStore.unlock(await loadStoreKey(config.paths.keyFile, false));
        await op.cache?.unlock();
        mounts.refreshAll();
        logger.info('unlocked');
      };
      const runDeps = {
        mounts,
        source,
        gate,
        audit,
        validate: (r: string) => op.validate(r),
        cliScripts: deps.cliScripts ?? [],
      };
      const run = (params: Params<'run'>, peer: Peer) => runValues(params, peer, runDeps);
      const environmentDeps = { environments, store, mounts, source, waiters, validate: (r: string) => op.validate(r) };
      const environmentHandlers = environmentMethods(environmentDeps);
      const agent = new AgentRequests({
        mounts,
        store,
        approvals,
        environments: environmentHandlers,
        validate: (r: string) => op.validate(r),
        logger: logger.child({ component: 'agent' }),
      });
      ready(
        createHandler({
          mounts,
          store,
          approvals,
          audit,
          onePassword: op,
          daemonStatus,
          lock,
          unlock,
          run,
          waiters,
          environments: environmentHandlers,
          agent,
        }),
      );
      logger.info(
        { socket: config.paths.socketPath, mounts: mounts.list().length, dumpable: hardening.dumpable },
        'envmountd started',
      );
      return new Daemon(server, mounts, store, logger, approvals, audit, op, waiters);
    } catch (error) {
      onePassword?.close();
      waitersRef?.cancelAll();
      approvalsRef?.cancel();
      await audit?.close();
      store?.close();
      await server.close();
      throw error;
    }
  }

  /** Stops serving: no new requests, every mount's FIFO removed, every value wiped. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#mounts.stopHealing();
      try {
        await this.#server.close();
      } finally {
        try {
          // Readers waiting for an answer are refused (comment lines) before their pipes go.
          this.#approvals.cancel();
          this.#waiters.cancelAll();
          await this.#mounts.stopAll();
        } finally {
          await this.#audit.close().catch(() => undefined);
          this.#onePassword.close();
          this.#store.close();
          this.#logger.info('envmountd stopped');
        }
      }
    })();
    return this.#stopping;
  }
}
