/**
 * `envmount service`: against stand-ins for systemctl, journalctl and launchctl on PATH (test/fixtures/service-bin)
 * that keep state and record each call; the systemd stand-in really starts the unit's ExecStart=, so the unit
 * written is the one that runs. Installing twice changes nothing; uninstalling stops the daemon and undoes it all.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, ROOT, run, TestDaemon, waitFor } from '../helpers/daemon.js';

const FAKES = join(ROOT, 'test/fixtures/service-bin');

function setup(manager: 'systemd' | 'launchd') {
  const d = new TestDaemon();
  const state = join(d.root, 'fake-service');
  mkdirSync(state);
  const env = {
    ...d.env,
    PATH: `${FAKES}:${process.env.PATH}`,
    FAKE_SERVICE_STATE: state,
    ENVMOUNT_SERVICE_MANAGER: manager,
  };
  const cli = (args: string[]) => run(join(ROOT, 'dist/bin/envmount.js'), args, { env });
  const calls = () => readFileSync(join(state, 'calls.log'), 'utf8').trim().split('\n');
  return { d, state, env, cli, calls };
}

const setups: Array<ReturnType<typeof setup>> = [];
afterAll(async () => {
  for (const s of setups) {
    const pidFile = join(s.state, 'envmountd.service.pid');
    if (existsSync(pidFile)) spawnSync('kill', ['-9', readFileSync(pidFile, 'utf8').trim()]);
    await s.d.dispose();
  }
  await killAll();
});

describe('systemd', () => {
  const s = setup('systemd');
  setups.push(s);
  const unitDir = join(s.d.dirs.config, 'systemd', 'user');

  it('install writes both units with this install, enables and starts the daemon; status shows it', async () => {
    const install = await s.cli(['service', 'install']);
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect(install.stdout).toContain(`+ wrote ${join(unitDir, 'envmountd.service')}`);
    expect(install.stdout).toContain('+ systemctl --user enable envmountd.service');
    expect(install.stdout).toContain('+ systemctl --user start envmountd.service');
    const unit = readFileSync(join(unitDir, 'envmountd.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ${ROOT}/dist/bin/envmountd.js start`);
    expect(unit).toContain(`Environment="XDG_CONFIG_HOME=${s.d.dirs.config}"`);
    expect(unit).toContain(`cleanup --unless-restarting`);
    expect(readFileSync(join(unitDir, 'envmountd-cleanup.service'), 'utf8')).toContain(
      `${ROOT}/dist/bin/envmountd.js cleanup`,
    );
    if (spawnSync('systemd-analyze', ['--version']).status === 0) {
      const names = ['envmountd.service', 'envmountd-cleanup.service'].map((n) => join(unitDir, n));
      const verify = spawnSync('systemd-analyze', ['verify', ...names], { encoding: 'utf8' });
      expect(verify.stderr).toBe('');
    }
    // The daemon the unit started answers the CLI.
    await waitFor(async () => (await s.cli(['status'])).code === 0 || undefined);
    const status = await s.cli(['--json', 'service', 'status']);
    const data = JSON.parse(status.stdout);
    const pid = Number(readFileSync(join(s.state, 'envmountd.service.pid'), 'utf8'));
    expect(data.service).toMatchObject({ manager: 'systemd', installed: true, running: true, pid });
    expect(data.daemon).toMatchObject({ pid, mounts: 0 });
    const text = (await s.cli(['service', 'status'])).stdout;
    expect(text).toContain(`running, pid ${pid}`);
    expect(text).toContain('last error: none');
  });

  it('install again changes nothing and restarts nothing', async () => {
    const dir = s.d.project('svc', 'A=envmount://A\n');
    expect((await run(join(ROOT, 'dist/bin/envmount.js'), ['set', 'A'], { env: s.env, input: 'a' })).code).toBe(0);
    expect((await s.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
    const before = s.calls().length;
    const again = await s.cli(['service', 'install']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Already installed and running; nothing changed.');
    expect(again.stdout).not.toMatch(/^\s+\+/m);
    const made = s.calls().slice(before);
    expect(made.filter((c) => /\b(enable|start|restart|daemon-reload)\b/.test(c) && !/is-/.test(c))).toEqual([]);
    expect(JSON.parse((await s.cli(['--json', 'service', 'status'])).stdout).daemon.mounts).toBe(1);
  });

  it('a unit written for another node is found by status and doctor, and install writes it anew', async () => {
    const file = join(unitDir, 'envmountd.service');
    writeFileSync(file, readFileSync(file, 'utf8').replace(process.execPath, '/opt/old-node/bin/node'));
    expect(JSON.parse((await s.cli(['--json', 'service', 'status'])).stdout).service.stale).toBe(true);
    const doctor = await s.cli(['--json', 'doctor']);
    expect(doctor.code).toBe(1);
    expect(JSON.parse(doctor.stdout).findings).toContainEqual(
      expect.objectContaining({
        subject: 'service',
        ok: false,
        fix: expect.stringContaining('`envmount service install`'),
      }),
    );
    const pid = readFileSync(join(s.state, 'envmountd.service.pid'), 'utf8');
    const again = await s.cli(['service', 'install']);
    expect(again.stdout).toContain(`+ wrote ${file}`);
    expect(again.stdout).toContain('+ systemctl --user restart envmountd.service');
    expect(readFileSync(join(s.state, 'envmountd.service.pid'), 'utf8')).not.toBe(pid);
    await waitFor(async () => (await s.cli(['status'])).code === 0 || undefined);
    expect(JSON.parse((await s.cli(['--json', 'service', 'status'])).stdout).service.stale).toBe(false);
  });

  it('logs shows what the daemon logged', async () => {
    const logs = await s.cli(['service', 'logs', '--lines', '50']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('envmountd started');
    expect(s.calls()).toContain('journalctl --user -u envmountd.service -n 50 --no-pager -o cat');
  });

  it('uninstall stops the daemon (its pipes go) and removes the units; twice is a no-op', async () => {
    const pid = Number(readFileSync(join(s.state, 'envmountd.service.pid'), 'utf8'));
    const out = await s.cli(['service', 'uninstall']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('+ systemctl --user disable --now envmountd.service');
    expect(existsSync(join(unitDir, 'envmountd.service'))).toBe(false);
    expect(existsSync(join(unitDir, 'envmountd-cleanup.service'))).toBe(false);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(join(s.d.dirs.projects, 'svc', '.env'))).toBe(false);
    const twice = await s.cli(['service', 'uninstall']);
    expect(twice.stdout).toContain('Not installed; nothing changed.');
    const status = JSON.parse((await s.cli(['--json', 'service', 'status'])).stdout);
    expect(status.service).toMatchObject({ installed: false, running: false });
    expect(status.daemon).toBeUndefined();
  });
});

describe('launchd', () => {
  const s = setup('launchd');
  setups.push(s);
  const plist = join(s.d.dirs.home, 'Library/LaunchAgents/dev.envmount.envmountd.plist');

  it('install writes the LaunchAgent with this install and bootstraps it once; uninstall boots it out', async () => {
    const install = await s.cli(['service', 'install']);
    expect(install.stderr).toBe('');
    expect(install.stdout).toContain(`+ launchctl bootstrap gui/${process.getuid?.()} ${plist}`);
    const script = 'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1], "rb"))))';
    const parsed = JSON.parse(execFileSync('python3', ['-c', script, plist], { encoding: 'utf8' }));
    expect(parsed.ProgramArguments).toEqual([process.execPath, `${ROOT}/dist/bin/envmountd.js`, 'start']);
    expect(parsed.StandardErrorPath).toBe(join(s.d.dirs.home, 'Library/Logs/envmountd.log'));
    expect(parsed.EnvironmentVariables).toMatchObject({ XDG_RUNTIME_DIR: s.d.dirs.runtime });
    expect(parsed).toMatchObject({ RunAtLoad: true, KeepAlive: true });
    expect(existsSync(join(s.d.dirs.home, 'Library/Logs'))).toBe(true);

    const again = await s.cli(['service', 'install']);
    expect(again.stdout).toContain('nothing changed');
    expect(s.calls().filter((c) => c.startsWith('launchctl bootstrap'))).toHaveLength(1);
    expect(JSON.parse((await s.cli(['--json', 'service', 'status'])).stdout).service).toMatchObject({
      manager: 'launchd',
      running: true,
      pid: 4242,
    });

    const out = await s.cli(['service', 'uninstall']);
    expect(out.stdout).toContain(`+ launchctl bootout gui/${process.getuid?.()}/dev.envmount.envmountd`);
    expect(existsSync(plist)).toBe(false);
    expect((await s.cli(['service', 'uninstall'])).stdout).toContain('Not installed; nothing changed.');
  });
});

it('without a service manager: a clear error naming the way to start it by hand', async () => {
  const s = setup('systemd');
  setups.push(s);
  // A PATH with node alone (the CLI's shebang needs it), and no systemctl.
  const onlyNode = join(s.d.root, 'only-node');
  mkdirSync(onlyNode);
  symlinkSync(process.execPath, join(onlyNode, 'node'));
  const result = await run(join(ROOT, 'dist/bin/envmount.js'), ['service', 'install'], {
    env: { ...s.env, PATH: onlyNode },
  });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('`systemctl` is not available here');
  expect(result.stderr).toContain('`envmountd start`');
});
