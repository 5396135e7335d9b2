/**
 * `envmount service` on systemd: the unit and its cleanup unit in the user's unit directory, driven with
 * `systemctl --user`; logs from `journalctl --user`. Each step is taken only when needed, so a second install
 * changes nothing, and an uninstall of what is not there is a no-op. Where no user manager answers (containers,
 * WSL, CI) nothing is written and nothing claims to have worked.
 */
import { join } from 'node:path';
import { EnvmountError } from '../core/errors.js';
import {
  parseSystemctlShow,
  renderSystemdUnit,
  type ServiceAction,
  type ServiceControl,
  type ServiceState,
  SYSTEMD_CLEANUP_UNIT,
  SYSTEMD_UNIT,
} from '../core/service-units.js';
import { removeFile } from '../io/remove-file.js';
import { BY_HAND, differs, type ServiceDeps, serviceFailure, syncFile } from './service-files.js';

/** Where journald takes the output of units: without it, no journal keeps the daemon's logs. */
const JOURNAL_SOCKET = '/run/systemd/journal/socket';

export function systemdService(deps: ServiceDeps): ServiceControl {
  const unitDir = join(deps.configHome, 'systemd', 'user');
  const files = [SYSTEMD_UNIT, SYSTEMD_CLEANUP_UNIT].map((name) => ({ name, path: join(unitDir, name) }));
  const mainFile = join(unitDir, SYSTEMD_UNIT);

  const systemctl = async (args: string[], allowFailure = false) => {
    const result = await deps.exec('systemctl', ['--user', ...args]);
    if (result.code !== 0 && !allowFailure) throw serviceFailure(`systemctl --user ${args.join(' ')}`, result);
    return result;
  };

  /** Why no user manager can run the service here, or undefined when one answers. */
  const unavailable = async (): Promise<string | undefined> => {
    const result = await systemctl(['show-environment'], true);
    if (result.code === 0) return undefined;
    if (result.code === 127) return '`systemctl` is not installed here';
    const said = (result.stderr || result.stdout).trim().split('\n')[0] ?? '';
    return `no systemd user manager answers here (\`systemctl --user\`: ${said || `exit ${result.code}`})`;
  };
  const requireManager = async () => {
    const why = await unavailable();
    if (why)
      throw new EnvmountError('SERVICE_UNAVAILABLE', `envmountd cannot run as a user service: ${why}. ${BY_HAND}`);
  };

  const render = async (name: string) => renderSystemdUnit(await deps.template(join('systemd', name)), deps.paths);

  const state = async (): Promise<ServiceState> => {
    const installed = await deps.exists(mainFile);
    let stale = false;
    for (const file of files) stale ||= await differs(file.path, await render(file.name));
    const why = await unavailable();
    const base = { manager: 'systemd' as const, installed, stale, file: mainFile };
    if (why) {
      const none = { running: false, starting: false, pid: undefined, since: undefined, restarts: undefined };
      return { ...base, ...none, unavailable: why, lastError: undefined };
    }
    const show = await systemctl(
      [
        'show',
        SYSTEMD_UNIT,
        '-p',
        'LoadState,ActiveState,SubState,MainPID,ActiveEnterTimestamp,NRestarts,Result,ExecMainStatus',
      ],
      true,
    );
    const p = parseSystemctlShow(show.stdout);
    const running = p.ActiveState === 'active' || p.ActiveState === 'reloading';
    const pid = Number(p.MainPID);
    const result = p.Result && p.Result !== 'success' ? p.Result : undefined;
    return {
      ...base,
      unavailable: undefined,
      running,
      starting: p.ActiveState === 'activating',
      pid: running && pid > 0 ? pid : undefined,
      since: running && p.ActiveEnterTimestamp ? p.ActiveEnterTimestamp : undefined,
      restarts: p.NRestarts ? Number(p.NRestarts) : undefined,
      lastError: result ? `its last run ended with "${result}" (exit status ${p.ExecMainStatus ?? '?'})` : undefined,
    };
  };

  return {
    kind: 'systemd',
    state,
    async install() {
      await requireManager();
      const actions: ServiceAction[] = [];
      let changed = false;
      for (const file of files) {
        const text = await render(file.name);
        const wrote = await syncFile(file.path, text, 0o644);
        changed ||= wrote;
        actions.push({ did: wrote ? `wrote ${file.path}` : `${file.path} is up to date`, changed: wrote });
      }
      if (changed) {
        await systemctl(['daemon-reload']);
        actions.push({ did: 'systemctl --user daemon-reload', changed: true });
      }
      const enabled = (await systemctl(['is-enabled', SYSTEMD_UNIT], true)).stdout.trim() === 'enabled';
      if (!enabled) await systemctl(['enable', SYSTEMD_UNIT]);
      actions.push({
        did: enabled ? `${SYSTEMD_UNIT} is enabled` : `systemctl --user enable ${SYSTEMD_UNIT}`,
        changed: !enabled,
      });
      const active = (await systemctl(['is-active', SYSTEMD_UNIT], true)).stdout.trim() === 'active';
      const verb = !active ? 'start' : changed ? 'restart' : undefined;
      // Type=notify: this returns once the daemon said READY=1, which it says when its socket answers.
      if (verb) await systemctl([verb, SYSTEMD_UNIT]);
      actions.push({
        did: verb ? `systemctl --user ${verb} ${SYSTEMD_UNIT}` : `${SYSTEMD_UNIT} is running`,
        changed: Boolean(verb),
      });
      return { actions, state: await state() };
    },
    async uninstall() {
      const actions: ServiceAction[] = [];
      const present = await Promise.all(files.map((f) => deps.exists(f.path)));
      if (!present.some(Boolean)) return { actions: [{ did: 'not installed; nothing to do', changed: false }] };
      const why = await unavailable();
      if (why) {
        actions.push({ did: `${why}: nothing to stop`, changed: false });
      } else {
        // Stopping it makes the daemon remove every pipe it made. A failure leaves everything as it was.
        await systemctl(['disable', '--now', SYSTEMD_UNIT]);
        actions.push({ did: `systemctl --user disable --now ${SYSTEMD_UNIT}`, changed: true });
      }
      for (const file of files)
        if (await removeFile(file.path)) actions.push({ did: `removed ${file.path}`, changed: true });
      if (!why) {
        await systemctl(['daemon-reload']);
        await systemctl(['reset-failed', SYSTEMD_UNIT], true);
        actions.push({ did: 'systemctl --user daemon-reload', changed: true });
      }
      return { actions };
    },
    async logs({ lines, follow }) {
      const why = await unavailable();
      if (why)
        throw new EnvmountError(
          'SERVICE_UNAVAILABLE',
          `No journal has envmountd's logs: ${why}. A daemon started by hand logs to the terminal it runs in, or to the file its output goes to (\`nohup envmountd start >>envmountd.log 2>&1 &\`).`,
        );
      const args = ['--user', '-u', SYSTEMD_UNIT, '-n', String(lines), '--no-pager', '-o', 'cat'];
      if (follow) return { exitCode: await deps.stream('journalctl', [...args, '-f']) };
      const result = await deps.exec('journalctl', args);
      if (result.code !== 0) throw serviceFailure('journalctl', result);
      const text = result.stdout.trimEnd();
      if (!text && !(await deps.exists(JOURNAL_SOCKET)))
        throw new EnvmountError(
          'SERVICE_UNAVAILABLE',
          `No journal runs here (no ${JOURNAL_SOCKET}), so nothing keeps ${SYSTEMD_UNIT}'s output: \`envmount service status\` shows how its last run ended; to see what it says, stop the service and run \`envmountd start\` in a terminal.`,
        );
      return { text };
    },
  };
}
