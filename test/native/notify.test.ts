/** sd_notify without libsystemd: one datagram to a unix socket, a path or an @abstract name (received by python3). */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { notifyServiceManager } from '../../src/native/index.js';
import { track } from '../helpers/daemon.js';

const scratch = mkdtempSync('/tmp/emt-notify-');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A datagram socket bound at `address` ('@' for abstract) that prints the first message it gets. */
async function receiver(address: string): Promise<{ received: Promise<string> }> {
  const script = `
import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + a[1:] if a.startswith('@') else a)
print('bound', flush=True)
s.settimeout(10)
print(s.recv(4096).decode(), flush=True)`;
  const child = track(spawn('python3', ['-c', script, address], { stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  child.stdout?.setEncoding('utf8');
  await new Promise<void>((resolve) =>
    child.stdout?.on('data', (d: string) => {
      out += d;
      if (out.startsWith('bound\n')) resolve();
    }),
  );
  // Wrapped: an async function returning a bare promise would wait for it too.
  return { received: new Promise((resolve) => child.on('close', () => resolve(out.slice('bound\n'.length).trim()))) };
}

it('sends READY=1 to a socket path', async () => {
  const path = join(scratch, 'notify');
  const { received } = await receiver(path);
  notifyServiceManager(path, 'READY=1');
  expect(await received).toBe('READY=1');
});

it('sends to an abstract socket (@name), as systemd gives them', async () => {
  const name = `@emt-notify-${process.pid}`;
  const { received } = await receiver(name);
  notifyServiceManager(name, 'STOPPING=1');
  expect(await received).toBe('STOPPING=1');
});

it('refuses a relative path, and says ENOENT when nothing is there', () => {
  expect(() => notifyServiceManager('relative/sock', 'READY=1')).toThrow(/absolute path/);
  expect(() => notifyServiceManager(join(scratch, 'nobody-here'), 'READY=1')).toThrow(
    expect.objectContaining({ code: 'ENOENT', syscall: 'sendto' }),
  );
});
