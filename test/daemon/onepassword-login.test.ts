/**
 * `envmount login --op-cli` checks that op runs before it saves anything: with no op on envmountd's PATH it fails
 * naming ENVMOUNT_OP_PATH and how to install op, and status and doctor say nothing of a success there never was.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { FAKE_OP } from '../fixtures/fake-op-env.js';
import { killAll, TestDaemon } from '../helpers/daemon.js';

let daemon: TestDaemon | undefined;

afterEach(async () => {
  await killAll();
  await daemon?.dispose();
  daemon = undefined;
});

/** A PATH with node and the system tools, and `op` only where the test puts it. */
function pathWithout(extra?: string): string {
  return [...(extra ? [extra] : []), dirname(process.execPath), '/usr/bin', '/bin'].join(':');
}

it('no op on the PATH: login fails, names ENVMOUNT_OP_PATH and the install, and nothing says fresh', async () => {
  daemon = new TestDaemon();
  await daemon.start({ PATH: pathWithout() });
  const login = await daemon.cli(['login', '--op-cli']);
  expect(login.code).toBe(1);
  expect(login.stdout).not.toContain('fresh');
  expect(login.stderr).toContain('the op CLI was not found (op)');
  expect(login.stderr).toContain('ENVMOUNT_OP_PATH');
  expect(login.stderr).toContain('install 1Password CLI');
  const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout) as { daemon: { onePassword?: unknown } };
  expect(status.daemon.onePassword).toBeUndefined();
  // Nothing was saved: a restarted daemon has no 1Password source either.
  await daemon.stop();
  await daemon.start({ PATH: pathWithout() });
  const again = JSON.parse((await daemon.cli(['--json', 'status'])).stdout) as { daemon: { onePassword?: unknown } };
  expect(again.daemon.onePassword).toBeUndefined();
});

it('op on the PATH but nothing asked of it yet: login succeeds, and status says empty with no last success', async () => {
  daemon = new TestDaemon();
  const bin = join(daemon.root, 'bin');
  mkdirSync(bin);
  symlinkSync(FAKE_OP, join(bin, 'op'));
  await daemon.start({ PATH: pathWithout(bin) });
  const login = await daemon.cli(['login', '--op-cli']);
  expect(login.stderr).toBe('');
  expect(login.code).toBe(0);
  expect(login.stdout).toContain('op CLI (op): empty');
  expect(login.stdout).toContain('last success never');
  const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout) as {
    daemon: { onePassword: { state: string; lastSuccessAt?: string } };
  };
  expect(status.daemon.onePassword.state).toBe('empty');
  expect(status.daemon.onePassword.lastSuccessAt).toBeUndefined();
});
