import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../src/control/client.js';
import { MAX_REQUEST_BYTES } from '../../src/control/protocol.js';
import { type ControlServer, type Peer, startControlServer } from '../../src/control/server.js';

let dir: string;
let server: ControlServer | undefined;
const logger = pino({ level: 'silent' });
const uid = process.getuid?.() ?? 0;

beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-ctl-');
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function start(peer: Peer = { pid: 1, uid }) {
  return startControlServer({
    socketPath: join(dir, 'run', 's.sock'),
    runtimeDir: join(dir, 'run'),
    uid,
    logger,
    peerOf: () => peer,
    handle: async (method) => ({ method }),
  });
}

/** Sends raw bytes and collects reply lines until the server closes or `lines` replies arrived. */
function raw(bytes: string | Buffer, lines = 1): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(join(dir, 'run', 's.sock'));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      if (text.split('\n').length > lines) {
        socket.destroy();
        resolve(text.trim().split('\n'));
      }
    });
    socket.on('close', () => resolve(text.trim().split('\n')));
    socket.on('error', reject);
    socket.write(bytes);
  });
}

describe('control server', () => {
  it('makes the directory 0700 and the socket 0600', async () => {
    server = await start();
    expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'run', 's.sock')).mode & 0o777).toBe(0o600);
  });

  it('answers garbage with an error reply and keeps serving', async () => {
    server = await start();
    const [reply] = await raw('this is not json\n');
    expect(JSON.parse(reply ?? '')).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const [wrongVersion] = await raw(`${JSON.stringify({ v: 99, id: 4, method: 'ping' })}\n`);
    expect(JSON.parse(wrongVersion ?? '')).toMatchObject({ id: 4, ok: false, error: { code: 'PROTOCOL_MISMATCH' } });
    const client = await ControlClient.connect(join(dir, 'run', 's.sock'));
    expect(await client.request('ping', {})).toEqual({ method: 'ping' });
    client.close();
  });

  it('refuses an oversized request and closes that connection only', async () => {
    server = await start();
    const [reply] = await raw(Buffer.alloc(MAX_REQUEST_BYTES + 10, 0x61));
    expect(JSON.parse(reply ?? '')).toMatchObject({ ok: false, error: { code: 'REQUEST_TOO_LARGE' } });
    const client = await ControlClient.connect(join(dir, 'run', 's.sock'));
    expect(await client.request('list', {})).toEqual({ method: 'list' });
    client.close();
  });

  it('refuses a peer of another uid', async () => {
    server = await start({ pid: 42, uid: uid + 1000 });
    const [reply] = await raw(`${JSON.stringify({ v: 1, id: 1, method: 'ping' })}\n`);
    expect(JSON.parse(reply ?? '')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  it('refuses to start while another server answers, and replaces a stale socket', async () => {
    server = await start();
    // The message says how to stop the other one (no `envmountd stop` exists): kill, a clean stop.
    await expect(start()).rejects.toMatchObject({
      code: 'ALREADY_RUNNING',
      message: expect.stringContaining('`kill PID` stops it cleanly'),
    });
    await server.close();
    server = undefined;
    // A stale socket file: a listener killed with SIGKILL leaves it behind, as a killed daemon does.
    const script = `require('net').createServer().listen(${JSON.stringify(join(dir, 'run', 's.sock'))}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script]);
    expect(existsSync(join(dir, 'run', 's.sock'))).toBe(true);
    server = await start();
    const client = await ControlClient.connect(join(dir, 'run', 's.sock'));
    expect(await client.request('ping', {})).toEqual({ method: 'ping' });
    client.close();
  });

  it('tells a client that no daemon runs, and how to start one', async () => {
    await expect(ControlClient.connect(join(dir, 'nothing.sock'))).rejects.toThrow(/envmountd start/);
  });
});
