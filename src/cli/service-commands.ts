/** `envmount service install|uninstall|status|logs`: envmountd as a user service (systemd or launchd). */
import type { DaemonStatus, MountInfo } from '../control/protocol.js';
import { EnvmountError, isEnvmountError } from '../core/errors.js';
import type { ServiceAction, ServiceState } from '../core/service-units.js';
import { type CliContext, type CommandOutput, withClient } from './context.js';

function formatActions(actions: readonly ServiceAction[]): string[] {
  return actions.map((a) => `  ${a.changed ? '+' : '='} ${a.did}`);
}

function formatState(s: ServiceState): string {
  if (!s.installed) return `service:   not installed (${s.manager}); run \`envmount service install\``;
  const parts = [s.running ? 'running' : 'not running'];
  if (s.pid) parts.push(`pid ${s.pid}`);
  if (s.since) parts.push(`since ${s.since}`);
  if (s.restarts) parts.push(`${s.restarts} restarts`);
  return `service:   ${s.manager}, ${parts.join(', ')} (${s.file})`;
}

/** How to (re)start the installed service by hand. */
export function restartCommand(state: Pick<ServiceState, 'manager'>): string {
  return state.manager === 'systemd'
    ? '`systemctl --user restart envmountd`'
    : '`launchctl kickstart -k gui/$(id -u)/dev.envmount.envmountd`';
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

export async function serviceInstall(ctx: CliContext): Promise<CommandOutput> {
  const { actions, state } = await ctx.service.install();
  const changed = actions.some((a) => a.changed);
  const head = changed
    ? `envmountd is installed as a ${state.manager} user service.`
    : 'Already installed and running; nothing changed.';
  return { data: { actions, state }, text: [head, ...formatActions(actions), formatState(state)].join('\n') };
}

export async function serviceUninstall(ctx: CliContext): Promise<CommandOutput> {
  const { actions } = await ctx.service.uninstall();
  const changed = actions.some((a) => a.changed);
  const head = changed
    ? 'envmountd is no longer a user service; its pipes are gone.'
    : 'Not installed; nothing changed.';
  return { data: { actions }, text: [head, ...formatActions(actions)].join('\n') };
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
  if (state.installed && !state.running)
    lines.push(`fix:       ${restartCommand(state)}, and see \`envmount service logs\``);
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
