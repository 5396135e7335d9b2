/** Bad input, each with a clear message and nothing lost. */
import { lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAEMON, killAll, run, TestDaemon } from '../helpers/daemon.js';

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  await daemon.cli(['set', 'TOKEN'], { input: 'tok-value' });
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

describe('bad input', () => {
  it('a malformed template is refused with file:line, and no mount is made', async () => {
    const dir = daemon.project('broken', 'A=1\nB=envmount://TOKEN\nthis line is wrong\n');
    const result = await daemon.cli(['add', dir, '--allow', 'any']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(dir, '.env.op')}:3: expected KEY=value`);
    expect(() => lstatSync(join(dir, '.env'))).toThrow(/ENOENT/);
  });

  it('an envmount:// name that does not exist shows in status, and a reader gets a comment, not a hang', async () => {
    const dir = daemon.project('missing', 'TOKEN=envmount://TOKEN\nGHOST=envmount://GHOST\n');
    expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
    const status = await daemon.cli(['status']);
    expect(status.stdout).toContain('unresolved GHOST: envmount://GHOST is not set; run `envmount set GHOST`');
    const read = await run('cat', [join(dir, '.env')], { timeoutMs: 5000 });
    expect(read.stdout).toBe(
      "TOKEN='tok-value'\n# GHOST is not available: envmount://GHOST is not set; run `envmount set GHOST`\n",
    );
    // Setting it fills the next read.
    await daemon.cli(['set', 'GHOST'], { input: 'boo' });
    expect((await run('cat', [join(dir, '.env')])).stdout).toBe("TOKEN='tok-value'\nGHOST='boo'\n");
  });

  it('a symlink at the mount path is refused and its target is untouched', async () => {
    const dir = daemon.project('linked', 'A=envmount://TOKEN\n');
    const target = join(dir, 'real.env');
    writeFileSync(target, 'ORIGINAL=1\n');
    symlinkSync(target, join(dir, '.env'));
    const result = await daemon.cli(['add', dir, '--allow', 'any']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/symbolic link.*never follows/);
    expect(readlinkSync(join(dir, '.env'))).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('ORIGINAL=1\n');
  });

  it('a regular .env is refused, left untouched, and the message names envmount import', async () => {
    const dir = daemon.project('plain', 'A=envmount://TOKEN\n');
    writeFileSync(join(dir, '.env'), 'PLAIN=keep me\n');
    const result = await daemon.cli(['add', dir, '--allow', 'any']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Cannot mount "${join(dir, '.env')}": a regular file is there. Run \`envmount import ${dir} --merge\` to move its values into the store`,
    );
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('PLAIN=keep me\n');
  });

  it('an unknown scheme in a template is an error, never a literal', async () => {
    const dir = daemon.project('typo', 'A=envmout://TOKEN\n');
    const result = await daemon.cli(['add', dir, '--allow', 'any']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\.env\.op:1: .*did you mean envmount:\/\//);
  });

  it('a missing template names the file to create', async () => {
    const dir = daemon.project('empty');
    const result = await daemon.cli(['add', dir, '--allow', 'any']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`create ${join(dir, '.env.op')}`);
  });

  it('deleting a mounted project directory leaves other mounts serving, and status says so', async () => {
    const doomed = daemon.project('doomed', 'A=envmount://TOKEN\n');
    const other = daemon.project('other', 'A=envmount://TOKEN\n');
    expect((await daemon.cli(['add', doomed, '--allow', 'any'])).code).toBe(0);
    expect((await daemon.cli(['add', other, '--allow', 'any'])).code).toBe(0);
    rmSync(doomed, { recursive: true });
    expect((await run('cat', [join(other, '.env')])).stdout).toBe("A='tok-value'\n");
    const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
    const gone = status.mounts.find((m: { dir: string }) => m.dir === doomed);
    expect(gone).toMatchObject({ state: 'paused' });
    expect(gone.reason).toContain('is gone');
    // It comes back with the directory.
    mkdirSync(doomed);
    writeFileSync(join(doomed, '.env.op'), 'A=envmount://TOKEN\n');
    expect((await daemon.cli(['add', doomed, '--allow', 'any'])).code).toBe(0);
    expect((await run('cat', [join(doomed, '.env')])).stdout).toBe("A='tok-value'\n");
  });

  it('garbage on the control socket gets an error reply, and the daemon keeps serving', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = createConnection(daemon.socketPath);
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        text += d;
        if (text.includes('\n')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
      socket.write('\x00\x01 not json at all\n');
    });
    expect(JSON.parse(reply)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const unknown = await daemon.client().then(async (client) => {
      try {
        return await (client.request as (m: string, p: unknown) => Promise<unknown>)('explode', {});
      } catch (error) {
        return error;
      } finally {
        client.close();
      }
    });
    expect(unknown).toMatchObject({ code: 'BAD_REQUEST' });
    expect((await daemon.cli(['list'])).code).toBe(0);
  });

  it('a second daemon for the same user is refused and the first keeps serving', async () => {
    const second = await run(process.execPath, [DAEMON, 'start'], { env: daemon.env, timeoutMs: 10_000 });
    // 4, not 3: `envmount` exits 3 for "the daemon is not running".
    expect(second.code).toBe(4);
    expect(second.stderr).toContain('Another envmountd is already running');
    // Not a terminal: JSON lines (the journal's format). On a terminal, the same as a sentence.
    expect(JSON.parse(second.stderr.trim().split('\n').at(-1) ?? '')).toMatchObject({ level: 60 });
    const tty = await run('script', ['-qec', `${process.execPath} ${DAEMON} start`, '/dev/null'], {
      env: daemon.env,
      timeoutMs: 10_000,
    });
    expect(tty.code).toBe(4);
    expect(tty.stdout).toMatch(/^\d\d:\d\d:\d\d error: Another envmountd is already running for this user/m);
    expect(tty.stdout).not.toContain('"level"');
    // The start line names each field once (pino adds pid itself).
    const started = daemon.log.split('\n').find((line) => line.includes('"msg":"envmountd started"')) ?? '';
    expect(started.match(/"pid":/g)).toHaveLength(1);
    expect((await daemon.cli(['vars'])).stdout).toContain('TOKEN');
  });
});
