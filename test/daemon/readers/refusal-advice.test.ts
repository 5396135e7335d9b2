/**
 * The `# to allow it:` line of a refused read, taken at its word: the printed command is run through a shell
 * exactly as printed, and the next read by the same executable gets the values.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll, run, TestDaemon } from '../../helpers/daemon.js';

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

it('a deny rule refused: the advice drops that rule, keeps the others, allows the reader, and works', async () => {
  const text = await followAdvice('deny-rule', ['--allow', 'node', '--deny', 'cat']);
  expect(text).not.toContain('approve');
  expect(text).toContain('--reset --allow node --allow cat');
  const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout) as unknown;
  expect(JSON.stringify(status)).not.toContain('deny exe:cat');
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
  expect(text).toContain('--deny python3 --allow cat --otherwise deny');
});

it('otherwise deny refused: the advice is one --allow for the reader, and works', async () => {
  const text = await followAdvice('otherwise-deny', ['--allow', 'node', '--otherwise', 'deny']);
  expect(text).not.toContain('approve');
  expect(text).not.toContain('--reset');
});
