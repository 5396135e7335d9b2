/**
 * HealSchedule with real Mounts (a native thread and a FIFO each, in a temp dir, no daemon): which mounts a heal
 * looks at (all, or only those reported, suspect or not serving), what it does to them, and that a closed schedule
 * does nothing. Every mount is stopped and its FIFO removed after each test.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../../src/core/policy.js';
import { HealSchedule } from '../../../../src/daemon/mounts/heal/heal-schedule.js';
import { IDLE_HOOKS, Mount } from '../../../../src/daemon/mounts/mount.js';
import { mkfifo } from '../../../../src/native/index.js';
import { waitFor } from '../../../helpers/daemon.js';

const uid = process.getuid?.() ?? 0;
const logger = pino({ level: 'silent' });

let root: string;
let mounts: Mount[];
let schedule: HealSchedule<{ mount: Mount }> | undefined;

beforeEach(() => {
  root = mkdtempSync('/tmp/emt-heal-');
  mounts = [];
});
afterEach(async () => {
  schedule?.close();
  schedule = undefined;
  try {
    await Promise.all(mounts.map((m) => m.stop()));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/** A serving mount at root/NAME/.env, its thread waiting on the FIFO (it knows the inode it serves). */
async function serving(name = 'p'): Promise<{ mount: Mount }> {
  const dir = join(root, name);
  mkdirSync(dir, { mode: 0o700, recursive: true });
  const path = join(dir, '.env');
  const mount = new Mount(
    { path, dir, template: join(dir, '.env.template'), addedAt: new Date().toISOString(), policy: DEFAULT_POLICY },
    { uid, writeTimeoutMs: 1000, logger },
    { ...IDLE_HOOKS },
  );
  mounts.push(mount);
  await mount.start(Buffer.from('A=1\n'));
  expect(mount.state).toBe('serving');
  await waitFor(() => mount.inode !== 0);
  return { mount };
}

/** A schedule over `entries` whose restart does what the MountService's does to a mount: stop, start again. */
function scheduleFor(entries: { mount: Mount }[], restart?: (entry: { mount: Mount }) => Promise<void>) {
  const restarted: { mount: Mount }[] = [];
  let onRestart: () => void = () => undefined;
  const next = () =>
    new Promise<void>((resolve) => {
      onRestart = resolve;
    });
  schedule = new HealSchedule({
    entries: () => entries,
    restart: async (entry) => {
      restarted.push(entry);
      try {
        if (restart) await restart(entry);
        else {
          await entry.mount.stop(false);
          await entry.mount.start(Buffer.from('A=1\n'));
        }
      } finally {
        onRestart();
      }
    },
    uid,
    logger,
  });
  return { schedule, restarted, next };
}

const kind = (path: string) => {
  const info = lstatSync(path, { throwIfNoEntry: false });
  return info === undefined ? 'absent' : info.isFIFO() ? 'fifo' : info.isFile() ? 'file' : 'other';
};

describe('HealSchedule', () => {
  it('leaves healthy mounts alone', async () => {
    const entries = [await serving('a'), await serving('b')];
    const { schedule, restarted } = scheduleFor(entries);
    const inodes = entries.map((e) => lstatSync(e.mount.path).ino);
    await schedule.heal(true);
    expect(restarted).toEqual([]);
    expect(entries.map((e) => lstatSync(e.mount.path).ino)).toEqual(inodes);
    expect(entries.map((e) => e.mount.state)).toEqual(['serving', 'serving']);
  });

  it('puts a deleted FIFO back, and only that mount', async () => {
    const [a, b] = [await serving('a'), await serving('b')];
    const { schedule, restarted } = scheduleFor([a, b]);
    rmSync(a.mount.path);
    await schedule.heal(true);
    expect(restarted).toEqual([a]);
    expect(kind(a.mount.path)).toBe('fifo');
    expect(a.mount.state).toBe('serving');
  });

  it('a watched heal looks only at reported mounts; lookSoon reports one and looks soon', async () => {
    const entry = await serving();
    const { schedule, restarted, next } = scheduleFor([entry]);
    rmSync(entry.mount.path);
    await schedule.heal(false);
    expect(restarted).toEqual([]);
    expect(kind(entry.mount.path)).toBe('absent');
    const done = next();
    schedule.lookSoon(entry);
    await done;
    expect(restarted).toEqual([entry]);
    expect(kind(entry.mount.path)).toBe('fifo');
  });

  it('steps aside for a file saved at the path, untouched, and comes back once it is gone', async () => {
    const entry = await serving();
    const { schedule, restarted } = scheduleFor([entry]);
    rmSync(entry.mount.path);
    writeFileSync(entry.mount.path, 'MINE=1\n');
    await schedule.heal(true);
    expect(entry.mount.state).toBe('displaced');
    expect(entry.mount.reason).toContain(`a regular file was put at ${entry.mount.path}`);
    expect(kind(entry.mount.path)).toBe('file');
    // Not serving: even a watched heal looks at it.
    await schedule.heal(false);
    expect(restarted).toEqual([]);
    rmSync(entry.mount.path);
    await schedule.heal(false);
    expect(restarted).toEqual([entry]);
    expect(entry.mount.state).toBe('serving');
  });

  it('pauses a mount whose directory is gone and resumes it when the directory is back', async () => {
    const entry = await serving();
    const { schedule, restarted } = scheduleFor([entry]);
    rmSync(entry.mount.record.dir, { recursive: true });
    await schedule.heal(true);
    expect(entry.mount.state).toBe('paused');
    expect(entry.mount.reason).toContain(`the project directory ${entry.mount.record.dir} is gone`);
    await schedule.heal(false);
    expect(restarted).toEqual([]);
    mkdirSync(entry.mount.record.dir, { mode: 0o700 });
    await schedule.heal(false);
    expect(restarted).toEqual([entry]);
    expect(entry.mount.state).toBe('serving');
  });

  it('pauses a mount whose directory other users can write, and resumes it when they cannot', async () => {
    const entry = await serving();
    const { schedule } = scheduleFor([entry]);
    const { dir } = entry.mount.record;
    chmodSync(dir, 0o777);
    await schedule.heal(true);
    expect(entry.mount.state).toBe('paused');
    expect(entry.mount.reason).toMatch(/./);
    chmodSync(dir, 0o700);
    await schedule.heal(true);
    expect(entry.mount.state).toBe('serving');
  });

  it('takes the path over from another FIFO of ours only when a second look still finds it', async () => {
    const entry = await serving();
    const { schedule, restarted } = scheduleFor([entry]);
    const served = entry.mount.inode;
    rmSync(entry.mount.path);
    mkfifo(entry.mount.path, 0o600);
    await schedule.heal(true);
    expect(restarted).toEqual([]);
    // The schedule remembers the suspect: a watched heal looks again at it, and takes the path over.
    await schedule.heal(false);
    expect(restarted).toEqual([entry]);
    // The thread now waits on the FIFO that was put there (it reports the inode once it waits).
    const now = await waitFor(() => entry.mount.inode);
    expect(now).not.toBe(served);
    expect(now).toBe(lstatSync(entry.mount.path).ino);
  });

  it('a restart that fails leaves the mount in error, saying why', async () => {
    const entry = await serving();
    const { schedule } = scheduleFor([entry], async () => {
      throw new Error('could not place it');
    });
    rmSync(entry.mount.path);
    await schedule.heal(true);
    expect(entry.mount.state).toBe('error');
    expect(entry.mount.reason).toBe('could not place it');
  });

  it('does nothing once closed', async () => {
    const entry = await serving();
    const { schedule, restarted } = scheduleFor([entry]);
    schedule.close();
    schedule.close();
    rmSync(entry.mount.path);
    await schedule.heal(true);
    schedule.lookSoon(entry);
    schedule.start(false);
    expect(restarted).toEqual([]);
    expect(kind(entry.mount.path)).toBe('absent');
  });
});
