/**
 * Configuration: where envmount keeps its files and how it behaves. The only module besides src/bin that reads the
 * environment; everything else receives a Config.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface Paths {
  /** 0700; holds the store key. */
  readonly configDir: string;
  /** 0700; holds the registry (paths, sources and settings: never values). */
  readonly stateDir: string;
  /** 0700; holds the encrypted store. */
  readonly dataDir: string;
  /** 0700; holds the control socket. */
  readonly runtimeDir: string;
  readonly socketPath: string;
  readonly registryFile: string;
  /** 0600; one JSON line per read, rotated to `.1` by size. */
  readonly auditFile: string;
  /** Which 1Password source `envmount login` chose (no secret: a token lives in the encrypted store). */
  readonly onePasswordFile: string;
  /** The store's environments: names and references, never values. */
  readonly environmentsFile: string;
  readonly storeFile: string;
  readonly keyFile: string;
}

export interface Config {
  readonly paths: Paths;
  /** How long a reader may take to drain content larger than the pipe buffer before the daemon gives up on it. */
  readonly writeTimeoutMs: number;
  readonly logLevel: string;
  /** How long a read that needs approval waits for an answer before the reader gets a refusal. */
  readonly approvalTimeoutMs: number;
  readonly auditMaxBytes: number;
  /** Whether a desktop dialog can ask for approvals (a display is there, or macOS). */
  readonly desktopPrompt: boolean;
  readonly platform: NodeJS.Platform;
  /** 1Password: background refresh interval, grace for serving the last good values (0: fail closed), backoff unit. */
  readonly refreshMs: number;
  readonly graceMs: number;
  readonly backoffMs: number;
  /** The `op` executable for the op CLI source. */
  readonly opPath: string;
  /** The backend `envmount add` uses when --backend is not given: ENVMOUNT_BACKEND (fifo or fuse), if set. */
  readonly defaultBackend: string | undefined;
  /** systemd's $SERVICE_RESULT, given to ExecStopPost= commands: how the daemon's last run ended. */
  readonly serviceResult: string | undefined;
  /** `envmount service`: the manager, the user's directories, and what the unit passes on to the daemon. */
  readonly service: {
    readonly manager: 'systemd' | 'launchd';
    readonly home: string;
    /** XDG_CONFIG_HOME, or ~/.config (systemd user units live in its systemd/user). */
    readonly configHome: string;
    /** Where-things-are variables set here that the daemon must see too (never credentials). */
    readonly environment: Readonly<Record<string, string>>;
  };
}

/** XDG_* locations and envmount settings set in this shell, for the service unit. */
function serviceEnvironment(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  const names =
    /^(XDG_(CONFIG|STATE|DATA)_HOME|XDG_RUNTIME_DIR|ENVMOUNT_(LOG_LEVEL|STORE_KEY_FILE|OP_PATH|DESKTOP_PROMPT|BACKEND))$/;
  for (const [name, value] of Object.entries(env)) {
    if (value && names.test(name) && !/[\n"\\]/.test(value)) out[name] = value;
  }
  return out;
}

type Env = Readonly<Record<string, string | undefined>>;

function dir(env: Env, name: string, fallback: string): string {
  const value = env[name];
  // XDG says relative values are to be ignored.
  return value?.startsWith('/') ? value : fallback;
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return value;
}

function nonNegativeInt(env: Env, name: string, fallback: number): number {
  return env[name] === '0' ? 0 : positiveInt(env, name, fallback);
}

export function loadConfig(env: Env = process.env, home: string = homedir()): Config {
  const configDir = join(dir(env, 'XDG_CONFIG_HOME', join(home, '.config')), 'envmount');
  const stateDir = join(dir(env, 'XDG_STATE_HOME', join(home, '.local', 'state')), 'envmount');
  const dataDir = join(dir(env, 'XDG_DATA_HOME', join(home, '.local', 'share')), 'envmount');
  const runtimeBase = env.XDG_RUNTIME_DIR?.startsWith('/') ? env.XDG_RUNTIME_DIR : undefined;
  const runtimeDir = runtimeBase ? join(runtimeBase, 'envmount') : join(stateDir, 'run');
  const keyFile = env.ENVMOUNT_STORE_KEY_FILE ? resolve(env.ENVMOUNT_STORE_KEY_FILE) : join(configDir, 'store.key');
  return {
    paths: {
      configDir,
      stateDir,
      dataDir,
      runtimeDir,
      socketPath: join(runtimeDir, 'envmountd.sock'),
      registryFile: join(stateDir, 'registry.json'),
      auditFile: join(stateDir, 'audit.log'),
      onePasswordFile: join(stateDir, 'onepassword.json'),
      environmentsFile: join(stateDir, 'environments.json'),
      storeFile: join(dataDir, 'store.enc'),
      keyFile,
    },
    writeTimeoutMs: positiveInt(env, 'ENVMOUNT_WRITE_TIMEOUT_MS', 5000),
    logLevel: env.ENVMOUNT_LOG_LEVEL || 'info',
    approvalTimeoutMs: positiveInt(env, 'ENVMOUNT_APPROVAL_TIMEOUT_MS', 120_000),
    auditMaxBytes: positiveInt(env, 'ENVMOUNT_AUDIT_MAX_BYTES', 5 * 1024 * 1024),
    desktopPrompt:
      env.ENVMOUNT_DESKTOP_PROMPT !== '0' &&
      (process.platform === 'darwin' || Boolean(env.DISPLAY) || Boolean(env.WAYLAND_DISPLAY)),
    platform: process.platform,
    refreshMs: positiveInt(env, 'ENVMOUNT_REFRESH_MS', 5 * 60_000),
    graceMs: nonNegativeInt(env, 'ENVMOUNT_GRACE_MS', 60 * 60_000),
    backoffMs: positiveInt(env, 'ENVMOUNT_BACKOFF_MS', 5_000),
    opPath: env.ENVMOUNT_OP_PATH || 'op',
    defaultBackend: env.ENVMOUNT_BACKEND || undefined,
    serviceResult: env.SERVICE_RESULT || undefined,
    service: {
      manager:
        env.ENVMOUNT_SERVICE_MANAGER === 'launchd' || (!env.ENVMOUNT_SERVICE_MANAGER && process.platform === 'darwin')
          ? 'launchd'
          : 'systemd',
      home,
      configHome: dir(env, 'XDG_CONFIG_HOME', join(home, '.config')),
      environment: serviceEnvironment(env),
    },
  };
}
