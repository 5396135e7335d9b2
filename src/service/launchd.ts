/**
 * `envmount service` on macOS: a LaunchAgent in ~/Library/LaunchAgents, loaded with `launchctl bootstrap
 * gui/UID`; its log is the file the plist names (~/Library/Logs/envmountd.log). Each step only when needed.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  LAUNCHD_LABEL,
  parseLaunchctlPrint,
  renderLaunchAgent,
  type ServiceAction,
  type ServiceControl,
  type ServiceState,
} from '../core/service-units.js';
import { removeFile } from '../io/remove-file.js';
import { differs, type ServiceDeps, serviceFailure, syncFile } from './service-files.js';

export function launchdService(deps: ServiceDeps): ServiceControl {
  const file = join(deps.paths.home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  const logFile = join(deps.paths.home, 'Library', 'Logs', 'envmountd.log');
  const domain = `gui/${deps.uid}`;
  const target = `${domain}/${LAUNCHD_LABEL}`;

  const launchctl = async (args: string[], allowFailure = false) => {
    const result = await deps.exec('launchctl', args);
    if (result.code !== 0 && !allowFailure) throw serviceFailure(`launchctl ${args.join(' ')}`, result);
    return result;
  };
  const loaded = async () => (await launchctl(['print', target], true)).code === 0;

  const render = async () =>
    renderLaunchAgent(await deps.template(join('launchd', `${LAUNCHD_LABEL}.plist`)), deps.paths);

  const state = async (): Promise<ServiceState> => {
    const printed = await launchctl(['print', target], true);
    const p = printed.code === 0 ? parseLaunchctlPrint(printed.stdout) : {};
    const unavailable = printed.code === 127 ? '`launchctl` is not available here' : undefined;
    const pid = Number(p.pid);
    const running = p.state === 'running' && pid > 0;
    const lastExit = p['last exit code'];
    return {
      manager: 'launchd',
      unavailable,
      // Loaded and about to be (re)launched: KeepAlive after an exit, or RunAtLoad just now.
      starting: p.state === 'spawn scheduled' || (p.state === 'running' && !(pid > 0)),
      installed: await deps.exists(file),
      stale: await differs(file, await render()),
      file,
      running,
      pid: running ? pid : undefined,
      since: undefined,
      restarts: p.runs ? Math.max(0, Number(p.runs) - 1) : undefined,
      lastError:
        lastExit && lastExit !== '0' && lastExit !== '(never exited)'
          ? `its last run exited with ${lastExit}`
          : undefined,
    };
  };

  return {
    kind: 'launchd',
    state,
    async install() {
      const actions: ServiceAction[] = [];
      const text = await render();
      await mkdir(dirname(logFile), { recursive: true, mode: 0o700 });
      const wrote = await syncFile(file, text, 0o644);
      actions.push({ did: wrote ? `wrote ${file}` : `${file} is up to date`, changed: wrote });
      let isLoaded = await loaded();
      if (isLoaded && wrote) {
        await launchctl(['bootout', target]);
        actions.push({ did: `launchctl bootout ${target}`, changed: true });
        isLoaded = false;
      }
      if (!isLoaded) await launchctl(['bootstrap', domain, file]);
      actions.push({
        did: isLoaded ? `${LAUNCHD_LABEL} is loaded` : `launchctl bootstrap ${domain} ${file}`,
        changed: !isLoaded,
      });
      return { actions, state: await state() };
    },
    async uninstall() {
      const actions: ServiceAction[] = [];
      const isLoaded = await loaded();
      if (isLoaded) {
        // Stopping it makes the daemon remove every pipe it made.
        await launchctl(['bootout', target]);
        actions.push({ did: `launchctl bootout ${target}`, changed: true });
      }
      if (await removeFile(file)) actions.push({ did: `removed ${file}`, changed: true });
      if (actions.length === 0) actions.push({ did: 'not installed; nothing to do', changed: false });
      return { actions };
    },
    async logs({ lines, follow }) {
      if (follow) return { exitCode: await deps.stream('tail', ['-n', String(lines), '-F', logFile]) };
      const result = await deps.exec('tail', ['-n', String(lines), logFile]);
      if (result.code !== 0) throw serviceFailure(`tail ${logFile}`, result);
      return { text: result.stdout.trimEnd() };
    },
  };
}
