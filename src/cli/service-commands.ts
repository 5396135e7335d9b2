/** `envmount service install|uninstall|status|logs`: envmountd as a user service (systemd or launchd). */
import type { DaemonStatus, MountInfo } from '../control/protocol.js';
import { EnvmountError, isEnvmountError } from '../core/errors.js';
import type { ServiceAction, ServiceState } from '../core/service-units.js';
import { type CliContext, type CommandOutput, withClient } from './context.js';

/** How long `service install` waits for the daemon it started to answer. */
const ANSWER_WAIT_MS = 30_000;
const POLL_MS = 100;

function formatActions(actions: readonly ServiceAction[]): string[] {
  return actions.map((a) => `  ${a.changed ? '+' : '='} ${a.did}`);
}

function formatState(s: ServiceState): string {
  if (s.unavailable) return `service:   unavailable: ${s.unavailable}; envmountd runs here only when started by hand`;
  if (!s.installed) return `service:   not installed (${s.manager}); run \`envmount service install\``;
  const parts = [s.running ? 'running' : s.starting ? 'starting' : 'not running'];
  if (s.pid) parts.push(`pid ${s.pid}`);
  if (s.since) parts.push(`since ${s.since}`);
  if (s.restarts) parts.push(`${s.restarts} restarts`);
  return `service:   ${s.manager}, ${parts.join(', ')} (${s.file})`;
}

/** How to (re)start the daemon here: through its service manager, or by hand where there is none. */
export function restartCommand(state: Pick<ServiceState, 'manager' | 'unavailable' | 'lastError'>): string {
  if (state.unavailable) return '`envmountd start` in a terminal (or under `nohup` or your own supervisor)';
  if (state.manager === 'launchd') return '`launchctl kickstart -k gui/$(id -u)/dev.envmount.envmountd`';
  // Past StartLimitBurst systemd refuses every start until the failure is reset.
  return state.lastError?.includes('start-limit-hit')
    ? '`systemctl --user reset-failed envmountd && systemctl --user restart envmountd`'
    : '`systemctl --user restart envmountd`';
}

/**
 * Whether a systemd user manager here stops at logout: no graphical session, and lingering not enabled (or not
 * known: no logind). Undefined when it does not apply.
 */
export async function lingerNote(ctx: CliContext, state: ServiceState): Promise<string | undefined> {
  if (state.manager !== 'systemd' || state.unavailable) return undefined;
  const env = ctx.environment;
  const graphical =
    Boolean(env.DISPLAY || env.WAYLAND_DISPLAY) || env.XDG_SESSION_TYPE === 'x11' || env.XDG_SESSION_TYPE === 'wayland';
  if (graphical) return undefined;
  const linger = await ctx.exec('loginctl', ['show-user', String(ctx.uid), '--property=Linger', '--value'], {
    cwd: ctx.cwd,
  });
  if (linger.code === 0 && linger.stdout.trim() === 'yes') return undefined;
  return 'no graphical session here: unless lingering is on, your user manager, and envmountd with it, stops when you log out. Keep it running: `loginctl enable-linger $USER`';
}

/** The daemon's own view, when it answers: pid, uptime and mounts. */
export async function daemonView(ctx: CliContext): Promise<{ daemon: DaemonStatus; mounts: MountInfo[] } | undefined> {
  try {
    return await withClient(ctx, async (client) => {
      const status = await client.request('status', {});
      return { daemon: status.daemon, mounts: status.mounts };
    });
  } catch (error) {
    if (isEnvmountError(error) && error.code === 'DAEMON_NOT_RUNNING') return undefined;
    throw error;
  }
}

function daemonLine(view: Awaited<ReturnType<typeof daemonView>>, ctx: CliContext): string {
  if (!view) return `daemon:    not answering on ${ctx.socketPath}`;
  const d = view.daemon;
  return `daemon:    pid ${d.pid}, up ${Math.round(d.uptimeMs / 1000)}s, ${view.mounts.length} mounts, on ${d.socket}`;
}

/** Waits, a bounded while, for the daemon the service manager started to answer on the socket. */
async function answering(ctx: CliContext) {
  for (let waited = 0; ; waited += POLL_MS) {
    const view = await daemonView(ctx);
    if (view || waited >= ANSWER_WAIT_MS) return view;
    await ctx.sleep(POLL_MS);
  }
}

export async function serviceInstall(ctx: CliContext): Promise<CommandOutput> {
  const { actions, state } = await ctx.service.install();
  const view = await answering(ctx);
  if (!view) {
    throw new EnvmountError(
      'SERVICE_FAILED',
      `${state.manager} started envmountd, but nothing answered at ${ctx.socketPath} within ${ANSWER_WAIT_MS / 1000} s. See \`envmount service status\` and \`envmount service logs\`.`,
    );
  }
  const changed = actions.some((a) => a.changed);
  const head = changed
    ? `envmountd is installed as a ${state.manager} user service and answers (pid ${view.daemon.pid}).`
    : 'Already installed and running; nothing changed.';
  const lines = [head, ...formatActions(actions), formatState(state)];
  const linger = await lingerNote(ctx, state);
  if (linger) lines.push(`note:      ${linger}`);
  return { data: { actions, state, pid: view.daemon.pid }, text: lines.join('\n') };
}

export async function serviceUninstall(ctx: CliContext): Promise<CommandOutput> {
  const { actions } = await ctx.service.uninstall();
  const changed = actions.some((a) => a.changed);
  // Whatever the service manager did, a daemon that still answers was not its to stop: say so, never "gone".
  const view = await daemonView(ctx);
  let head: string;
  if (view)
    head = `${changed ? 'The service is removed, but' : 'No service is installed, and'} envmountd still runs (pid ${view.daemon.pid}, not started by the service): stop it with \`kill ${view.daemon.pid}\`; its pipes go when it stops.`;
  else if (changed) head = 'envmountd is no longer a user service; its pipes are gone.';
  else head = 'Not installed; nothing changed.';
  return {
    data: { actions, daemon: view ? { pid: view.daemon.pid } : undefined },
    // Nothing changed: the head says so; the manager's "nothing to do" line would say it twice.
    text: [head, ...(changed ? formatActions(actions) : [])].join('\n'),
  };
}

export async function serviceStatus(ctx: CliContext): Promise<CommandOutput> {
  const state = await ctx.service.state();
  const view = await daemonView(ctx);
  const lines = [formatState(state), daemonLine(view, ctx)];
  lines.push(`last error: ${state.lastError ?? 'none'}`);
  if (state.stale) {
    lines.push(
      'warning:   the unit is not what `envmount service install` writes now (another node or install): run it again',
    );
  }
  if (state.unavailable && !view) lines.push(`fix:       ${restartCommand(state)}`);
  else if (state.installed && !state.unavailable && !state.running && !state.starting)
    lines.push(`fix:       ${restartCommand(state)}, and see \`envmount service logs\``);
  const linger = await lingerNote(ctx, state);
  if (linger && state.installed) lines.push(`note:      ${linger}`);
  return {
    data: {
      service: state,
      daemon: view ? { pid: view.daemon.pid, uptimeMs: view.daemon.uptimeMs, mounts: view.mounts.length } : undefined,
    },
    text: lines.join('\n'),
  };
}

export async function serviceLogs(ctx: CliContext, o: { lines?: string; follow?: boolean }): Promise<CommandOutput> {
  const lines = o.lines === undefined ? 100 : Number(o.lines);
  if (!Number.isInteger(lines) || lines <= 0) {
    throw new EnvmountError('USAGE', `--lines must be a positive whole number, got "${o.lines}".`);
  }
  const result = await ctx.service.logs({ lines, follow: o.follow ?? false });
  if ('exitCode' in result) return { data: undefined, text: '', exitCode: result.exitCode };
  return { data: { lines: result.text ? result.text.split('\n') : [] }, text: result.text || '(no log lines yet)' };
}
