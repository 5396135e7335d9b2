#!/usr/bin/env node
// `npm run demo`: the main job end to end on the embedded store, in a throwaway home (nothing of yours is touched):
// start envmountd, store a value, mount a project's .env, read it with cat and node --env-file, stop.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync('/tmp/envmount-demo-');
const env = { PATH: process.env.PATH, HOME: tmp };
for (const [name, sub] of [
  ['XDG_CONFIG_HOME', 'config'],
  ['XDG_STATE_HOME', 'state'],
  ['XDG_DATA_HOME', 'data'],
  ['XDG_RUNTIME_DIR', 'run'],
]) {
  env[name] = join(tmp, sub);
  mkdirSync(env[name], { mode: 0o700 });
}
const project = join(tmp, 'project');
mkdirSync(project);

function show(label, command, args, input) {
  console.log(`\n$ ${label}`);
  const result = spawnSync(command, args, { env, cwd: project, input, encoding: 'utf8' });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.status !== 0) throw new Error(`${label} exited ${result.status}`);
}
const envmount = (args, input) =>
  show(`envmount ${args.join(' ')}`, process.execPath, [join(root, 'dist/bin/envmount.js'), ...args], input);

console.log(`envmount demo in ${tmp}`);
const daemon = spawn(process.execPath, [join(root, 'dist/bin/envmountd.js'), 'start'], {
  env,
  stdio: ['ignore', 'ignore', 'pipe'],
});
try {
  await new Promise((ready, fail) => {
    let log = '';
    daemon.stderr.setEncoding('utf8').on('data', (d) => {
      log += d;
      if (log.includes('envmountd started')) ready();
    });
    daemon.once('exit', (code) => fail(new Error(`envmountd exited ${code}:\n${log}`)));
  });
  console.log('\n$ envmountd start &        # started (in a real setup: a systemd user unit or launchd agent)');
  envmount(['set', 'DATABASE_URL'], 'postgres://app:s3cr3t "demo"@localhost/app');
  writeFileSync(join(project, '.env.op'), 'DATABASE_URL=envmount://DATABASE_URL\nLOG_LEVEL=debug\n');
  show('cat .env.op', 'cat', ['.env.op']);
  envmount(['add', '.']);
  show('ls -l .env', 'ls', ['-l', '.env']);
  show('cat .env', 'cat', ['.env']);
  show(`node --env-file=.env -e 'console.log(process.env.DATABASE_URL)'`, process.execPath, [
    '--env-file=.env',
    '-e',
    'console.log(process.env.DATABASE_URL)',
  ]);
  envmount(['status']);
} finally {
  daemon.kill('SIGTERM');
  await new Promise((done) => daemon.once('exit', done));
  console.log('\n$ kill %envmountd          # a clean stop removes the pipe: readers get ENOENT, never a hang');
  spawnSync('ls', ['-la', project], { stdio: 'inherit' });
  rmSync(tmp, { recursive: true, force: true });
}
