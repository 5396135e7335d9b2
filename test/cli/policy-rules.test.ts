/**
 * Rules that say what they do, through the CLI: a mistyped kind is a usage error listing the kinds and stores
 * nothing; a contradiction is refused; `--remove` takes one rule out; `policy DIR` lists rules, grants with their
 * expiry and what decided the last reads; `--reset` clears `--for` grants too.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI, killAll, run, startReader, TestDaemon, waitFor } from '../helpers/daemon.js';

let daemon: TestDaemon;
const VALUES = "TOKEN='tok-value'\n";

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start({ ENVMOUNT_APPROVAL_TIMEOUT_MS: '600000' });
  await daemon.cli(['set', 'TOKEN'], { input: 'tok-value' });
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

async function statusOf(dir: string) {
  const result = await daemon.cli(['--json', 'policy', dir]);
  return JSON.parse(result.stdout) as {
    rules: Array<{ effect: string; kind: string; pattern: string }>;
    grants: Array<{ reader: string; until?: string; rule?: string }>;
    lastReaders: Array<{ decision: string; rule?: string }>;
  };
}

it('mistyped kinds are usage errors that list the kinds, and nothing is stored', async () => {
  const dir = daemon.project('kinds', 'TOKEN=envmount://TOKEN\n');
  for (const [flag, rule] of [
    ['--deny', 'ancestors:*npm*'],
    ['--allow', 'ANY'],
  ] as const) {
    const result = await daemon.cli(['add', dir, flag, rule]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/exe:GLOB, argv:GLOB, ancestor:GLOB, script:GLOB|write any in lower case/);
  }
  expect((await daemon.cli(['add', dir])).code).toBe(0);
  const typo = await daemon.cli(['policy', dir, '--deny', 'ancestors:*npm*']);
  expect(typo.code).toBe(2);
  expect((await statusOf(dir)).rules).toEqual([]);
  expect((await daemon.cli(['policy', dir, '--otherwise', 'maybe'])).stderr).toContain('ask, deny or allow');
  expect((await daemon.cli(['policy', '--help'])).stdout).toContain('--otherwise <ask|deny|allow>');
});

it('a contradiction is refused; --remove takes one rule out; an unknown one lists the rules', async () => {
  const dir = daemon.project('remove', 'TOKEN=envmount://TOKEN\n');
  await daemon.cli(['add', dir, '--allow', 'node', '--deny', 'cat', '--otherwise', 'deny']);
  const contradiction = await daemon.cli(['policy', dir, '--allow', 'cat']);
  expect(contradiction.code).toBe(2);
  expect(contradiction.stderr).toContain('contradicts "deny exe:cat"');
  const warned = await daemon.cli(['policy', dir, '--deny', 'exe:*', '--allow', 'python3']);
  expect(warned.stderr).toContain('"deny exe:*" wins over "allow exe:python3"');
  expect((await daemon.cli(['policy', dir, '--remove', 'deny exe:*', '--remove', 'allow python3'])).code).toBe(0);
  const missing = await daemon.cli(['policy', dir, '--remove', 'deny node']);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('Its rules: "allow node", "deny cat"');
  expect((await daemon.cli(['policy', dir, '--remove', 'deny cat', '--allow', 'cat'])).code).toBe(0);
  expect((await statusOf(dir)).rules.map((r) => `${r.effect} ${r.pattern}`)).toEqual(['allow node', 'allow cat']);
  expect((await run('cat', [join(dir, '.env')])).stdout).toBe(VALUES);
});

it('policy DIR lists the rules, a --for grant with its expiry and the rule that decided each read; --reset clears grants', async () => {
  const dir = daemon.project('grants', 'TOKEN=envmount://TOKEN\n');
  await daemon.cli(['add', dir, '--allow', 'node']);
  const reader = startReader('cat', [join(dir, '.env')]);
  const pending = await waitFor(async () => {
    const list = JSON.parse((await daemon.cli(['--json', 'approvals'])).stdout) as Array<{ id: number; mount: string }>;
    return list.find((p) => p.mount === join(dir, '.env'));
  });
  await run('script', ['-qec', `${process.execPath} ${CLI} approve ${pending.id} --for 10m`, '/dev/null'], {
    env: daemon.env,
    input: 'y\n',
  });
  expect(await reader.done).toBe(VALUES);
  expect((await run('cat', [join(dir, '.env')])).stdout).toBe(VALUES);
  const status = await statusOf(dir);
  expect(status.grants).toEqual([{ reader: '/usr/bin/cat', until: expect.any(String) }]);
  expect(status.lastReaders.map((r) => r.rule)).toEqual(expect.arrayContaining(['grant', 'approved (otherwise ask)']));
  const text = (await daemon.cli(['policy', dir])).stdout;
  expect(text).toContain('allow exe:node');
  expect(text).toMatch(/\/usr\/bin\/cat until \S+ \(approve --for\)/);
  expect(text).toMatch(/allowed \/usr\/bin\/cat \(pid \d+\) by grant/);
  await daemon.cli(['policy', dir, '--reset']);
  expect((await statusOf(dir)).grants).toEqual([]);
  const asked = startReader('cat', [join(dir, '.env')]);
  const again = await waitFor(async () => {
    const list = JSON.parse((await daemon.cli(['--json', 'approvals'])).stdout) as Array<{ id: number; mount: string }>;
    return list.find((p) => p.mount === join(dir, '.env'));
  });
  await daemon.cli(['deny', String(again.id)]);
  expect(await asked.done).not.toContain('tok-value');
});
