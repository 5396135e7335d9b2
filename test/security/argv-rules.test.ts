/**
 * Issue 14, class 7: an `argv:` rule is not matched by a reader that merely names the mount. With
 * `--allow 'argv:*vite*'` on a project in `my-vite-app/`, `cat /…/my-vite-app/.env`, `cat my-vite-app/.env` from the
 * parent directory and a python one-liner opening the path each get the refusal, not the value; the program the rule
 * is for (a script named vite inside the project, as `npx vite` runs it) still reads. On the old code cat and python
 * read the value (the path held "vite").
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll, run, TestDaemon } from '../helpers/daemon.js';

const VALUE = 'vite-secret-8c1e5b27d9';
let daemon: TestDaemon;
let dir: string;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'TOKEN'], { input: VALUE })).code).toBe(0);
  dir = daemon.project('my-vite-app', 'TOKEN=envmount://TOKEN\n');
  const added = await daemon.cli(['add', dir, '--allow', 'argv:*vite*', '--otherwise', 'deny']);
  expect(added.stderr).toBe('');
});

afterAll(async () => {
  await killAll();
  await daemon.dispose();
});

const read = (command: string, args: string[], cwd: string) => run(command, args, { cwd, timeoutMs: 15_000 });

it('readers that only name the mount, its directory or its template are refused', async () => {
  const env = join(dir, '.env');
  // One after another: readers sharing the pipe would be refused as a collision, whatever the rule says.
  const readers: Array<[string, string[], string]> = [
    ['cat', [env], '/'],
    ['cat', ['my-vite-app/.env'], dirname(dir)],
    ['python3', ['-c', `import sys; sys.stdout.write(open(${JSON.stringify(env)}).read())`], '/'],
  ];
  for (const [command, args, cwd] of readers) {
    const result = await read(command, args, cwd);
    expect(result.stdout, command).not.toContain(VALUE);
    expect(result.stdout, command).toContain('# envmount refused this read');
  }
  const log = JSON.parse((await daemon.cli(['--json', 'log', dir])).stdout) as Array<{ decision: string }>;
  expect(log.map((e) => e.decision)).toEqual(['denied', 'denied', 'denied']);
});

it('the program the rule is for still reads', async () => {
  const bin = join(dir, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  const vite = join(bin, 'vite');
  writeFileSync(vite, "process.stdout.write(require('fs').readFileSync('.env', 'utf8'));\n");
  const result = await read(process.execPath, [vite], dir);
  expect(result.stdout).toBe(`TOKEN='${VALUE}'\n`);
});
