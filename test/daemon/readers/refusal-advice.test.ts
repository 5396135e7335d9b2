/**
 * The `# to allow it:` line of a refused read, taken at its word: the printed command is run through a shell
 * exactly as printed, and the next read by the same executable gets the values.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll, run, startReader, TestDaemon, waitFor } from '../../helpers/daemon.js';

let daemon: TestDaemon;
let shellEnv: NodeJS.ProcessEnv;
const VALUES = "TOKEN='tok-value'\n";

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  await daemon.cli(['set', 'TOKEN'], { input: 'tok-value' });
  // `envmount` on PATH, as an installed CLI is.
  const bin = join(daemon.root, 'bin');
  mkdirSync(bin);
  symlinkSync(join(daemon.install, 'dist/bin/envmount.js'), join(bin, 'envmount'));
  shellEnv = { ...daemon.env, PATH: `${bin}:${daemon.env.PATH}` };
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

/** Reads with cat, runs the advice printed in the refusal, reads again; returns the advice. */
async function followAdvice(name: string, policy: string[]): Promise<string> {
  const dir = daemon.project(name, 'TOKEN=envmount://TOKEN\n');
  expect((await daemon.cli(['add', dir, ...policy])).stderr).toBe('');
  const refused = await run('cat', [join(dir, '.env')]);
  expect(refused.stdout).not.toContain('tok-value');
  const advice = /^# to allow it: `([^`]+)`/m.exec(refused.stdout)?.[1];
  expect(advice, refused.stdout).toBeDefined();
  const applied = await run('sh', ['-c', advice ?? 'false'], { env: shellEnv });
  expect(applied.stderr).toBe('');
  expect(applied.code).toBe(0);
  const again = await run('cat', [join(dir, '.env')]);
  expect(again.stdout).toBe(VALUES);
  return `${refused.stdout}\n${advice}`;
}

const CAT_RULE = "--allow 'exe:/usr/bin/cat argv:cat {mount}'";

it('a deny rule refused: the advice removes that rule, allows the reader narrowly, and works', async () => {
  const text = await followAdvice('deny-rule', ['--allow', 'node', '--deny', 'cat']);
  expect(text).not.toContain('approve');
  expect(text).toContain('# why: the rule "deny exe:cat" refuses it');
  expect(text).toContain(`--remove 'deny cat' ${CAT_RULE}`);
  const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout) as unknown;
  const rules = (status as { mounts: Array<{ rules: Array<{ effect: string }> }> }).mounts[0]?.rules ?? [];
  expect(rules.map((r) => r.effect)).toEqual(['allow', 'allow']);
});

it('several deny rules match and the fallback is deny: all matching ones go, the fallback stays', async () => {
  const text = await followAdvice("deny rules, shell's words", [
    '--deny',
    'c?t',
    '--deny',
    'argv:cat *',
    '--deny',
    'python3',
    '--otherwise',
    'deny',
  ]);
  expect(text).not.toContain('approve');
  expect(text).toContain(`--remove 'deny c?t' --remove 'deny argv:cat *' ${CAT_RULE}`);
  expect(text).not.toContain('python3');
});

it('otherwise deny refused: the advice is one --allow for the reader, and works', async () => {
  const text = await followAdvice('otherwise-deny', ['--allow', 'node', '--otherwise', 'deny']);
  expect(text).not.toContain('approve');
  expect(text).toContain('# why: this mount refuses readers no rule allows (--otherwise deny)');
  expect(text).toMatch(new RegExp(`policy \\S+/otherwise-deny ${CAT_RULE.replace(/[{}]/g, '\\$&')}\``));
});

/** The first pending request of the mount in `dir`. */
async function pendingFor(dir: string): Promise<{ id: number }> {
  return waitFor(async () => {
    const pending = JSON.parse((await daemon.cli(['--json', 'approvals'])).stdout) as Array<{
      id: number;
      mount: string;
    }>;
    return pending.find((p) => p.mount === join(dir, '.env'));
  });
}

it('a read the user denied: the advised rule, run as printed, lets the next read through', async () => {
  const dir = daemon.project('user-denied', 'TOKEN=envmount://TOKEN\n');
  await daemon.cli(['add', dir]);
  const reader = startReader('cat', [join(dir, '.env')]);
  await daemon.cli(['deny', String((await pendingFor(dir)).id)]);
  const refused = await reader.done;
  const advice = /^# to allow it: `([^`]+)`, or approve its next read with `envmount approve`$/m.exec(refused)?.[1];
  expect(advice, refused).toContain(CAT_RULE);
  expect((await run('sh', ['-c', advice ?? 'false'], { env: shellEnv })).code).toBe(0);
  expect((await run('cat', [join(dir, '.env')])).stdout).toBe(VALUES);
});

it('--agents deny refused an agent’s reader: the advice asks about agents again, and its next read is approvable', async () => {
  const dir = daemon.project('agents-deny', 'TOKEN=envmount://TOKEN\n');
  await daemon.cli(['add', dir, '--allow', 'any', '--agents', 'deny']);
  const agentCat = ['-c', 'exec -a claude bash -c "cat .env; exit"'];
  const refused = await run('bash', agentCat, { cwd: dir });
  expect(refused.stdout).toContain('started by claude');
  const advice = /^# to allow it: `([^`]+)`, then approve its next read with `envmount approve`$/m.exec(
    refused.stdout,
  )?.[1];
  expect(advice, refused.stdout).toBe(`envmount policy ${dir} --agents ask`);
  expect((await run('sh', ['-c', advice ?? 'false'], { env: shellEnv })).code).toBe(0);
  const reader = startReader('bash', agentCat, { cwd: dir });
  const pending = await pendingFor(dir);
  await run('script', ['-qec', `envmount approve ${pending.id}`, '/dev/null'], { env: shellEnv, input: 'y\n' });
  expect(await reader.done).toBe(VALUES);
});
