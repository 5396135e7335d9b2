/**
 * 1Password through the real daemon, with a fake `op` on PATH: one op call per refresh for every reference of
 * every mount, per-variable errors, stale-if-error, lock and unlock, and no token or value where it must not be.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_OP, FAKE_OP_ERRORS } from '../fixtures/fake-op-env.js';
import { filesContaining } from '../helpers/canary.js';
import { killAll, run, TestDaemon, waitFor } from '../helpers/daemon.js';

const REFS = Array.from({ length: 40 }, (_, i) => `op://dev/item${i}/password`);
const valueFor = (i: number) => `v${i}-${'x'.repeat(i)}`;
let daemon: TestDaemon;
let bin: string;

function opCalls(): Array<{ argv: string[]; stdin: string }> {
  const log = join(bin, 'calls.log');
  return existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
}

beforeAll(async () => {
  daemon = new TestDaemon();
  bin = join(daemon.root, 'bin');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(bin);
  symlinkSync(FAKE_OP, join(bin, 'op'));
  writeFileSync(join(bin, 'values.json'), JSON.stringify(Object.fromEntries(REFS.map((r, i) => [r, valueFor(i)]))));
  await daemon.start({
    PATH: `${bin}:${process.env.PATH}`,
    FAKE_OP_VALUES: join(bin, 'values.json'),
    FAKE_OP_LOG: join(bin, 'calls.log'),
    FAKE_OP_MODE_FILE: join(bin, 'mode'),
    FAKE_OP_ERRORS,
    ENVMOUNT_GRACE_MS: '3600000',
  });
  const login = await daemon.cli(['login', '--op-cli']);
  expect(login.stderr).toBe('');
  expect(login.stdout).toContain('1Password source: op CLI (op)');
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

describe('1Password as the source (op CLI)', () => {
  it('10 mounts sharing 40 references: each refresh is one op call with all 40, references on stdin only', async () => {
    for (let m = 0; m < 10; m++) {
      const lines = Array.from({ length: 8 }, (_, k) => `K${k}=${REFS[(m * 4 + k) % 40]}`).join('\n');
      const dir = daemon.project(`m${m}`, `${lines}\n`);
      expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
    }
    const before = opCalls().length;
    expect(before).toBeLessThanOrEqual(10);
    const refresh = await daemon.cli(['refresh']);
    expect(refresh.code).toBe(0);
    const calls = opCalls().slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.argv).toEqual(['inject']);
    for (const ref of REFS) expect(calls[0]?.stdin).toContain(`{{ ${ref} }}`);
    expect(opCalls().every((c) => c.argv.length === 1 && c.argv[0] === 'inject')).toBe(true);
    const read = await run('cat', [join(daemon.dirs.projects, 'm1', '.env')]);
    expect(read.stdout).toContain(`K0='${valueFor(4)}'\n`);
    expect(read.stdout).toContain(`K7='${valueFor(11)}'\n`);
  });

  it('a missing item named "locked-box" marks its variable only; status names it, the reader gets a comment', async () => {
    // The old code read "locked" in op's message as "signed out" and failed every reference of every mount.
    const dir = daemon.project('partial', `GOOD=${REFS[0]}\nBAD=op://dev/locked-box/password\n`);
    expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
    const read = await run('cat', [join(dir, '.env')]);
    expect(read.stdout).toContain(`GOOD='${valueFor(0)}'`);
    expect(read.stdout).toMatch(
      /# BAD is not available: op:\/\/dev\/locked-box\/password: .*"locked-box" isn't an item/,
    );
    const status = await daemon.cli(['status']);
    expect(status.stdout).toMatch(/unresolved BAD: op:\/\/dev\/locked-box\/password: /);
    expect(JSON.parse((await daemon.cli(['--json', 'status'])).stdout).daemon.onePassword.state).toBe('fresh');
  });

  it.each([
    ['op-signed-out', 'op signin'],
    ['op-net-network', undefined],
  ])('on %s the last good values are served and status says stale, why, and the fix', async (mode, fix) => {
    writeFileSync(join(bin, 'mode'), mode);
    try {
      await daemon.cli(['refresh']);
      const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
      expect(status.daemon.onePassword).toMatchObject({ state: 'stale', lastError: expect.any(String) });
      if (fix) expect(status.daemon.onePassword.fix).toContain(fix);
      expect((await daemon.cli(['status'])).stdout).toContain(
        '1Password: stale (last good values, within the grace period)',
      );
      const read = (await run('cat', [join(daemon.dirs.projects, 'm0', '.env')])).stdout;
      expect(read).toContain(`K0='${valueFor(0)}'`);
      expect(read).not.toContain('not available');
    } finally {
      rmSync(join(bin, 'mode'));
    }
    await daemon.cli(['refresh']);
    expect(JSON.parse((await daemon.cli(['--json', 'status'])).stdout).daemon.onePassword.state).toBe('fresh');
  });

  it.each([
    ['op://dev/spaced item/password', 'space'],
    ['op://$VAULT/item0/password', 'expand'],
    ['op://dev/item0/password?attribute=otp', 'one-time password'],
    ['op://dev/item0/password?attribute=OTP', 'one-time password'],
    ['op://dev/it(em)/password', 'does not accept'],
  ])('add refuses %s with the reason (%s)', async (reference, reason) => {
    const dir = daemon.project(`refused-${reason.replace(/\W/g, '')}`, `A=${reference}\n`);
    const result = await daemon.cli(['add', dir, '--allow', 'any']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(reason);
    expect(existsSync(join(dir, '.env'))).toBe(false);
  });

  it('lock wipes every value (readers get a comment); unlock brings them back', async () => {
    await daemon.cli(['set', 'LOCAL'], { input: 'local-value' });
    const dir = daemon.project('locked', `A=${REFS[0]}\nB=envmount://LOCAL\n`);
    await daemon.cli(['add', dir, '--allow', 'any']);
    expect((await daemon.cli(['lock'])).code).toBe(0);
    const locked = await run('cat', [join(dir, '.env')]);
    expect(locked.stdout).not.toContain(valueFor(0));
    expect(locked.stdout).not.toContain('local-value');
    expect(locked.stdout).toContain('the store is locked; run `envmount unlock`');
    expect((await daemon.cli(['set', 'OTHER'], { input: 'x' })).stderr).toContain('locked');
    expect((await daemon.cli(['unlock'])).code).toBe(0);
    expect((await run('cat', [join(dir, '.env')])).stdout).toBe(`A='${valueFor(0)}'\nB='local-value'\n`);
  });

  it('a template edit triggers a refresh of that mount: the next reader gets the new variable', async () => {
    const dir = daemon.project('edited', `A=${REFS[0]}\n`);
    // The undecided path (agents included): its content is rendered ahead, so the edit's refresh shows as an op call.
    await daemon.cli(['add', dir, '--allow', 'any', '--agents', 'rules']);
    const before = opCalls().length;
    // Written the way editors save: a new file renamed over the old one.
    writeFileSync(join(dir, '.env.op.tmp'), `A=${REFS[0]}\nB=${REFS[39]}\n`);
    renameSync(join(dir, '.env.op.tmp'), join(dir, '.env.op'));
    const read = await waitFor(async () => {
      const out = (await run('cat', [join(dir, '.env')])).stdout;
      return out.includes('B=') ? out : undefined;
    });
    expect(read).toBe(`A='${valueFor(0)}'\nB='${valueFor(39)}'\n`);
    expect(opCalls().length).toBeGreaterThan(before);
    // Then written in place: the watch followed the file that replaced the old one.
    writeFileSync(join(dir, '.env.op'), `C=${REFS[38]}\n`);
    const again = await waitFor(async () => {
      const out = (await run('cat', [join(dir, '.env')])).stdout;
      return out.startsWith('C=') ? out : undefined;
    });
    expect(again).toBe(`C='${valueFor(38)}'\n`);
  });

  it('a reference with a syntax error fails at add, naming file and line, before any mount exists', async () => {
    const dir = daemon.project('typo', 'A=op://dev/item0/password\nB=op://dev//x\n');
    const result = await daemon.cli(['add', dir, '--allow', 'any']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(dir, '.env.op')}:2:`);
    expect(existsSync(join(dir, '.env'))).toBe(false);
  });
});

describe('service account token', () => {
  it('is taken from a hidden prompt or stdin, kept encrypted, and never lands in a file, log or the environment', async () => {
    const envToken = `ops_env_${randomBytes(12).toString('hex')}`;
    const storedToken = `ops_stored_${randomBytes(12).toString('hex')}`;
    const d = new TestDaemon();
    try {
      await d.start({ OP_SERVICE_ACCOUNT_TOKEN: envToken });
      const status = JSON.parse((await d.cli(['--json', 'status'])).stdout);
      expect(status.daemon.onePassword.provider).toBe('1Password SDK (service account)');
      const login = await d.cli(['login', '--service-account'], { input: `${storedToken}\n` });
      expect(login.stderr).toBe('');
      expect((await d.cli(['vars'])).stdout).not.toContain('_envmount');
      // Out of process.env (children do not inherit it) and scrubbed from the block /proc/PID/environ shows.
      expect(readFileSync(`/proc/${d.process?.pid}/environ`, 'latin1')).not.toContain(envToken);
      expect(await d.stop()).toBe(0);
      writeFileSync(join(d.root, 'envmountd.log'), d.log);
      const needles = [envToken, storedToken].map((t) => Buffer.from(t));
      expect(filesContaining([d.root, tmpdir()], needles)).toEqual([]);
      // Restarted without the variable, it uses the stored token.
      await d.start();
      const again = JSON.parse((await d.cli(['--json', 'status'])).stdout);
      expect(again.daemon.onePassword.provider).toBe('1Password SDK (service account)');
    } finally {
      await d.dispose();
    }
  });
});
