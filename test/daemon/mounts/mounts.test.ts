/**
 * MountService in-process, with its real parts (registry, audit log, reader gate, real Mounts and FIFOs in a temp
 * dir) and no daemon, socket or 1Password: add, remove, policy, restore, status. No reader opens a FIFO here (reads
 * are test/daemon/reads.test.ts's); every mount is stopped and its FIFO removed after each test.
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MountService } from '../../../src/daemon/mounts/mounts.js';
import { Registry } from '../../../src/daemon/mounts/registry.js';
import { Approvals } from '../../../src/daemon/readers/approvals.js';
import { AuditLog } from '../../../src/daemon/readers/audit.js';
import { ReaderGate } from '../../../src/daemon/readers/reader-gate.js';

const uid = process.getuid?.() ?? 0;
const logger = pino({ level: 'silent' });

let root: string;
let services: MountService[];

beforeEach(() => {
  root = mkdtempSync('/tmp/emt-mounts-');
  services = [];
});
afterEach(async () => {
  try {
    for (const service of services) await service.stopAll();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

const registryFile = () => join(root, 'state', 'registry.json');

/** A MountService over the registry in root/state (a second one sees what the first saved). */
async function service(): Promise<MountService> {
  const audit = await AuditLog.open(join(root, 'state', 'audit.log'), 1_000_000, logger);
  const mounts = new MountService({
    registry: await Registry.load(registryFile()),
    source: { lookup: () => ({ problem: 'no values here' }), environmentNames: () => ({ problem: 'none' }) },
    uid,
    writeTimeoutMs: 1000,
    logger,
    audit,
    gate: new ReaderGate({ approvals: new Approvals(1000), audit, logger }),
    storeEnvironments: (name) =>
      name === 'dev' ? [{ key: 'DEV', line: 1, parts: [{ kind: 'text', text: 'x' }] }] : { problem: `no ${name}` },
    references: { validate: () => undefined, want: async () => false, refresh: async () => undefined },
  });
  services.push(mounts);
  return mounts;
}

/** A project directory root/NAME with a template naming `keys`. */
function project(name: string, keys = ['A']): string {
  const dir = join(root, name);
  mkdirSync(dir, { mode: 0o700, recursive: true });
  writeFileSync(join(dir, '.env.op'), keys.map((k) => `${k}=plain\n`).join(''));
  return dir;
}

const kind = (path: string) => {
  const info = lstatSync(path, { throwIfNoEntry: false });
  return info === undefined ? 'absent' : info.isFIFO() ? `fifo ${(info.mode & 0o777).toString(8)}` : 'other';
};
const saved = () => (JSON.parse(readFileSync(registryFile(), 'utf8')) as { mounts: { path: string }[] }).mounts;

describe('MountService', () => {
  it('add places a 0600 FIFO, serves, lists and registers the mount', async () => {
    const mounts = await service();
    const dir = project('app', ['A', 'B']);
    const status = await mounts.add({ dir });
    expect(status).toMatchObject({ path: join(dir, '.env'), dir, state: 'serving', variables: ['A', 'B'] });
    expect(status.reason).toBeUndefined();
    expect(kind(join(dir, '.env'))).toBe('fifo 600');
    expect(mounts.list().map((m) => m.path)).toEqual([join(dir, '.env')]);
    expect(saved().map((m) => m.path)).toEqual([join(dir, '.env')]);
  });

  it('add refuses a regular file at the path, leaves it, and registers nothing', async () => {
    const mounts = await service();
    const dir = project('app');
    writeFileSync(join(dir, '.env'), 'MINE=1\n');
    await expect(mounts.add({ dir })).rejects.toMatchObject({ code: 'REGULAR_FILE_PRESENT' });
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('MINE=1\n');
    expect(mounts.list()).toEqual([]);
  });

  it('add refuses a directory that is not there', async () => {
    const mounts = await service();
    await expect(mounts.add({ dir: join(root, 'missing') })).rejects.toMatchObject({ code: 'DIRECTORY_MISSING' });
  });

  it('add of a mounted directory re-reads its template, same FIFO', async () => {
    const mounts = await service();
    const dir = project('app', ['A']);
    await mounts.add({ dir });
    const inode = lstatSync(join(dir, '.env')).ino;
    project('app', ['A', 'C']);
    expect((await mounts.add({ dir })).variables).toEqual(['A', 'C']);
    expect(lstatSync(join(dir, '.env')).ino).toBe(inode);
  });

  it('add of a mount whose FIFO is gone places it again', async () => {
    const mounts = await service();
    const dir = project('app');
    await mounts.add({ dir });
    rmSync(join(dir, '.env'));
    expect((await mounts.add({ dir })).state).toBe('serving');
    expect(kind(join(dir, '.env'))).toBe('fifo 600');
  });

  it('finds a mount by its path, its directory, or a directory inside it', async () => {
    const mounts = await service();
    const dir = project('app');
    await mounts.add({ dir });
    const path = join(dir, '.env');
    expect(mounts.pathOf(dir)).toBe(path);
    expect(mounts.pathOf(path)).toBe(path);
    expect(mounts.mountFor(join(dir, 'src', 'deep'))?.mount.path).toBe(path);
    expect(mounts.mountFor(root)).toBeUndefined();
    expect(() => mounts.pathOf(root)).toThrow(expect.objectContaining({ code: 'NOT_A_MOUNT' }));
  });

  it('remove stops the mount, removes its FIFO and forgets it; a second remove says it is not mounted', async () => {
    const mounts = await service();
    const dir = project('app');
    await mounts.add({ dir });
    expect(await mounts.remove(dir)).toEqual({ path: join(dir, '.env') });
    expect(kind(join(dir, '.env'))).toBe('absent');
    expect(mounts.list()).toEqual([]);
    expect(saved()).toEqual([]);
    await expect(mounts.remove(dir)).rejects.toMatchObject({ code: 'NOT_A_MOUNT' });
  });

  it('setPolicy applies and stores the rules', async () => {
    const mounts = await service();
    const dir = project('app');
    await mounts.add({ dir });
    const status = await mounts.setPolicy(dir, { allow: ['exe:/usr/bin/node'], otherwise: 'deny' });
    expect(status.rules).toEqual([{ effect: 'allow', kind: 'exe', pattern: '/usr/bin/node' }]);
    expect(status.otherwise).toBe('deny');
    expect(saved()[0]).toMatchObject({ policy: { fallback: 'deny' } });
  });

  it('status says a serving mount whose FIFO or directory is gone is paused, and why', async () => {
    const mounts = await service();
    const [a, b] = [project('a'), project('b')];
    await mounts.add({ dir: a });
    await mounts.add({ dir: b });
    rmSync(join(a, '.env'));
    rmSync(b, { recursive: true });
    const byDir = new Map((await mounts.status()).map((s) => [s.dir, s]));
    expect(byDir.get(a)).toMatchObject({
      state: 'paused',
      reason: `the pipe at ${join(a, '.env')} was removed; it is put back within a second.`,
    });
    expect(byDir.get(b)).toMatchObject({
      state: 'paused',
      reason: `the project directory ${b} is gone; the mount comes back with it (or run \`envmount remove ${b}\`).`,
    });
  });

  it('restore puts registered mounts back, and pauses one whose directory is gone', async () => {
    const first = await service();
    const [a, b] = [project('a'), project('b')];
    await first.add({ dir: a });
    await first.add({ dir: b });
    await first.stopAll();
    expect(kind(join(a, '.env'))).toBe('absent');
    rmSync(b, { recursive: true });
    const second = await service();
    await second.restore();
    const byDir = new Map((await second.status()).map((s) => [s.dir, s]));
    expect(byDir.get(a)).toMatchObject({ state: 'serving', variables: ['A'] });
    expect(kind(join(a, '.env'))).toBe('fifo 600');
    expect(byDir.get(b)?.state).toBe('paused');
    expect(byDir.get(b)?.reason).toContain(`the project directory ${b} is gone`);
  });

  it('a mount of a store environment follows its rename', async () => {
    const mounts = await service();
    const dir = join(root, 'env');
    mkdirSync(dir, { mode: 0o700 });
    expect((await mounts.add({ dir, storeEnvironment: 'dev' })).variables).toEqual(['DEV']);
    expect(mounts.referencing('dev', true)).toBe(join(dir, '.env'));
    await mounts.storeEnvironmentChanged('prod', 'dev');
    expect(mounts.list()[0]).toMatchObject({ storeEnvironment: 'prod', template: 'envmount environment prod' });
    expect(saved()[0]).toMatchObject({ storeEnvironment: 'prod' });
  });
});
