/** The service definitions: the systemd unit verifies where systemd is installed; the LaunchAgent parses as a plist. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from '../helpers/daemon.js';

const scratch = mkdtempSync('/tmp/emt-units-');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

it.runIf(hasSystemdAnalyze)('systemd-analyze verify accepts the unit, with the paths of this install', () => {
  const files = ['envmountd.service', 'envmountd-cleanup.service'].map((name) => {
    const unit = readFileSync(join(ROOT, 'systemd', name), 'utf8')
      .replaceAll('/usr/bin/node', process.execPath)
      .replaceAll('/usr/lib/node_modules/envmount', ROOT);
    writeFileSync(join(scratch, name), unit);
    return { name, unit };
  });
  const [main, cleanup] = files.map((f) => f.unit);
  expect(main).toMatch(/^ExecStopPost=.* cleanup --unless-restarting$/m);
  expect(main).toMatch(/^OnFailure=envmountd-cleanup\.service$/m);
  expect(main).toMatch(/^Restart=on-failure$/m);
  expect(main).toMatch(/^RestartSec=200ms$/m);
  expect(main).toMatch(/^LimitCORE=0$/m);
  expect(main).toMatch(/^NoNewPrivileges=yes$/m);
  // Ready only when the daemon says so (it does once its socket answers), from its own process.
  expect(main).toMatch(/^Type=notify$/m);
  expect(main).toMatch(/^NotifyAccess=main$/m);
  // The sandbox keeps what the daemon needs: pipes anywhere but /usr, /boot and /etc; the network; /proc of readers.
  expect(main).toMatch(/^ProtectSystem=full$/m);
  expect(main).toMatch(/^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK$/m);
  expect(main).toMatch(/^SystemCallErrorNumber=EPERM$/m);
  for (const absent of ['PrivateUsers', 'PrivateTmp', 'ProtectHome', 'MemoryDenyWriteExecute', 'CapabilityBoundingSet'])
    expect(main).not.toMatch(new RegExp(`^${absent}=`, 'm'));
  expect(cleanup).toMatch(/^ExecStart=.* cleanup$/m);
  const result = spawnSync('systemd-analyze', ['verify', ...files.map((f) => join(scratch, f.name))], {
    encoding: 'utf8',
  });
  // Unknown keys are only warned about: any output at all is a failure here.
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
});

it('the LaunchAgent is a valid property list with the keys launchd needs', () => {
  const script = 'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1], "rb"))))';
  const plist = JSON.parse(
    execFileSync('python3', ['-c', script, join(ROOT, 'launchd', 'dev.envmount.envmountd.plist')], {
      encoding: 'utf8',
    }),
  );
  expect(plist).toMatchObject({
    Label: 'dev.envmount.envmountd',
    RunAtLoad: true,
    KeepAlive: true,
    ThrottleInterval: 1,
    SoftResourceLimits: { Core: 0 },
    HardResourceLimits: { Core: 0 },
  });
  expect(plist.ProgramArguments.slice(-1)).toEqual(['start']);
  expect(plist.StandardErrorPath).toMatch(/\/Library\/Logs\/envmountd\.log$/);
});
