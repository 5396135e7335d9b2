import { afterEach, describe, expect, it, vi } from 'vitest';
import { Approvals } from '../../../src/daemon/readers/approvals.js';
import type { ProcessInfo } from '../../../src/daemon/readers/process-info.js';

const reader: ProcessInfo = {
  pid: 42,
  uid: 1000,
  exe: '/usr/bin/cat',
  argv: ['cat', '.env'],
  cwd: '/p',
  startTime: 1,
  ppid: 1,
  sid: 1,
  tty: 0,
};

afterEach(() => {
  vi.useRealTimers();
});

describe('Approvals', () => {
  it('lists a request until it is approved, and approval resolves it', async () => {
    const approvals = new Approvals(60_000);
    const { id, answer } = approvals.ask('/p/.env', reader, []);
    expect(approvals.list()).toMatchObject([{ id, mount: '/p/.env', pid: 42, exe: '/usr/bin/cat' }]);
    expect(approvals.approve(id)).toBe(true);
    expect(await answer).toBe('allow');
    expect(approvals.list()).toEqual([]);
    expect(approvals.approve(id)).toBe(false);
  });

  it('denies, times out, and cancels', async () => {
    vi.useFakeTimers();
    const approvals = new Approvals(1000);
    const denied = approvals.ask('/p/.env', reader, []);
    approvals.deny(denied.id);
    expect(await denied.answer).toBe('deny');
    const late = approvals.ask('/p/.env', reader, []);
    vi.advanceTimersByTime(1001);
    expect(await late.answer).toBe('timeout');
    const cancelled = approvals.ask('/q/.env', reader, []);
    const other = approvals.ask('/r/.env', reader, []);
    approvals.cancel('/q/.env');
    expect(await cancelled.answer).toBe('removed');
    expect(approvals.list().map((r) => r.mount)).toEqual(['/r/.env']);
    approvals.cancel();
    expect(await other.answer).toBe('stopped');
  });

  it('grants an executable on a mount for a while with --for', async () => {
    vi.useFakeTimers();
    const approvals = new Approvals(60_000);
    const { id } = approvals.ask('/p/.env', reader, []);
    approvals.approve(id, { forMs: 10_000 });
    expect(approvals.granted('/p/.env', '/usr/bin/cat')).toBe(true);
    expect(approvals.granted('/other/.env', '/usr/bin/cat')).toBe(false);
    vi.advanceTimersByTime(10_001);
    expect(approvals.granted('/p/.env', '/usr/bin/cat')).toBe(false);
  });

  it('takes an answer from a prompter (the desktop dialog) and closes it when answered elsewhere', async () => {
    let aborted = false;
    const approvals = new Approvals(60_000, async (_request, signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      aborted = true;
      return undefined;
    });
    const first = approvals.ask('/p/.env', reader, []);
    approvals.deny(first.id);
    expect(await first.answer).toBe('deny');
    await Promise.resolve();
    expect(aborted).toBe(true);
    const byDialog = new Approvals(60_000, async () => 'allow');
    expect(await byDialog.ask('/p/.env', reader, []).answer).toBe('allow');
  });
});
