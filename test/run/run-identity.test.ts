/**
 * `envmount run` is judged on the command it will run (resolved on PATH, through its `#!` line), never on
 * envmount's own node: under `--allow node`, `run -- env` gets nothing. A client that is not envmount's CLI is
 * judged as itself whatever command it claims; envmount's CLI with code loaded before it is refused.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll, run, TestDaemon } from '../helpers/daemon.js';

const TOKEN = 'tok-7c1e5a9d3b2f';
let daemon: TestDaemon;
let dir: string;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'TOKEN'], { input: TOKEN })).code).toBe(0);
  dir = daemon.project('app', 'TOKEN=envmount://TOKEN\n');
  writeFileSync(join(dir, 'server.js'), '#!/usr/bin/env node\nprocess.stdout.write(process.env.TOKEN ?? "none");\n');
  chmodSync(join(dir, 'server.js'), 0o755);
  const added = await daemon.cli(['add', dir, '--allow', 'node', '--deny', 'cat', '--otherwise', 'deny']);
  expect(added.stderr).toBe('');
});

afterAll(async () => {
  await killAll();
  await daemon.dispose();
});

async function lastLog() {
  const entries = JSON.parse((await daemon.cli(['--json', 'log', dir])).stdout) as Array<{
    decision: string;
    reader?: { exe: string; argv: string[] };
    rule?: string;
  }>;
  return entries.at(-1);
}

it('under --allow node: `run -- env` and `run -- cat` are refused by the rule that applies, on their own identity', async () => {
  const env = await daemon.cli(['run', '--', 'env'], { cwd: dir });
  expect(env.code).not.toBe(0);
  expect(env.stdout).not.toContain(TOKEN);
  expect(env.stderr).toContain('this mount refuses readers no rule allows (--otherwise deny)');
  expect(await lastLog()).toMatchObject({
    decision: 'denied',
    reader: { exe: '/usr/bin/env' },
    rule: 'otherwise deny',
  });
  const cat = await daemon.cli(['run', '--', 'cat', '/dev/null'], { cwd: dir });
  expect(cat.stderr).toContain('the rule "deny exe:cat" refuses it');
  expect(cat.stderr).toContain("--remove 'deny cat'");
});

it('`run -- node ...` and a #!/usr/bin/env node script are judged as node, and served', async () => {
  const inline = await daemon.cli(['run', '--', 'node', '-e', 'process.stdout.write(process.env.TOKEN)'], { cwd: dir });
  expect(inline.stdout).toBe(TOKEN);
  const script = await daemon.cli(['run', '--', './server.js'], { cwd: dir });
  expect(script.stdout).toBe(TOKEN);
  expect(await lastLog()).toMatchObject({
    decision: 'allowed',
    reader: { exe: process.execPath, argv: [process.execPath, join(dir, 'server.js')] },
    rule: 'allow exe:node',
  });
});

it('a client that is not envmount claims a command: it is judged as itself (here: inline node code, refused)', async () => {
  const scripted = daemon.project('scripted', 'TOKEN=envmount://TOKEN\n');
  writeFileSync(join(scripted, 'server.js'), '');
  await daemon.cli(['add', scripted, '--allow', 'script:./server.js', '--otherwise', 'deny']);
  const params = { dir: scripted, command: { file: process.execPath, argv: ['node', 'server.js'] } };
  const forged = await run(
    process.execPath,
    [
      '-e',
      `const s=require('net').createConnection(${JSON.stringify(daemon.socketPath)});s.setEncoding('utf8');
       s.on('data',(t)=>{process.stdout.write(t);s.destroy()});
       s.write(JSON.stringify({v:1,id:1,method:'run',params:${JSON.stringify(params)}})+'\\n')`,
    ],
    { env: daemon.env, cwd: scripted },
  );
  expect(forged.stdout).not.toContain(Buffer.from(TOKEN).toString('base64'));
  expect(JSON.parse(forged.stdout)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
});

it('envmount started with code loaded before it (NODE_OPTIONS=--require) is refused', async () => {
  const preload = join(dir, 'preload.cjs');
  writeFileSync(preload, '');
  const result = await run(join(daemon.install, 'dist/bin/envmount.js'), ['run', '--', 'node', '-e', '0'], {
    cwd: dir,
    env: { ...daemon.env, NODE_OPTIONS: `--require ${preload}` },
  });
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain('code loaded before it (--require');
});
