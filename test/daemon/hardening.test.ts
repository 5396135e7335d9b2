/**
 * The running daemon's hardening, checked from outside by a process of its own user (as root, both run as
 * `nobody`): not dumpable, so its /proc/PID/mem and environ are closed even to that user; core dumps off; a token
 * given by environment gone from the block /proc shows; value buffers locked in RAM, and `status` saying so when
 * RLIMIT_MEMLOCK does not allow it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, run, TestDaemon, track, UNDER_ASAN, waitFor } from '../helpers/daemon.js';
import { installReachableBy, OTHER_USER } from '../helpers/other-user.js';

const user = OTHER_USER;
const token = `ops_hardening_${randomBytes(12).toString('hex')}`;

const install = installReachableBy(user);
afterAll(() => install.unbind());

/** What a process of the daemon's user gets when it opens /proc/PID/{mem,environ}: "ok" or the error code. */
async function probeAsUser(pid: number): Promise<{ mem: string; environ: string }> {
  // mem is checked at open (reading it at offset 0 fails with EIO even where it is open to us); environ by a read.
  const script = `const fs = require('fs'); const r = {};
    try { fs.closeSync(fs.openSync('/proc/${pid}/mem', 'r')); r.mem = 'ok'; } catch (e) { r.mem = e.code; }
    try { fs.readFileSync('/proc/${pid}/environ'); r.environ = 'ok'; } catch (e) { r.environ = e.code; }
    process.stdout.write(JSON.stringify(r));`;
  const result = await run(process.execPath, ['-e', script], { ...user, env: { PATH: process.env.PATH } });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout);
}

describe('the running daemon', () => {
  const d = new TestDaemon({ user, install: install.path });

  beforeAll(async () => {
    await d.start({ OP_SERVICE_ACCOUNT_TOKEN: token });
    expect((await d.cli(['set', 'TOKEN'], { input: 'hardening-value' })).code).toBe(0);
    const dir = d.project('h', 'TOKEN=envmount://TOKEN\n');
    expect((await d.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
  });
  afterAll(async () => {
    await killAll();
    await d.dispose();
  });

  it('runs as the unprivileged user, and its /proc files are closed to that user', async () => {
    const pid = d.process?.pid ?? 0;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${user?.uid ?? process.getuid?.()}\\s`, 'm'));
    // A non-dumpable process's /proc entries belong to root, whatever user it runs as.
    if (user) expect(statSync(`/proc/${pid}/mem`).uid).toBe(0);
    expect(await probeAsUser(pid)).toEqual({ mem: 'EACCES', environ: 'EACCES' });
  });

  it('the probe itself can fail: it reads a dumpable process of the same user', async () => {
    const sleeper = track(spawn('sleep', ['30'], { ...user, stdio: 'ignore' }));
    await waitFor(() => readFileSync(`/proc/${sleeper.pid}/cmdline`, 'latin1').startsWith('sleep'));
    expect(await probeAsUser(sleeper.pid ?? 0)).toEqual({ mem: 'ok', environ: 'ok' });
    sleeper.kill('SIGKILL');
  });

  it('has core dumps off, no token in its environment, and its values locked in RAM', async () => {
    const pid = d.process?.pid ?? 0;
    expect(readFileSync(`/proc/${pid}/limits`, 'utf8')).toMatch(/^Max core file size\s+0\s+0\s/m);
    expect(readFileSync(`/proc/${pid}/environ`, 'latin1')).not.toContain(token);
    const status = JSON.parse((await d.cli(['--json', 'status'])).stdout);
    expect(status.daemon).toMatchObject({ dumpable: false, coreLimit: 0 });
    expect(status.mounts[0].contentLocked).toBe(true);
    expect((await d.cli(['status'])).stdout).toContain('not dumpable, core dumps off');
  });
});

it('status says when RLIMIT_MEMLOCK keeps values from being locked in RAM', async () => {
  const d = new TestDaemon({ user, install: install.path });
  try {
    await d.start({}, { memlock: 0 });
    await d.cli(['set', 'TOKEN'], { input: 'unlocked-value' });
    const dir = d.project('m', 'TOKEN=envmount://TOKEN\n');
    expect((await d.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
    // Under AddressSanitizer mlock() is intercepted and always succeeds, whatever the limit: the status says locked.
    expect(JSON.parse((await d.cli(['--json', 'status'])).stdout).mounts[0].contentLocked).toBe(UNDER_ASAN);
    const text = (await d.cli(['status'])).stdout;
    if (UNDER_ASAN) expect(text).not.toContain('not locked in RAM');
    else expect(text).toContain('not locked in RAM (RLIMIT_MEMLOCK too low)');
    expect((await run('cat', [`${dir}/.env`], { ...user })).stdout).toBe("TOKEN='unlocked-value'\n");
  } finally {
    await d.dispose();
  }
});
