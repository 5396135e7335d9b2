/**
 * `envmount run --env-file F` / `--environment ID` in a directory with a mount: the mount's policy speaks for the
 * values of its own template only. Values the client names are asked about (DEFAULT_POLICY), so a process the
 * mount allows (here node, the command run) cannot use the mount to read any other store value unasked.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, killAll, run, TestDaemon, track, waitFor } from '../helpers/daemon.js';

const SECRET = 'prod-secret-7c41e9a2';
let daemon: TestDaemon;
let dir: string;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'prod/SECRET'], { input: SECRET })).code).toBe(0);
  expect((await daemon.cli(['set', 'canary/A'], { input: 'harmless' })).code).toBe(0);
  dir = daemon.project('p3', 'B=envmount://canary/A\n');
  expect((await daemon.cli(['add', dir, '--allow', 'node', '--otherwise', 'deny'])).code).toBe(0);
});

afterAll(async () => {
  await killAll();
  await daemon.dispose();
});

async function pending(client: Awaited<ReturnType<TestDaemon['client']>>, source: string) {
  return waitFor(async () => (await client.request('approvals', {})).find((a) => a.mount === source));
}

describe('run with a client-named env file under a mount that allows node', () => {
  it('the mount’s own template is still served under its policy', async () => {
    // Judged on its command (node), which the mount allows; `sh -c` would be refused (--otherwise deny).
    const print = 'console.log("B=" + process.env.B)';
    const result = await daemon.cli(['run', '--env-file', '.env.op', '--', 'node', '-e', print], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('B=harmless\n');
  });

  it('another file is asked about, not served under the mount’s policy; denied, nothing leaves', async () => {
    const evil = join(daemon.root, 'evil.tpl');
    writeFileSync(evil, 'X=envmount://prod/SECRET\n');
    let out = '';
    const child = track(
      spawn(CLI, ['run', '--env-file', evil, '--', 'sh', '-c', 'echo "got X=$X"'], { cwd: dir, env: daemon.env }),
    );
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const client = await daemon.client();
    try {
      // On the old code the value was served at once under `--allow node`: no approval ever appeared.
      const request = await pending(client, evil);
      expect(request.mount).toBe(evil);
      expect(out).not.toContain(SECRET);
      await client.request('deny', { id: request.id });
      expect(await exited).not.toBe(0);
      expect(out).not.toContain(SECRET);
      expect(out).toContain('refused');
    } finally {
      client.close();
      child.kill('SIGKILL');
    }
  });

  it('another file, approved once, is served', async () => {
    const evil = join(daemon.root, 'asked.tpl');
    writeFileSync(evil, 'X=envmount://prod/SECRET\n');
    let out = '';
    const child = track(
      spawn(CLI, ['run', '--env-file', evil, '--', 'sh', '-c', 'echo "got X=$X"'], { cwd: dir, env: daemon.env }),
    );
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const client = await daemon.client();
    try {
      const request = await pending(client, evil);
      await run('script', ['-qec', `${process.execPath} ${CLI} approve ${request.id}`, '/dev/null'], {
        env: daemon.env,
        input: 'y\n',
      });
      expect(await exited).toBe(0);
      expect(out).toBe(`got X=${SECRET}\n`);
    } finally {
      client.close();
      child.kill('SIGKILL');
    }
  });
});
