/**
 * After a crash: the next daemon serves every reader that queued on the dead daemon's pipes, each its own copy even
 * where several share one pipe (native/share.c). And `envmountd cleanup` (the unit's ExecStopPost) lets readers already waiting on the dead daemon's
 * pipes go with a comment, removes the pipes (new readers fail at once instead of hanging), leaves no rotation
 * name behind, and touches nothing while a daemon runs. The next daemon puts every mount back.
 */
import { existsSync, readdirSync, readFileSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { blockedInFifoOpen, DAEMON, killAll, run, startReader, TestDaemon, waitFor } from '../helpers/daemon.js';

let daemon: TestDaemon | undefined;

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

/** The next read's FIFO, made in advance beside a serving mount (native/rotate.c). */
const SPARE = expect.stringMatching(/^\.~\.env\.envmount-swap-[0-9a-f]{16}$/);
const cleanup = (d: TestDaemon) => run(DAEMON, ['cleanup'], { env: d.env });

it('kill -9, then cleanup: waiting readers end, pipes go; the next daemon serves every mount', async () => {
  daemon = new TestDaemon();
  await daemon.start();
  const d = daemon;
  expect((await d.cli(['set', 'TOKEN'], { input: 'crash-value-1' })).code).toBe(0);
  const dirs = ['a', 'b', 'c'].map((name) => d.project(name, 'TOKEN=envmount://TOKEN\n'));
  for (const dir of dirs) expect((await d.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
  // With a daemon running, cleanup leaves everything alone, and says so in a sentence.
  const idle = await cleanup(d);
  expect(idle.code).toBe(0);
  expect(idle.stdout).toBe(
    `envmountd is running (it answers on ${d.socketPath}): its pipes are its own; nothing was cleaned.\n`,
  );
  for (const dir of dirs) expect(statSync(join(dir, '.env')).isFIFO()).toBe(true);

  await d.stop('SIGKILL');
  // Readers that come while it is dead wait in open() on the pipes left behind: five across three mounts.
  const readers = [0, 0, 1, 1, 2].map((i) => startReader('cat', [join(dirs[i] ?? '', '.env')]));
  for (const reader of readers) await blockedInFifoOpen(reader.child.pid ?? 0);

  const cleaned = await cleanup(d);
  expect(cleaned.code).toBe(0);
  expect(cleaned.stdout).toBe(
    'Removed 3 pipes left by a stopped envmountd (readers waiting on 3 were let go with a comment line); `envmountd start` puts the mounts back.\n',
  );
  const outputs = await Promise.all(readers.map((r) => r.done));
  // Readers queued on one pipe share it: one of them gets the comment, the others end with nothing. None hangs.
  for (const i of [0, 1, 2]) {
    const mine = outputs.filter((_, k) => [0, 0, 1, 1, 2][k] === i).join('');
    expect(mine.match(/envmountd is not running/g)).toHaveLength(1);
    // No systemctl command: cleanup runs where no service manager is, too (by hand after a crash).
    expect(mine).toContain('Start it: `envmountd start`, or `envmount service install`');
  }
  for (const output of outputs) expect(output).not.toContain('crash-value-1');
  for (const dir of dirs) expect(readdirSync(dir).sort()).toEqual(['.env.op']);
  expect(JSON.parse((await run(DAEMON, ['cleanup', '--json'], { env: d.env })).stdout)).toEqual({
    daemonRunning: false,
    removed: 0,
    released: 0,
    detached: 0,
  });
  // A new reader fails at once instead of hanging.
  const late = await run('cat', [join(dirs[0] ?? '', '.env')], { timeoutMs: 5000 });
  expect(late.stderr).toContain('No such file or directory');

  // The next daemon puts every mount back before it says it serves.
  await d.start();
  for (const dir of dirs) expect(existsSync(join(dir, '.env'))).toBe(true);
  for (const dir of dirs) expect((await run('cat', [join(dir, '.env')])).stdout).toBe("TOKEN='crash-value-1'\n");
});

// How soon they are served is measured by `npm run bench` (crash recovery), not asserted here.
it('kill -9 with 5 readers blocked across 3 mounts: the next daemon serves each of them in full', async () => {
  const d = new TestDaemon();
  try {
    await d.start();
    expect((await d.cli(['set', 'TOKEN'], { input: 'crash-value-2' })).code).toBe(0);
    const dirs = ['a', 'b', 'c'].map((name) => d.project(name, 'TOKEN=envmount://TOKEN\nMODE=crash\n'));
    // Policy any for every reader, agents included: the native serve path, undecided.
    for (const dir of dirs) expect((await d.cli(['add', dir, '--allow', 'any', '--agents', 'rules'])).code).toBe(0);
    await d.stop('SIGKILL');
    const env = (i: number) => join(dirs[i] ?? '', '.env');
    // Five readers of four kinds; two pairs of them queue on the same pipe.
    const commands: Array<[number, string, string[]]> = [
      [0, 'cat', [env(0)]],
      [0, process.execPath, ['-e', `process.stdout.write(require('fs').readFileSync(${JSON.stringify(env(0))}))`]],
      [1, 'python3', ['-c', `import sys; sys.stdout.write(open(${JSON.stringify(env(1))}).read())`]],
      [
        1,
        'bash',
        ['-c', `set -a; source ${JSON.stringify(env(1))}; printf "TOKEN='%s'\\nMODE='%s'\\n" "$TOKEN" "$MODE"`],
      ],
      [2, 'cat', [env(2)]],
    ];
    const readers = commands.map(([, command, args]) => startReader(command, args));
    for (const reader of readers) await blockedInFifoOpen(reader.child.pid ?? 0);
    // What systemd runs next (ExecStopPost after a crash) leaves the pipes to the daemon it restarts.
    const after = await run(DAEMON, ['cleanup', '--unless-restarting'], {
      env: { ...d.env, SERVICE_RESULT: 'signal' },
    });
    expect(after.code).toBe(0);
    for (const reader of readers) await blockedInFifoOpen(reader.child.pid ?? 0, 100);

    const ready = d.start();
    const outputs = await Promise.all(readers.map((r) => r.done));
    await ready;
    for (const output of outputs) expect(output).toBe("TOKEN='crash-value-2'\nMODE='crash'\n");
    // The daemon counts each of them, and every mount serves new readers as before.
    const status = JSON.parse((await d.cli(['--json', 'status'])).stdout) as { mounts: Array<{ reads: number }> };
    expect(status.mounts.map((m) => m.reads).sort()).toEqual([1, 2, 2]);
    // The FIFO each mount read makes in advance for its next read, one per mount: the killed daemon's are gone.
    for (const dir of dirs) expect(readdirSync(dir).sort()).toEqual(['.env', '.env.op', SPARE]);
    for (const i of [0, 1, 2]) expect((await run('cat', [env(i)])).stdout).toContain('crash-value-2');
  } finally {
    await d.dispose();
  }
});

it('kill -9 in the middle of a registry write: the old registry stays whole, the temp file goes, all mounts serve', async () => {
  const d = new TestDaemon();
  try {
    await d.start();
    expect((await d.cli(['set', 'TOKEN'], { input: 'registry-value' })).code).toBe(0);
    const stateDir = join(d.dirs.state, 'envmount');
    const first = d.project('first', 'TOKEN=envmount://TOKEN\n');
    expect((await d.cli(['add', first, '--allow', 'any'])).code).toBe(0);
    const confirmed = [first];
    let caught: { inFlight: string; temps: string[] } | undefined;
    // Kill the daemon the moment its write creates the temp file (inotify), before the rename; retried until a kill
    // lands inside the write (the temp file is still there afterwards), at most 10 times.
    for (let attempt = 0; attempt < 10 && !caught; attempt++) {
      const dir = d.project(`r${attempt}`, 'TOKEN=envmount://TOKEN\n');
      const pid = d.process?.pid ?? 0;
      const watcher = watch(stateDir, (_event, name) => {
        if (name?.startsWith('.registry.json.') && name.endsWith('.tmp')) process.kill(pid, 'SIGKILL');
      });
      try {
        const added = await d.cli(['add', dir, '--allow', 'any']);
        await waitFor(() => d.process?.signalCode ?? undefined);
        if (added.code === 0) confirmed.push(dir);
      } finally {
        watcher.close();
      }
      const temps = readdirSync(stateDir).filter((name) => name.endsWith('.tmp'));
      if (temps.length > 0) caught = { inFlight: dir, temps };
      else await d.start();
    }
    expect(caught).toBeDefined();
    // The registry on disk is a whole file: the one before the interrupted write.
    const registry = JSON.parse(readFileSync(join(stateDir, 'registry.json'), 'utf8')) as {
      mounts: Array<{ dir: string }>;
    };
    const dirs = registry.mounts.map((m) => m.dir);
    expect(dirs).not.toContain(caught?.inFlight);
    for (const dir of confirmed) expect(dirs).toContain(dir);

    await d.start();
    expect(readdirSync(stateDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    for (const dir of dirs) expect((await run('cat', [join(dir, '.env')])).stdout).toBe("TOKEN='registry-value'\n");
    // The interrupted add never reached the registry: its pipe (if the kill came after it was made) is not served
    // by anyone, and `envmount add` puts the project back.
    expect((await d.cli(['add', caught?.inFlight ?? '', '--allow', 'any'])).code).toBe(0);
    expect((await run('cat', [join(caught?.inFlight ?? '', '.env')])).stdout).toBe("TOKEN='registry-value'\n");
  } finally {
    await d.dispose();
  }
});
