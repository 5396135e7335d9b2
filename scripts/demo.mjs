#!/usr/bin/env node
// `npm run demo`: the main job end to end on the embedded store, in a throwaway home (nothing of yours is touched):
// start envmountd, store a value, mount a project's .env, read it with cat and node --env-file, stop.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox } from './sandbox.mjs';

const sandbox = await startSandbox('envmount-demo');
const project = join(sandbox.tmp, 'project');
mkdirSync(project);

function show(label, command, args) {
  console.log(`\n$ ${label}`);
  const result = spawnSync(command, args, { env: sandbox.env, cwd: project, encoding: 'utf8' });
  process.stdout.write(result.stdout + result.stderr);
  if (result.status !== 0) throw new Error(`${label} exited ${result.status}`);
}
function envmount(args, input) {
  console.log(`\n$ envmount ${args.join(' ')}`);
  const result = sandbox.envmount(args, input, project);
  process.stdout.write(result.stdout + result.stderr);
}

console.log(`envmount demo in ${sandbox.tmp}`);
try {
  console.log('\n$ envmountd start &        # started (in a real setup: a systemd user unit or launchd agent)');
  const value = 'postgres://app:s3cr3t "demo"@localhost/app';
  console.log(`\n$ envmount set DATABASE_URL        # typed at a hidden prompt; here, from stdin`);
  process.stdout.write(sandbox.envmount(['set', 'DATABASE_URL'], value, project).stdout);
  const template = 'DATABASE_URL=envmount://DATABASE_URL\nLOG_LEVEL=debug\n';
  console.log(`\n$ printf '${template.replaceAll('\n', '\\n')}' > .env.op`);
  writeFileSync(join(project, '.env.op'), template);
  show('cat .env.op', 'cat', ['.env.op']);
  envmount(['add', '.', '--allow', 'any']);
  show('ls -l .env', 'ls', ['-l', '.env']);
  show('cat .env', 'cat', ['.env']);
  show(`node --env-file=.env -e 'console.log(process.env.DATABASE_URL)'`, process.execPath, [
    '--env-file=.env',
    '-e',
    'console.log(process.env.DATABASE_URL)',
  ]);
  envmount(['status']);
} finally {
  await sandbox.stop();
  console.log('\n$ kill %envmountd          # a clean stop removes the pipe: readers get ENOENT, never a hang');
  console.log('\n$ ls -la');
  spawnSync('ls', ['-la', project], { stdio: 'inherit' });
  sandbox.remove();
}
