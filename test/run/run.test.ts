/**
 * `envmount run` end to end: the real daemon, the real CLI, real children, in a pseudo-terminal (node-pty, as a
 * person at a terminal) and on pipes (as a script or an MCP client).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MASK } from '../../src/core/masker.js';
import { CLI, killAll, run, TestDaemon, track, waitFor } from '../helpers/daemon.js';
import { killPtys, ptyCli } from '../helpers/pty.js';

const TOKEN = 'tok-3f9a61c2e8d4b7a05e1c';
const OTHER = 'other-5d2c8e71b94a';
let daemon: TestDaemon;
let dir: string;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'TOKEN'], { input: TOKEN })).code).toBe(0);
  expect((await daemon.cli(['set', 'OTHER'], { input: OTHER })).code).toBe(0);
  expect((await daemon.cli(['set', 'PORT'], { input: '80' })).code).toBe(0);
  dir = daemon.project('app', 'TOKEN=envmount://TOKEN\nPORT=envmount://PORT\nPLAIN=visible\n');
  expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
});

afterEach(() => killPtys());

afterAll(async () => {
  // killAll stops the daemon too (it is tracked): only at the end.
  await killAll();
  await daemon.dispose();
});

/** A Node child that prints the token in two writes 1 ms apart, after a coloured word. */
const SPLIT_PRINTER = [
  'node',
  '-e',
  `const t = process.env.TOKEN;
   process.stdout.write('\\x1b[32mgreen\\x1b[0m [' + t.slice(0, 7));
   setTimeout(() => process.stdout.write(t.slice(7) + ']\\n'), 1);`,
];

const cliIn = (cwd: string, args: string[], input?: string | Buffer) =>
  daemon.cli(args, { cwd, ...(input !== undefined ? { input } : {}) });

/** A run of client-named env files: it is asked about (no mount's policy covers them); approved in a terminal. */
async function cliApproved(cwd: string, args: string[]) {
  const result = cliIn(cwd, args);
  let done = false;
  void result.finally(() => {
    done = true;
  });
  const client = await daemon.client();
  try {
    const asked = await waitFor(async () => (done ? { id: 0 } : (await client.request('approvals', {}))[0]));
    if (asked.id > 0) {
      await run('script', ['-qec', `${process.execPath} ${CLI} approve ${asked.id}`, '/dev/null'], {
        env: daemon.env,
        input: 'y\n',
      });
    }
  } finally {
    client.close();
  }
  return result;
}

describe('in a terminal', () => {
  it('masks a value split across two writes 1 ms apart, and colours survive', async () => {
    const session = ptyCli(['run', '--', ...SPLIT_PRINTER], { env: daemon.env, cwd: dir });
    expect((await session.exit).exitCode).toBe(0);
    const shown = session.output();
    expect(shown).toContain(`\x1b[32mgreen\x1b[0m [${MASK}]`);
    expect(shown).not.toContain(TOKEN.slice(7));
    expect(shown).not.toContain(TOKEN.slice(0, 7));
    // Values under 4 bytes are said to be unmasked, by name.
    expect(shown).toContain('not masked in output (under 4 bytes): PORT');
  });

  it('Ctrl-C reaches the child through its terminal', async () => {
    const script = `process.on('SIGINT', () => { console.log('child got SIGINT'); process.exit(5) });
      console.log('ready'); setInterval(() => {}, 1000);`;
    const session = ptyCli(['run', '--', 'node', '-e', script], { env: daemon.env, cwd: dir });
    await session.waitFor('ready');
    session.pty.write('\x03');
    expect((await session.exit).exitCode).toBe(5);
    expect(session.output()).toContain('child got SIGINT');
  });

  it('window resizes reach the child; it sees a terminal of our size', async () => {
    const script = `const say = (...a) => process.stdout.write(a.join(' ') + '\\n');
      say('size', process.stdout.isTTY, process.stdout.columns, process.stdout.rows);
      process.stdout.on('resize', () => { say('resized', process.stdout.columns, process.stdout.rows); process.exit(0) });
      setInterval(() => {}, 1000);`;
    const session = ptyCli(['run', '--', 'node', '-e', script], { env: daemon.env, cwd: dir, cols: 91, rows: 27 });
    await session.waitFor('size true 91 27');
    session.pty.resize(120, 40);
    await session.waitFor('resized 120 40');
    expect((await session.exit).exitCode).toBe(0);
  });

  it('--no-masking shows values as the child wrote them', async () => {
    const session = ptyCli(['run', '--no-masking', '--', ...SPLIT_PRINTER], { env: daemon.env, cwd: dir });
    expect((await session.exit).exitCode).toBe(0);
    expect(session.output()).toContain(`[${TOKEN}]`);
  });
});

describe('on pipes', () => {
  it('passes stdout byte for byte (every byte value) and stdin through', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const echo = await new Promise<Buffer>((resolve, reject) => {
      const child = track(spawn(CLI, ['run', '--', 'cat'], { cwd: dir, env: daemon.env }));
      const chunks: Buffer[] = [];
      child.stdout?.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', reject);
      child.on('close', () => resolve(Buffer.concat(chunks)));
      child.stdin?.end(bytes);
    });
    expect(echo.equals(bytes)).toBe(true);
  });

  it('does not mask by default; --mask masks stdout and stderr, split writes included', async () => {
    const plain = await cliIn(dir, ['run', '--', ...SPLIT_PRINTER]);
    expect(plain.stdout).toContain(`[${TOKEN}]`);
    const toStderr = `const t = process.env.TOKEN; process.stderr.write('e:' + t.slice(0, 3));
      setTimeout(() => process.stderr.write(t.slice(3) + ' ' + process.env.PLAIN + '\\n'), 1);`;
    const masked = await cliIn(dir, ['run', '--mask', '--', 'node', '-e', toStderr]);
    expect(masked.code).toBe(0);
    expect(masked.stderr).toContain(`e:${MASK} visible`);
    expect(masked.stderr).not.toContain(TOKEN.slice(3));
  });

  it('the child has the values and our environment; --no-inherit gives it only the values', async () => {
    const show = ['node', '-e', 'console.log(JSON.stringify(process.env))'];
    const inherited = JSON.parse((await cliIn(dir, ['run', '--', ...show])).stdout);
    expect(inherited).toMatchObject({ TOKEN, PORT: '80', PLAIN: 'visible', HOME: daemon.env.HOME });
    const only = JSON.parse((await cliIn(dir, ['run', '--no-inherit', '--', ...show])).stdout);
    expect(Object.keys(only).sort()).toEqual(['PLAIN', 'PORT', 'TOKEN']);
  });

  it('env files: repeatable, later wins, from any directory; named files are asked about, not covered by the mount', async () => {
    const elsewhere = daemon.project('files');
    writeFileSync(join(elsewhere, 'a.op'), 'X=envmount://TOKEN\nY=first\n');
    writeFileSync(join(elsewhere, 'b.op'), 'Y=envmount://OTHER\n');
    const compare = run(
      CLI,
      [
        'run',
        '--dir',
        dir,
        '--env-file',
        'a.op',
        '--env-file',
        'b.op',
        '--',
        'node',
        '-e',
        'console.log(process.env.X, process.env.Y)',
      ],
      { cwd: elsewhere, env: daemon.env },
    );
    const client = await daemon.client();
    try {
      const source = `${join(elsewhere, 'a.op')}, ${join(elsewhere, 'b.op')}`;
      const asked = await waitFor(async () => (await client.request('approvals', {})).find((a) => a.mount === source));
      await run('script', ['-qec', `${process.execPath} ${CLI} approve ${asked.id}`, '/dev/null'], {
        env: daemon.env,
        input: 'y\n',
      });
    } finally {
      client.close();
    }
    const result = await compare;
    // The run waits for the approval above: past 700 ms (a loaded machine) it says so, and nothing else.
    expect(result.stderr.replace(/^envmount: waiting for the daemon to authorize this run .*\n/, '')).toBe('');
    expect(result.stdout).toBe(`${TOKEN} ${OTHER}\n`);
  });
});

describe('exit codes and signals', () => {
  it("is the child's exit code, and 128+N for a signal", async () => {
    expect((await cliIn(dir, ['run', '--', 'node', '-e', 'process.exit(7)'])).code).toBe(7);
    expect((await cliIn(dir, ['run', '--', 'sh', '-c', 'kill -TERM $$'])).code).toBe(143);
  });

  it('forwards SIGTERM to the child and waits for it', async () => {
    const script = `process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(9) });
      console.log('ready'); setInterval(() => {}, 1000);`;
    const child = track(spawn(CLI, ['run', '--', 'node', '-e', script], { cwd: dir, env: daemon.env }));
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    await waitFor(() => out.includes('ready'));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(9);
    expect(out).toContain('child got SIGTERM');
  });

  it('a command that does not exist: 127 with a clear message, before any value is fetched', async () => {
    const result = await cliIn(dir, ['run', '--', 'no-such-command-xyz']);
    expect(result.code).toBe(127);
    expect(result.stderr).toBe(
      'envmount: Cannot run "no-such-command-xyz": no such command on PATH. Check its spelling, or give its path (./no-such-command-xyz).\n',
    );
    const log = JSON.parse((await daemon.cli(['--json', 'log', dir])).stdout) as {
      reader?: { argv: string[] };
    }[];
    expect(log.some((e) => e.reader?.argv.includes('no-such-command-xyz'))).toBe(false);
  });

  it('a file that is not executable: 126', async () => {
    const script = join(dir, 'script.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const result = await cliIn(dir, ['run', '--', './script.sh']);
    expect(result.code).toBe(126);
    expect(result.stderr).toContain(`Cannot run "./script.sh": ${script} is not an executable file`);
  });
});

describe('bad input', () => {
  it('an env file that does not exist', async () => {
    const result = await cliIn(dir, ['run', '--env-file', 'missing.op', '--', 'true']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `envmount: Cannot use the env file "${join(dir, 'missing.op')}": there is no such file. Check the --env-file path.\n`,
    );
  });

  it('an env file that does not parse names the file and line', async () => {
    writeFileSync(join(dir, 'broken.op'), 'OK=1\nBAD="never closed\n');
    const result = await cliIn(dir, ['run', '--env-file', 'broken.op', '--', 'true']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^envmount: ${join(dir, 'broken.op')}:2: `));
  });

  it('a dangerous name is refused unless allowed by name; no value is sent', async () => {
    writeFileSync(join(dir, 'danger.op'), 'NODE_OPTIONS=--require=/tmp/x.js\nTOKEN=envmount://TOKEN\n');
    const refused = await cliApproved(dir, ['run', '--env-file', 'danger.op', '--', 'node', '-e', 'console.log(1)']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('Refusing to set NODE_OPTIONS from');
    expect(refused.stderr).toContain('--allow-dangerous NODE_OPTIONS');
    writeFileSync(join(dir, 'danger.op'), 'NODE_OPTIONS=--no-warnings\n');
    const allowed = await cliApproved(dir, [
      'run',
      '--allow-dangerous',
      'NODE_OPTIONS',
      '--env-file',
      'danger.op',
      '--',
      'node',
      '-e',
      'console.log(process.env.NODE_OPTIONS)',
    ]);
    expect(allowed.stdout).toBe('--no-warnings\n');
  });

  it('no command, and a directory with no mount', async () => {
    const none = await cliIn(dir, ['run']);
    expect(none.code).toBe(2);
    const unmounted = daemon.project('unmounted');
    const result = await cliIn(unmounted, ['run', '--', 'true']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`No mount covers "${unmounted}". Run \`envmount add ${unmounted}\``);
  });

  it('a value that cannot be resolved stops the run and names the variable', async () => {
    writeFileSync(join(dir, 'gap.op'), 'GONE=envmount://NOT_SET\n');
    const result = await cliApproved(dir, ['run', '--env-file', 'gap.op', '--', 'true']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Cannot run: 1 of 1 variables have no value: GONE:');
  });
});

describe('policy', () => {
  it('a run is a read: refused by a deny rule (audited), allowed after approval when asked', async () => {
    const guarded = daemon.project('guarded', 'TOKEN=envmount://TOKEN\n');
    mkdirSync(join(guarded, 'sub'));
    // Judged on the command it runs (true), not on envmount's own node.
    expect((await daemon.cli(['add', guarded, '--deny', 'true'])).code).toBe(0);
    const refused = await cliIn(join(guarded, 'sub'), ['run', '--', 'true']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused: the rule "deny exe:true"');
    const log = JSON.parse((await daemon.cli(['--json', 'log', guarded])).stdout);
    expect(log.at(-1)).toMatchObject({ decision: 'denied', bytes: 0 });
    expect(log.at(-1).reader.argv).toEqual(['true']);

    expect((await daemon.cli(['policy', guarded, '--reset'])).code).toBe(0);
    const waiting = track(
      spawn(CLI, ['run', '--', 'node', '-e', 'console.log(process.env.TOKEN.length)'], {
        cwd: guarded,
        env: daemon.env,
      }),
    );
    let stdout = '';
    let stderr = '';
    waiting.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    waiting.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const done = new Promise<number | null>((resolve) => waiting.on('close', (code) => resolve(code)));
    const pending = await waitFor(async () => {
      const list = JSON.parse((await daemon.cli(['--json', 'approvals'])).stdout) as { id: number; mount: string }[];
      return list.find((p) => p.mount === join(guarded, '.env'));
    });
    await waitFor(() => stderr.includes('waiting for the daemon to authorize this run'));
    await run('script', ['-qec', `${CLI} approve ${pending.id}`, '/dev/null'], { env: daemon.env, input: 'y\n' });
    expect(await done).toBe(0);
    expect(stdout).toBe(`${TOKEN.length}\n`);
  });

  it('status names the values too short to mask', async () => {
    const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
    const app = status.mounts.find((m: { dir: string }) => m.dir === dir);
    expect(app.unmasked).toEqual(['PORT']);
    expect((await daemon.cli(['status'])).stdout).toContain('unmasked:  PORT');
  });
});
