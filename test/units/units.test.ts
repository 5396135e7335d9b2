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
  const unit = readFileSync(join(ROOT, 'systemd', 'envmountd.service'), 'utf8')
    .replaceAll('/usr/bin/node', process.execPath)
    .replaceAll('/usr/lib/node_modules/envmount', ROOT);
  expect(unit).toMatch(/^ExecStopPost=.* cleanup$/m);
  expect(unit).toMatch(/^Restart=on-failure$/m);
  expect(unit).toMatch(/^LimitCORE=0$/m);
  const file = join(scratch, 'envmountd.service');
  writeFileSync(file, unit);
  const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
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
    SoftResourceLimits: { Core: 0 },
    HardResourceLimits: { Core: 0 },
  });
  expect(plist.ProgramArguments.slice(-1)).toEqual(['start']);
  expect(plist.StandardErrorPath).toMatch(/\/Library\/Logs\/envmountd\.log$/);
});
