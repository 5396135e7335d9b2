/** The unit files and the LaunchAgent as `envmount service install` writes them, and what the managers print. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  parseLaunchctlPrint,
  parseSystemctlShow,
  renderLaunchAgent,
  renderSystemdUnit,
} from '../../src/core/service-units.js';
import { ROOT } from '../helpers/daemon.js';

const scratch = mkdtempSync('/tmp/emt-units-core-');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const paths = {
  node: '/opt/my node/bin/node',
  install: '/home/a&b/envmount',
  home: '/home/a&b',
  environment: { XDG_CONFIG_HOME: '/home/a&b/.cfg 100%', ENVMOUNT_LOG_LEVEL: 'debug' },
};

it('the systemd unit: ExecStart with this node and install (quoted), the environment, specifiers escaped', () => {
  const unit = renderSystemdUnit(readFileSync(join(ROOT, 'systemd/envmountd.service'), 'utf8'), paths);
  expect(unit).toContain('ExecStart="/opt/my node/bin/node" /home/a&b/envmount/dist/bin/envmountd.js start');
  expect(unit).toContain('Environment="XDG_CONFIG_HOME=/home/a&b/.cfg 100%%"');
  expect(unit).toContain('Environment="ENVMOUNT_LOG_LEVEL=debug"');
  expect(unit).not.toContain('/usr/lib/node_modules');
  expect(unit.split('\n')[0]).toContain('envmount service install');
});

it('the sandbox: no directive an unprivileged manager refuses; the figure and what it skips, as the README says', () => {
  const template = readFileSync(join(ROOT, 'systemd/envmountd.service'), 'utf8');
  const set = (text: string) =>
    text.split('\n').filter((l) => /^[A-Z]\w+=/.test(l) && !/^(Exec\w+|Environment)=/.test(l));
  // Rendering changes paths and the environment, never the sandbox.
  expect(set(renderSystemdUnit(template, paths))).toEqual(set(template));
  const names = new Set(set(template).map((l) => l.slice(0, l.indexOf('='))));
  // Each drops a capability (218/CAPABILITIES under a user manager of an ordinary user), needs CAP_SETGID (User=,
  // 216/GROUP), or hides the readers' /proc/PID/exe from the daemon (PrivateUsers): measured, see the unit.
  for (const refused of [
    'CapabilityBoundingSet',
    'PrivateDevices',
    'ProtectClock',
    'ProtectKernelModules',
    'ProtectKernelLogs',
    'User',
    'PrivateUsers',
  ])
    expect(names.has(refused), refused).toBe(false);
  const figure = /9\.1 before, ([\d.]+) now/.exec(template)?.[1];
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain(`\`systemd-analyze --user security envmountd.service\` gives **${figure}**`);
  // What an unprivileged manager skips counts in the figure: the README must not sell it as protection.
  const skipped = readme.slice(readme.indexOf('an unprivileged manager skips'), readme.indexOf('What does apply'));
  for (const name of ['ProtectSystem', 'ProtectKernelTunables', 'ProcSubset', 'DevicePolicy']) {
    expect(names.has(name), name).toBe(true);
    expect(skipped).toContain(`\`${name}=\``);
  }
});

it('the LaunchAgent: a valid plist with this node, install and home, and the environment', () => {
  const plist = renderLaunchAgent(readFileSync(join(ROOT, 'launchd/dev.envmount.envmountd.plist'), 'utf8'), paths);
  const file = join(scratch, 'agent.plist');
  writeFileSync(file, plist);
  const script = 'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1], "rb"))))';
  const parsed = JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
  expect(parsed.ProgramArguments).toEqual([paths.node, '/home/a&b/envmount/dist/bin/envmountd.js', 'start']);
  expect(parsed.StandardErrorPath).toBe('/home/a&b/Library/Logs/envmountd.log');
  expect(parsed.EnvironmentVariables).toEqual(paths.environment);
});

it('reads `systemctl show` and `launchctl print`', () => {
  expect(
    parseSystemctlShow('ActiveState=active\nMainPID=42\nActiveEnterTimestamp=Mon 2026-11-23 01:00:00 UTC\n'),
  ).toEqual({
    ActiveState: 'active',
    MainPID: '42',
    ActiveEnterTimestamp: 'Mon 2026-11-23 01:00:00 UTC',
  });
  const printed =
    'gui/501/dev.envmount.envmountd = {\n\tstate = running\n\tpid = 77\n\truns = 3\n\tlast exit code = 1\n\tendpoints = {\n\t\tstate = x\n\t}\n}\n';
  expect(parseLaunchctlPrint(printed)).toMatchObject({ state: 'running', pid: '77', runs: '3', 'last exit code': '1' });
});
