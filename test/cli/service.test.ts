/**
 * `envmount service`: against stand-ins for systemctl, journalctl and launchctl on PATH (test/fixtures/service-bin)
 * that keep state and record each call; the systemd stand-in really starts the unit's ExecStart=, so the unit
 * written is the one that runs. Installing twice changes nothing; uninstalling stops the daemon and undoes it all.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { restartCommand } from '../../src/cli/service-commands.js';
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
    for (const name of ['envmountd.service.pid', 'agent.pid']) {
      const pidFile = join(s.state, name);
      if (existsSync(pidFile)) spawnSync('kill', ['-9', readFileSync(pidFile, 'utf8').trim()]);
    }
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
    expect(twice.stdout).not.toContain('nothing to do'); // said once, not twice
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
    // It returns once the daemon launchd started answers.
    expect(install.stdout).toMatch(/installed as a launchd user service and answers \(pid \d+\)/);
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
      pid: Number(readFileSync(join(s.state, 'agent.pid'), 'utf8')),
    });

    const out = await s.cli(['service', 'uninstall']);
    expect(out.stdout).toContain(`+ launchctl bootout gui/${process.getuid?.()}/dev.envmount.envmountd`);
    expect(out.stdout).toContain('its pipes are gone');
    expect(existsSync(plist)).toBe(false);
    expect((await s.cli(['service', 'uninstall'])).stdout).toContain('Not installed; nothing changed.');
  });
});

describe('without a systemd user manager (containers, WSL, CI): honest, and fine with a daemon started by hand', () => {
  const s = setup('systemd');
  setups.push(s);
  writeFileSync(join(s.state, 'no-bus'), '');
  const unitDir = join(s.d.dirs.config, 'systemd', 'user');

  it('install writes nothing, fails, and says what to do instead', async () => {
    const install = await s.cli(['service', 'install']);
    expect(install.code).toBe(1);
    expect(install.stderr).toContain('no systemd user manager answers here');
    expect(install.stderr).toContain('Failed to connect to bus');
    expect(install.stderr).toContain('`envmountd start` in a terminal');
    expect(install.stderr).toContain('nohup');
    expect(install.stdout).toBe('');
    expect(existsSync(unitDir)).toBe(false);
  });

  it('a command without a daemon names `envmountd start`, not the service', async () => {
    const status = await s.cli(['status']);
    expect(status.code).toBe(3);
    // One sentence per thing, no nested brackets: what to run, then why no service.
    expect(status.stderr).toContain(
      'Start it: `envmountd start` in a terminal, or `nohup envmountd start >>envmountd.log 2>&1 &`. No service manager can run it here: ',
    );
    expect(status.stderr).not.toContain('service install');
  });

  it('with a daemon started by hand: status suggests no systemctl, doctor finds no problem, logs say where they are', async () => {
    await s.d.start();
    const status = await s.cli(['service', 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('service:   unavailable: no systemd user manager answers here');
    expect(status.stdout).toMatch(/daemon: {4}pid \d+/);
    expect(status.stdout).not.toMatch(/systemctl --user (re)?start/);
    expect(status.stdout).not.toContain('fix:');

    const doctor = await s.cli(['--json', 'doctor']);
    expect(doctor.code).toBe(0);
    const findings = JSON.parse(doctor.stdout).findings as Array<{ subject: string; ok: boolean; says: string }>;
    expect(findings.filter((f) => !f.ok)).toEqual([]);
    expect(findings.find((f) => f.subject === 'service')?.says).toMatch(/started by hand \(pid \d+\)/);

    const logs = await s.cli(['service', 'logs']);
    expect(logs.code).toBe(1);
    expect(logs.stdout).toBe('');
    expect(logs.stderr).toContain("No journal has envmountd's logs");
    expect(logs.stderr).toContain('logs to the terminal it runs in');
  });

  it('uninstall removes stray unit files but does not claim the daemon stopped', async () => {
    mkdirSync(unitDir, { recursive: true });
    for (const name of ['envmountd.service', 'envmountd-cleanup.service'])
      writeFileSync(join(unitDir, name), '[Unit]\n');
    const out = await s.cli(['service', 'uninstall']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(
      /The service is removed, but envmountd still runs \(pid \d+, not started by the service\)/,
    );
    expect(out.stdout).not.toContain('its pipes are gone');
    expect(out.stdout).toContain('= no systemd user manager answers here');
    expect(existsSync(join(unitDir, 'envmountd.service'))).toBe(false);
    expect((await s.cli(['status'])).code).toBe(0);
  });
});

describe('systemd failures and a unit still starting', () => {
  const s = setup('systemd');
  setups.push(s);
  const unitDir = join(s.d.dirs.config, 'systemd', 'user');

  it('uninstall fails, and removes nothing, when systemctl cannot stop the service', async () => {
    expect((await s.cli(['service', 'install'])).code).toBe(0);
    writeFileSync(join(s.state, 'fail-disable'), '');
    const out = await s.cli(['service', 'uninstall']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(
      '`systemctl --user disable --now envmountd.service` failed (exit 1): Failed to disable unit',
    );
    expect(out.stdout).toBe('');
    expect(existsSync(join(unitDir, 'envmountd.service'))).toBe(true);
    expect((await s.cli(['status'])).code).toBe(0);
    rmSync(join(s.state, 'fail-disable'));
    expect((await s.cli(['service', 'uninstall'])).stdout).toContain('its pipes are gone');
  });

  it('stopped: the message names the service and how to start it', async () => {
    expect((await s.cli(['service', 'install'])).code).toBe(0);
    const pid = readFileSync(join(s.state, 'envmountd.service.pid'), 'utf8').trim();
    spawnSync('kill', ['-TERM', pid]);
    await waitFor(() => !existsSync(`/proc/${pid}`) || undefined);
    const status = await s.cli(['status']);
    expect(status.code).toBe(3);
    expect(status.stderr).toContain('Its systemd service is installed but stopped');
    expect(status.stderr).toContain('`systemctl --user restart envmountd`');
  });

  it('starting: a command waits for the daemon instead of telling to start it', async () => {
    writeFileSync(join(s.state, 'activating'), '');
    const waiting = s.cli(['status']);
    // The command is polling now; the daemon comes up (as systemd would start it).
    await waitFor(() => s.calls().some((c) => c.startsWith('systemctl --user show envmountd.service')) || undefined);
    await s.d.start();
    const status = await waiting;
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
  });
});

it('with no service manager at all on PATH: every service command says so, and nothing claims success', async () => {
  const s = setup('systemd');
  setups.push(s);
  // A PATH with node alone (the CLI's shebang needs it), and no systemctl.
  const onlyNode = join(s.d.root, 'only-node');
  mkdirSync(onlyNode);
  symlinkSync(process.execPath, join(onlyNode, 'node'));
  const bare = (args: string[]) => run(join(ROOT, 'dist/bin/envmount.js'), args, { env: { ...s.env, PATH: onlyNode } });
  const install = await bare(['service', 'install']);
  expect(install.code).toBe(1);
  expect(install.stderr).toContain('`systemctl` is not installed here');
  expect(install.stderr).toContain('`envmountd start`');
  expect(existsSync(join(s.d.dirs.config, 'systemd'))).toBe(false);
  const status = await bare(['service', 'status']);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('unavailable: `systemctl` is not installed here');
  expect(status.stdout).toContain('fix:       `envmountd start` in a terminal');
  expect(status.stdout).not.toContain('systemctl --user');
  const logs = await bare(['service', 'logs']);
  expect(logs.code).toBe(1);
  expect(logs.stderr).toContain("No journal has envmountd's logs");
  expect((await bare(['service', 'uninstall'])).stdout).toContain('Not installed; nothing changed.');
  const down = await bare(['status']);
  expect(down.code).toBe(3);
  expect(down.stderr).toContain('`envmountd start` in a terminal');
});

it('past the start limit, the restart advice resets the failure first (systemd refuses every start until then)', () => {
  const hit = 'its last run ended with "start-limit-hit" (exit status 0)';
  expect(restartCommand({ manager: 'systemd', unavailable: undefined, lastError: hit })).toBe(
    '`systemctl --user reset-failed envmountd && systemctl --user restart envmountd`',
  );
  expect(restartCommand({ manager: 'systemd', unavailable: undefined, lastError: undefined })).toBe(
    '`systemctl --user restart envmountd`',
  );
  expect(restartCommand({ manager: 'systemd', unavailable: 'no systemd user manager', lastError: hit })).toContain(
    '`envmountd start`',
  );
});
