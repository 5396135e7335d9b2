import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditInput, AuditLog, boundedArgv } from '../../../src/daemon/readers/audit.js';
import { auditUndecidedRead } from '../../../src/daemon/readers/read-outcome.js';

let dir: string;
const logger = pino({ level: 'silent' });
const entry = (mount: string): AuditInput => ({
  mount,
  decision: 'allowed',
  reason: undefined,
  bytes: 10,
  reader: { pid: 1, exe: '/bin/x', argv: ['x'], cwd: '/' },
  others: [],
});

beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-audit-');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('AuditLog', () => {
  it('appends JSON lines to a 0600 file, numbers them, and reads them back after a restart', async () => {
    const file = join(dir, 'audit.log');
    const log = await AuditLog.open(file, 1024 * 1024, logger);
    log.record(entry('/a/.env'));
    log.record(entry('/b/.env'));
    await log.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    const reopened = await AuditLog.open(file, 1024 * 1024, logger);
    expect(reopened.query({}).map((e) => e.seq)).toEqual([1, 2]);
    expect(reopened.query({ mount: '/b/.env' })).toHaveLength(1);
    expect(reopened.record(entry('/a/.env')).seq).toBe(3);
    expect(reopened.query({ after: 2 }).map((e) => e.seq)).toEqual([3]);
    await reopened.close();
  });

  it('rotates to .1 when the file would pass its size limit', async () => {
    const file = join(dir, 'audit.log');
    const log = await AuditLog.open(file, 600, logger);
    // Reads arrive over time: each entry goes out in its own batch.
    for (let i = 0; i < 10; i++) {
      log.record(entry('/a/.env'));
      await log.flush();
    }
    await log.close();
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(statSync(file).size).toBeLessThanOrEqual(600);
    const lines = [...readFileSync(`${file}.1`, 'utf8').split('\n'), ...readFileSync(file, 'utf8').split('\n')].filter(
      Boolean,
    );
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(lines.at(-1) ?? '{}').seq).toBe(10);
  });

  it('writes the entries of one turn of the event loop in one batch, in order', async () => {
    const file = join(dir, 'audit.log');
    const log = await AuditLog.open(file, 1024 * 1024, logger);
    for (let i = 0; i < 50; i++) log.record(entry(`/m${i}/.env`));
    await log.close();
    const seqs = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).seq);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('bounds the argv it stores', () => {
    const argv = boundedArgv(['a'.repeat(500), ...Array(40).fill('x')]);
    expect(argv[0]).toHaveLength(201);
    expect(argv).toHaveLength(33);
    expect(argv.at(-1)).toBe('… 9 more');
  });
});

describe('auditUndecidedRead', () => {
  it('records one entry per open, also for reads alike in a row reported as one event with their count', async () => {
    const log = await AuditLog.open(join(dir, 'audit.log'), 1024 * 1024, logger);
    auditUndecidedRead(log, '/p/.env', { type: 'served', bytes: 4, inode: 7, micros: 20, count: 3 });
    auditUndecidedRead(log, '/p/.env', { type: 'served', bytes: 4, inode: 8, micros: 20 });
    const entries = log.query({});
    expect(entries).toHaveLength(4);
    for (const e of entries)
      expect(e).toMatchObject({ mount: '/p/.env', decision: 'served', outcome: 'whole', bytes: 4 });
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    await log.close();
    // The file holds the same four lines, no value and no reader (policy any does not identify one).
    const lines = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(JSON.parse(JSON.stringify(entries)));
  });
});
