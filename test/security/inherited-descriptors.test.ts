/**
 * The daemon's children never hold a reader's pipe. A read waiting for approval keeps a handle on its pipe; the
 * desktop dialog the daemon starts for it used to inherit a duplicate of that handle (dup() drops O_CLOEXEC), so
 * the dialog (and anything else the daemon starts) held the pipe being served. Found under a real systemd user
 * manager, where an approved read was refused as a collision while zenity was open. A stand-in dialog that stays
 * open shows the descriptor here without X.
 */
import { chmodSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI, killAll, run, startReader, TestDaemon, waitFor } from '../helpers/daemon.js';

let daemon: TestDaemon;
const bin = mkdtempSync(join(tmpdir(), 'emt-dialog-bin-'));

beforeAll(async () => {
  // A dialog that is shown and never answered: the user answers in a terminal instead.
  writeFileSync(join(bin, 'zenity'), '#!/bin/sh\nexec sleep 120\n');
  chmodSync(join(bin, 'zenity'), 0o755);
  daemon = new TestDaemon();
  await daemon.start({ DISPLAY: ':99', PATH: `${bin}:${process.env.PATH}`, ENVMOUNT_APPROVAL_TIMEOUT_MS: '60000' });
  expect((await daemon.cli(['set', 'TOKEN'], { input: 'inherit-canary-value' })).code).toBe(0);
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
  rmSync(bin, { recursive: true, force: true });
});

it('a read approved in a terminal while the dialog is open is served, not refused as a collision', async () => {
  const dir = daemon.project('dialog-open', 'TOKEN=envmount://TOKEN\n');
  expect((await daemon.cli(['add', dir])).code).toBe(0);
  const reader = startReader('cat', [join(dir, '.env')]);
  const timer = setTimeout(() => reader.child.kill('SIGKILL'), 40_000);
  try {
    const pending = await waitFor(async () => {
      const list = JSON.parse((await daemon.cli(['--json', 'approvals'])).stdout) as Array<{ id: number }>;
      return list[0];
    });
    // The stand-in dialog is running (a `sleep` child of the daemon) before the user answers.
    const sleeper = await waitFor(async () => {
      const found = await run('pgrep', ['-f', 'sleep 120']);
      return found.code === 0 ? found.stdout.trim().split('\n')[0] : undefined;
    });
    // Nothing the dialog holds leads to the mount's pipes (before: the handle on the pipe being served).
    const held = readdirSync(`/proc/${sleeper}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${sleeper}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    expect(held.filter((link) => link.startsWith(dir))).toEqual([]);
    const approved = await run('script', ['-qec', `${process.execPath} ${CLI} approve ${pending.id}`, '/dev/null'], {
      env: daemon.env,
      input: 'y\n',
      timeoutMs: 15_000,
    });
    expect(approved.stdout).toContain('Approved');
    const out = await reader.done;
    expect(out).not.toContain('another process opened the same pipe');
    expect(out).toContain('inherit-canary-value');
  } finally {
    clearTimeout(timer);
  }
});
