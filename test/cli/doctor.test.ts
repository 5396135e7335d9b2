/**
 * `envmount doctor` finds each seeded problem and names its fix: a regular .env where a mount was, a .env tracked by
 * git, a .env git does not ignore, a pipe with the wrong mode, a service not installed, a dead daemon. A healthy
 * mount passes. It exits 1 when there is a problem, 0 when there is none.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI, killAll, ROOT, run, TestDaemon, waitFor } from '../helpers/daemon.js';

interface Finding {
  subject: string;
  ok: boolean;
  says: string;
  fix?: string;
}

const d = new TestDaemon();
const env = { PATH: `${join(ROOT, 'test/fixtures/service-bin')}:${process.env.PATH}`, FAKE_SERVICE_STATE: '' };
const dirs: Record<string, string> = {};

function git(dir: string, ...args: string[]) {
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { stdio: 'ignore' });
}

async function doctor() {
  const result = await run(CLI, ['--json', 'doctor'], { env: { ...d.env, ...env } });
  return { code: result.code, findings: JSON.parse(result.stdout).findings as Finding[] };
}

beforeAll(async () => {
  env.FAKE_SERVICE_STATE = join(d.root, 'fake-service');
  mkdirSync(env.FAKE_SERVICE_STATE);
  await d.start();
  expect((await d.cli(['set', 'A'], { input: 'doctor-value' })).code).toBe(0);
  for (const name of ['regular', 'tracked', 'unignored', 'mode', 'healthy']) {
    const dir = d.project(name, 'A=envmount://A\n');
    dirs[name] = dir;
    if (name !== 'regular') {
      git(dir, 'init', '-q');
      if (name !== 'unignored') writeFileSync(join(dir, '.gitignore'), '.env\n');
    }
    if (name === 'tracked') {
      // Committed as a plaintext file once, before it was a mount.
      writeFileSync(join(dir, '.env'), 'A=old\n');
      git(dir, 'add', '-f', '.env');
      git(dir, 'commit', '-q', '-m', 'env');
      rmSync(join(dir, '.env'));
    }
    expect((await d.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
  }
  chmodSync(join(dirs.mode ?? '', '.env'), 0o644);
  // A plaintext file lands where the pipe was (an editor's save, say): the daemon steps aside and leaves it.
  rmSync(join(dirs.regular ?? '', '.env'));
  writeFileSync(join(dirs.regular ?? '', '.env'), 'A=plaintext\n');
  await waitFor(async () => {
    const status = JSON.parse((await d.cli(['--json', 'status'])).stdout);
    return status.mounts.some((m: { state: string }) => m.state === 'displaced') || undefined;
  });
});

afterAll(async () => {
  await killAll();
  await d.dispose();
});

const about = (findings: Finding[], dir: string | undefined) =>
  findings.filter((f) => f.subject === join(dir ?? '', '.env'));

it('finds each seeded problem and names its fix; a healthy mount passes', async () => {
  const { code, findings } = await doctor();
  expect(code).toBe(1);
  expect(findings.find((f) => f.subject === 'envmountd')).toMatchObject({ ok: true });
  // A daemon started by hand (this one; no service manager answers here) is information, not a problem.
  expect(findings.find((f) => f.subject === 'service')).toMatchObject({
    ok: true,
    says: expect.stringMatching(/started by hand \(pid \d+\)/),
  });
  expect(about(findings, dirs.regular)).toEqual([
    expect.objectContaining({
      ok: false,
      says: expect.stringContaining('a regular file is there'),
      fix: expect.stringContaining(`\`envmount import ${dirs.regular}\``),
    }),
  ]);
  expect(about(findings, dirs.tracked).filter((f) => !f.ok)).toEqual([
    expect.objectContaining({
      says: expect.stringContaining('tracked by git'),
      fix: expect.stringContaining(`rm --cached .env`),
    }),
  ]);
  expect(about(findings, dirs.unignored).filter((f) => !f.ok)).toEqual([
    expect.objectContaining({
      says: expect.stringContaining('not ignored by git'),
      fix: `\`echo .env >> ${dirs.unignored}/.gitignore\``,
    }),
  ]);
  expect(about(findings, dirs.mode).filter((f) => !f.ok)).toEqual([
    expect.objectContaining({
      says: expect.stringContaining('mode 0644'),
      fix: `\`chmod 600 ${join(dirs.mode ?? '', '.env')}\``,
    }),
  ]);
  expect(about(findings, dirs.healthy).every((f) => f.ok)).toBe(true);
  expect(about(findings, dirs.healthy)).toHaveLength(2);
  expect(findings.find((f) => f.subject === '1Password')).toMatchObject({ ok: true });
  // The same for people: each problem with its fix on the next line.
  const text = (await run(CLI, ['doctor'], { env: { ...d.env, ...env } })).stdout;
  expect(text).toContain(`PROBLEM  ${join(dirs.mode ?? '', '.env')}: the pipe has mode 0644`);
  expect(text).toMatch(/4 problems found\.$/m);
});

it('applying the fixes clears them; a dead daemon is found from its registry, with the way to start it', async () => {
  chmodSync(join(dirs.mode ?? '', '.env'), 0o600);
  writeFileSync(join(dirs.unignored ?? '', '.gitignore'), '.env\n');
  git(dirs.tracked ?? '', 'rm', '-q', '--cached', '.env');
  const after = await doctor();
  expect(about(after.findings, dirs.mode).every((f) => f.ok)).toBe(true);
  expect(about(after.findings, dirs.unignored).every((f) => f.ok)).toBe(true);
  expect(about(after.findings, dirs.tracked).every((f) => f.ok)).toBe(true);

  await d.stop('SIGKILL');
  const dead = await doctor();
  expect(dead.code).toBe(1);
  expect(dead.findings.find((f) => f.subject === 'envmountd')).toMatchObject({
    ok: false,
    says: expect.stringContaining('not running'),
    fix: expect.stringContaining('`envmountd start`'),
  });
  // The mounts are still checked, from the registry: the pipes the killed daemon left are there.
  expect(about(dead.findings, dirs.healthy).every((f) => f.ok)).toBe(true);
  expect(about(dead.findings, dirs.regular)[0]).toMatchObject({ ok: false });
});
