/**
 * Every combination of a plaintext `.env` and a template (`.env.op`, `.env.tpl`, none) ends in a working mount by
 * following the advice `add` and `import` print: each test runs the command the message names, word for word, until
 * the project serves. A name defined in both files stops `import --merge` before anything changes.
 */
import { existsSync, lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { run, type TestDaemon, waitFor } from '../helpers/daemon.js';
import { daemonSuite } from '../helpers/suite.js';

const suite = daemonSuite({ SHARED: 'from-store' });

/** The first `envmount ...` command a message names, as argv. */
function advised(message: string): string[] {
  const command = /`envmount ([^`]+)`/.exec(message)?.[1];
  if (!command) throw new Error(`no command in: ${message}`);
  return command.split(' ');
}

/** Runs `add`, then whatever each failure advises, until a command succeeds; returns the messages seen. */
async function follow(d: TestDaemon, dir: string): Promise<string[]> {
  const seen: string[] = [];
  let argv = ['add', dir, '--allow', 'any'];
  for (let step = 0; step < 4; step++) {
    const result = await d.cli(argv);
    if (result.code === 0) return seen;
    seen.push(result.stderr);
    argv = [...advised(result.stderr), '--allow', 'any'];
    expect(seen.slice(0, -1)).not.toContain(result.stderr); // no circle
  }
  throw new Error(`no working state after 4 steps:\n${seen.join('\n')}`);
}

it('.env alone: add advises import; import serves it and drops the plaintext file', async () => {
  const d = suite();
  const dir = d.project('alone');
  writeFileSync(join(dir, '.env'), 'ALONE=plain-1\n');
  const seen = await follow(d, dir);
  expect(seen).toHaveLength(1);
  expect(seen[0]).toContain(`\`envmount import ${dir}\``);
  expect(lstatSync(join(dir, '.env')).isFIFO()).toBe(true);
  expect((await run('cat', [join(dir, '.env')])).stdout).toBe("ALONE='plain-1'\n");
});

for (const template of ['.env.op', '.env.tpl']) {
  it(`.env and ${template}: add advises import --merge; both files' variables are served`, async () => {
    const d = suite();
    const dir = d.project(`both${template}`);
    writeFileSync(join(dir, template), '# kept\nSHARED=envmount://SHARED\n');
    writeFileSync(join(dir, '.env'), 'LOCAL=plain-2\n');
    const seen = await follow(d, dir);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain(`\`envmount import ${dir} --merge\``);
    expect((await run('cat', [join(dir, '.env')])).stdout).toBe("SHARED='from-store'\nLOCAL='plain-2'\n");
    const text = readFileSync(join(dir, template), 'utf8');
    expect(text).toMatch(/^# kept\nSHARED=envmount:\/\/SHARED\n# Merged from \.env by envmount on .*\n/);
    expect(text).toContain(`LOCAL=envmount://both${template}/LOCAL\n`);
    expect(text).not.toContain('plain-2');
    expect(existsSync(join(dir, template === '.env.op' ? '.env.tpl' : '.env.op'))).toBe(false);
  });
}

it('import without --merge next to a template names --merge, and that works', async () => {
  const d = suite();
  const dir = d.project('plain-import', 'SHARED=envmount://SHARED\n');
  writeFileSync(join(dir, '.env'), 'OTHER=plain-3\n');
  const refused = await d.cli(['import', dir]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(`\`envmount import ${dir} --merge\``);
  expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('OTHER=plain-3\n');
  const merged = await d.cli([...advised(refused.stderr), '--allow', 'any']);
  expect(merged.stderr).toBe('');
  expect(merged.stdout).toContain(`Added their references to ${join(dir, '.env.op')}`);
  expect((await run('cat', [join(dir, '.env')])).stdout).toBe("SHARED='from-store'\nOTHER='plain-3'\n");
});

it('a name in both files: import --merge names it and changes nothing; after the fix it merges', async () => {
  const d = suite();
  const dir = d.project('conflict', 'SHARED=envmount://SHARED\nKEEP=literal\n');
  writeFileSync(join(dir, '.env'), 'SHARED=plain-shared\nNEW=plain-4\n');
  const refused = await d.cli(['import', dir, '--merge', '--allow', 'any']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('SHARED is in both');
  expect(refused.stderr).not.toContain('plain-shared');
  expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('SHARED=plain-shared\nNEW=plain-4\n');
  expect(readFileSync(join(dir, '.env.op'), 'utf8')).toBe('SHARED=envmount://SHARED\nKEEP=literal\n');
  expect((await d.cli(['vars'])).stdout).not.toContain('conflict/');
  // Keep the template's line: drop it from .env, as the message says, and run the same command again.
  writeFileSync(join(dir, '.env'), 'NEW=plain-4\n');
  expect((await d.cli(['import', dir, '--merge', '--allow', 'any'])).code).toBe(0);
  expect((await run('cat', [join(dir, '.env')])).stdout).toBe("SHARED='from-store'\nKEEP='literal'\nNEW='plain-4'\n");
});

it('a template alone: add serves it at once', async () => {
  const d = suite();
  const dir = d.project('template-only', 'SHARED=envmount://SHARED\n');
  expect(await follow(d, dir)).toEqual([]);
  expect((await run('cat', [join(dir, '.env')])).stdout).toBe("SHARED='from-store'\n");
});

it('a regular file saved over a mount next to a template: status advises import --merge, and that works', async () => {
  const d = suite();
  const dir = d.project('displaced-merge', 'SHARED=envmount://SHARED\n');
  expect((await d.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
  // An editor's save: a new file renamed over the pipe.
  writeFileSync(join(dir, '.env.new'), 'SAVED=plain-5\n');
  renameSync(join(dir, '.env.new'), join(dir, '.env'));
  const reason = await waitFor(async () => {
    const status = JSON.parse((await d.cli(['--json', 'status'])).stdout) as {
      mounts: Array<{ dir: string; state: string; reason?: string }>;
    };
    const mount = status.mounts.find((m) => m.dir === dir);
    return mount?.state === 'displaced' ? mount.reason : undefined;
  });
  expect(reason).toContain(`\`envmount import ${dir} --merge\``);
  const merged = await d.cli(advised(reason ?? ''));
  expect(merged.stderr).toBe('');
  expect(merged.code).toBe(0);
  await waitFor(() => (lstatSync(join(dir, '.env')).isFIFO() ? true : undefined));
  expect((await run('cat', [join(dir, '.env')])).stdout).toBe("SHARED='from-store'\nSAVED='plain-5'\n");
});
