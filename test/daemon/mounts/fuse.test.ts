/**
 * The FUSE backend end to end, with the real daemon and real readers: a regular file whose every open gets a whole
 * copy of its own; the same policy, approvals and audit as the FIFO path; bulk readers refused and git kept away;
 * other users refused by the kernel; a clean stop, `remove`, kill -9, `envmountd cleanup` and a restart.
 * Skipped where fuseSupport() says FUSE mounts cannot be made (the reason is the skip's name).
 */
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuseMounted } from '../../../src/native/index.js';
import { CLI, killAll, listDir, run, startReader, TestDaemon, waitFor } from '../../helpers/daemon.js';
import { FUSE_SKIP } from '../../helpers/fuse.js';

const VALUE = 'fuse-canary-7d1e';
const CONTENT = `TOKEN='${VALUE}'\nOTHER='second line'\n`;
let daemon: TestDaemon;

beforeAll(async () => {
  if (FUSE_SKIP) return;
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'TOKEN', '--raw'], { input: VALUE })).code).toBe(0);
  expect((await daemon.cli(['set', 'OTHER', '--raw'], { input: 'second line' })).code).toBe(0);
});

afterAll(async () => {
  // The daemon first (a clean stop unmounts), then the readers: killAll would SIGKILL the daemon too.
  await daemon?.dispose();
  await killAll();
});

const TEMPLATE = 'TOKEN=envmount://TOKEN\nOTHER=envmount://OTHER\n';

async function fuseMount(name: string, ...policy: string[]): Promise<string> {
  const dir = daemon.project(name, TEMPLATE);
  const added = await daemon.cli(['add', dir, '--backend', 'fuse', ...policy]);
  expect(added.stderr).toBe('');
  expect(added.code).toBe(0);
  return dir;
}

/** `count` readers started at once by one shell, each writing what it read to its own file. */
async function fanOut(dir: string, count: number, reader: string): Promise<string[]> {
  const outs = mkdtempSync('/tmp/emt-fan-');
  try {
    const script = `for i in $(seq ${count}); do ${reader} > "${outs}/$i" 2>/dev/null & done; wait`;
    const result = await run('bash', ['-c', script], { cwd: dir });
    expect(result.code).toBe(0);
    return Array.from({ length: count }, (_, i) => readFileSync(join(outs, String(i + 1)), 'utf8'));
  } finally {
    rmSync(outs, { recursive: true, force: true });
  }
}

describe.skipIf(FUSE_SKIP)(`the FUSE backend${FUSE_SKIP ? ` (skipped: ${FUSE_SKIP})` : ''}`, () => {
  it('serves a regular file, 0600, of the user, whose size is what a reader gets; status names the backend', async () => {
    const dir = await fuseMount('plain', '--allow', 'any');
    const path = join(dir, '.env');
    const st = statSync(path);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid?.());
    expect(st.size).toBe(Buffer.byteLength(CONTENT));
    expect(fuseMounted(path)).toBe(true);
    expect((await run('cat', [path])).stdout).toBe(CONTENT);
    const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout) as {
      mounts: Array<{ path: string; backend: string }>;
    };
    expect(status.mounts.find((m) => m.path === path)?.backend).toBe('fuse');
    // The mtime moves only when the content does: reads leave it alone.
    const before = statSync(path).mtimeMs;
    await run('cat', [path]);
    expect(statSync(path).mtimeMs).toBe(before);
  });

  it('32 readers opening at once under --allow any, 10 rounds: every one gets the whole content', async () => {
    const dir = await fuseMount('fan', '--allow', 'any');
    for (let round = 0; round < 10; round++) {
      const got = await fanOut(dir, 32, 'cat .env');
      expect(got.filter((text) => text !== CONTENT)).toEqual([]);
    }
  });

  it('readers reading in small pieces, concurrently, under a rule: whole copies only', async () => {
    const dir = await fuseMount('pieces', '--allow', 'dd', '--otherwise', 'deny');
    const got = await fanOut(dir, 16, 'dd if=.env bs=7 status=none');
    expect(got.filter((text) => text !== CONTENT)).toEqual([]);
    // A reader no rule names gets the refusal lines, not the values.
    const other = await run('head', ['-c', '1000', join(dir, '.env')]);
    expect(other.stdout).toContain('# envmount refused this read');
    expect(other.stdout).not.toContain(VALUE);
  });

  it('regular-file loaders get the values: bash [ -f .env ] && source, node --env-file and loadEnvFile, python-dotenv', async () => {
    const dir = await fuseMount('loaders', '--allow', 'any');
    const bash = await run('bash', ['-c', '[ -f .env ] && [ -s .env ] && source .env && printf %s "$TOKEN"'], {
      cwd: dir,
    });
    expect(bash.stdout).toBe(VALUE);
    const envFile = await run(process.execPath, ['--env-file=.env', '-e', 'process.stdout.write(process.env.TOKEN)'], {
      cwd: dir,
    });
    expect(envFile.stdout).toBe(VALUE);
    const load = await run(
      process.execPath,
      ['-e', 'process.loadEnvFile(".env");process.stdout.write(process.env.TOKEN)'],
      {
        cwd: dir,
      },
    );
    expect(load.stdout).toBe(VALUE);
    const python = await run(
      'python3',
      ['-c', 'import dotenv,sys; sys.stdout.write(dotenv.dotenv_values(".env")["TOKEN"])'],
      { cwd: dir },
    );
    if (!/No module named/.test(python.stderr)) expect(python.stdout).toBe(VALUE);
  });

  it('an ask holds the open until answered: deny gives the refusal lines, approve the values', async () => {
    const dir = await fuseMount('ask');
    const path = join(dir, '.env');
    const denied = startReader('cat', [path]);
    const first = await waitFor(async () => {
      const list = JSON.parse((await daemon.cli(['--json', 'approvals'])).stdout) as Array<{
        id: number;
        exe: string;
        mount: string;
      }>;
      return list.find((a) => a.mount === path);
    });
    expect(first.exe).toBe('/usr/bin/cat');
    expect((await daemon.cli(['deny', String(first.id)])).code).toBe(0);
    const text = await denied.done;
    expect(text).toContain('# why: the request was denied');
    expect(text).not.toContain(VALUE);
    const allowed = startReader('cat', [path]);
    const second = await waitFor(async () => {
      const list = JSON.parse((await daemon.cli(['--json', 'approvals'])).stdout) as Array<{
        id: number;
        mount: string;
      }>;
      return list.find((a) => a.mount === path);
    });
    const approved = await run('script', ['-qec', `${process.execPath} ${CLI} approve ${second.id}`, '/dev/null'], {
      env: daemon.env,
      input: 'y\n',
    });
    expect(approved.code).toBe(0);
    expect(await allowed.done).toBe(CONTENT);
  });

  it('copiers do not copy it: tar and cp get refusal lines under --allow any; git add -A && git commit never captures a value', async () => {
    const dir = daemon.project('repo', TEMPLATE);
    expect((await run('git', ['init', '-q', dir])).code).toBe(0);
    const added = await daemon.cli(['add', dir, '--backend', 'fuse', '--allow', 'any']);
    expect(added.stdout).toMatch(/added \/\.env to .*info\/exclude/);
    expect(readFileSync(join(dir, '.git/info/exclude'), 'utf8')).toContain('\n/.env\n');
    const tar = await run('bash', ['-c', 'tar cf - . | tar xOf - ./.env'], { cwd: dir });
    expect(tar.stdout).not.toContain(VALUE);
    expect(tar.stdout).toContain('# why: tar reads whole trees');
    const copy = join(dir, 'copy');
    await run('cp', [join(dir, '.env'), copy]);
    expect(readFileSync(copy, 'utf8')).not.toContain(VALUE);
    rmSync(copy);
    const git = (...args: string[]) =>
      run('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: dir });
    expect((await git('add', '-A')).code).toBe(0);
    expect((await git('commit', '-qm', 'all')).code).toBe(0);
    expect((await git('ls-files')).stdout.split('\n')).not.toContain('.env');
    // Even forced past the exclude, git is a bulk reader: it gets the refusal lines.
    await git('add', '-f', '.env');
    await git('commit', '-qm', 'forced');
    expect((await git('log', '-p', '--all')).stdout).not.toContain(VALUE);
    const objects = await run(
      'bash',
      ['-c', 'for o in $(git rev-list --all --objects | cut -d" " -f1); do git cat-file -p $o; done'],
      { cwd: dir },
    );
    expect(objects.stdout).not.toContain(VALUE);
    // A rule naming the copier lets it read.
    expect((await daemon.cli(['policy', dir, '--allow', 'exe:/usr/bin/tar'])).code).toBe(0);
    expect((await run('bash', ['-c', 'tar cf - .env | tar xOf -'], { cwd: dir })).stdout).toBe(CONTENT);
  });

  it('another user (uid 65534) cannot read it: the kernel refuses before the daemon is asked', async () => {
    if (process.getuid?.() !== 0) return;
    // A directory other users can reach (the daemon's temp root is 0700), not writable by them.
    const dir = mkdtempSync('/tmp/emt-fuse-pub-');
    try {
      chmodSync(dir, 0o755);
      writeFileSync(join(dir, '.env.op'), TEMPLATE);
      expect((await daemon.cli(['add', dir, '--backend', 'fuse', '--allow', 'any'])).code).toBe(0);
      const other = await run('setpriv', [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        'cat',
        join(dir, '.env'),
      ]);
      expect(other.code).not.toBe(0);
      expect(other.stderr).toMatch(/Permission denied/);
      expect(other.stdout).not.toContain(VALUE);
    } finally {
      await daemon.cli(['remove', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('healing: unmounted from outside, it is mounted again on its placeholder; rm and mv over it are refused (EBUSY)', async () => {
    const dir = await fuseMount('healed', '--allow', 'any');
    const path = join(dir, '.env');
    expect((await run('rm', ['-f', path])).stderr).toMatch(/busy/i);
    writeFileSync(join(dir, 'other'), 'X=1\n');
    expect((await run('mv', [join(dir, 'other'), path])).stderr).toMatch(/busy/i);
    expect((await run('cat', [path])).stdout).toBe(CONTENT);
    expect((await run('umount', [path])).code).toBe(0);
    await waitFor(() => fuseMounted(path));
    expect((await run('cat', [path])).stdout).toBe(CONTENT);
  });

  it('ENVMOUNT_BACKEND=fuse makes new mounts FUSE; an existing FIFO mount keeps its backend when added again', async () => {
    const env = { ...daemon.env, ENVMOUNT_BACKEND: 'fuse' };
    const fifo = daemon.project('stays-fifo', TEMPLATE);
    expect((await daemon.cli(['add', fifo, '--allow', 'any'])).code).toBe(0);
    const again = await run(CLI, ['add', fifo], { env });
    expect(again.stderr).toBe('');
    expect(again.stdout).toContain('backend:   fifo');
    expect(lstatSync(join(fifo, '.env')).isFIFO()).toBe(true);
    const fresh = daemon.project('by-default', TEMPLATE);
    const added = await run(CLI, ['add', fresh, '--allow', 'any'], { env });
    expect(added.stdout).toContain('backend:   fuse');
    expect(lstatSync(join(fresh, '.env')).isFile()).toBe(true);
    const switched = await daemon.cli(['add', fifo, '--backend', 'fuse']);
    expect(switched.stderr).toContain('is mounted with the fifo backend');
    const bad = await run(CLI, ['add', fresh], { env: { ...daemon.env, ENVMOUNT_BACKEND: 'nfs' } });
    expect(bad.stderr).toContain('Unknown backend "nfs"');
  });

  it('a read through a handle passed to an unrelated process (SCM_RIGHTS) is refused and audited as foreign', async () => {
    const dir = await fuseMount('passed', '--allow', 'any');
    const sock = join(dir, 'pass.sock');
    // The receiver listens first; the sender (not its parent, not its child) opens .env and passes the descriptor.
    const receiver = startReader('python3', [
      '-c',
      `import socket,os,sys
s=socket.socket(socket.AF_UNIX);s.bind(${JSON.stringify(sock)});s.listen(1);print('ready',flush=True)
c,_=s.accept();_,fds,_,_=socket.recv_fds(c,16,1)
try: os.read(fds[0],100); print('read')
except OSError as e: print('refused', e.errno)`,
    ]);
    await waitFor(() => existsSync(sock));
    const sender = await run(
      'python3',
      [
        '-c',
        `import socket,os
fd=os.open('.env',os.O_RDONLY);s=socket.socket(socket.AF_UNIX);s.connect(${JSON.stringify(sock)})
socket.send_fds(s,[b'x'],[fd]);s.recv(1)`,
      ],
      { cwd: dir },
    );
    expect(sender.code).toBe(0);
    expect(await receiver.done).toContain('refused 13');
    const log = await waitFor(async () => {
      const text = (await daemon.cli(['log'])).stdout;
      return text.includes('foreign') ? text : undefined;
    });
    expect(log).toMatch(/foreign .*passed\/\.env/);
  });

  it('remove unmounts and leaves no placeholder; the project can be added again', async () => {
    const dir = await fuseMount('removed', '--allow', 'any');
    expect((await daemon.cli(['remove', dir])).code).toBe(0);
    expect(listDir(dir)).toEqual(['.env.op']);
    expect(fuseMounted(join(dir, '.env'))).toBe(false);
  });
});

describe.skipIf(FUSE_SKIP)('the FUSE backend across daemon lives', () => {
  it('stop leaves nothing; kill -9 leaves a mount that fails fast (ENOTCONN); cleanup detaches it; a restart serves', async () => {
    const d = new TestDaemon();
    try {
      await d.start();
      await d.cli(['set', 'TOKEN', '--raw'], { input: VALUE });
      const dir = d.project('life', 'TOKEN=envmount://TOKEN\n');
      const path = join(dir, '.env');
      expect((await d.cli(['add', dir, '--backend', 'fuse', '--allow', 'any'])).code).toBe(0);
      expect(await d.stop()).toBe(0);
      expect(listDir(dir)).toEqual(['.env.op']);
      await d.start();
      expect((await run('cat', [path])).stdout).toBe(`TOKEN='${VALUE}'\n`);
      expect(await d.stop('SIGKILL')).toBe(null);
      const stale = await run('cat', [path]);
      expect(stale.stderr).toMatch(/Transport endpoint is not connected/);
      expect(() => lstatSync(path)).toThrow(/ENOTCONN/);
      const cleanup = await run(process.execPath, [join(d.install, 'dist/bin/envmountd.js'), 'cleanup'], {
        env: d.env,
      });
      expect(cleanup.code).toBe(0);
      expect(cleanup.stdout).toContain('1 FUSE mount (detached)');
      expect(fuseMounted(path)).toBe(false);
      expect(existsSync(path)).toBe(false);
      // Killed again with the mount up: the next daemon detaches it and mounts again, without a cleanup.
      await d.start();
      expect(await d.stop('SIGKILL')).toBe(null);
      await d.start();
      expect((await run('cat', [path])).stdout).toBe(`TOKEN='${VALUE}'\n`);
    } finally {
      await d.dispose();
    }
  });
});
