import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkfifo, peerCredentials } from '../../src/native/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-native-');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('native addon', () => {
  it('creates a FIFO with the given mode and never replaces anything', () => {
    const path = join(dir, 'fifo');
    mkfifo(path, 0o600);
    const info = lstatSync(path);
    expect(info.isFIFO()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
    let thrown: unknown;
    try {
      mkfifo(path, 0o600);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ code: 'EEXIST', syscall: 'mkfifo', path });
    expect(() => mkfifo(join(dir, 'no', 'such'), 0o600)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('validates its arguments with TypeErrors', () => {
    expect(() => mkfifo('', 0o600)).toThrow(TypeError);
    expect(() => mkfifo(join(dir, 'x'), 0o7777)).toThrow(/permission number/);
    expect(() => mkfifo(`${dir}/a\0b`, 0o600)).toThrow(/NUL/);
    expect(() => peerCredentials(-1)).toThrow(TypeError);
  });

  it('reads the peer credentials of a unix socket connection', async () => {
    const path = join(dir, 'sock');
    const server = createServer();
    const seen = new Promise<{ pid: number; uid: number }>((resolve) => {
      server.on('connection', (socket) => {
        const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
        resolve(peerCredentials(fd));
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const client = createConnection(path);
    const peer = await seen;
    client.destroy();
    server.close();
    expect(peer.pid).toBe(process.pid);
    expect(peer.uid).toBe(process.getuid?.());
  });

  it('reports a bad fd as an errno Error', () => {
    expect(() => peerCredentials(9999)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
