/**
 * The daemon's control socket: a unix socket in a 0700 directory, mode 0600, that answers only peers of the
 * daemon's own uid (checked per connection by the caller-supplied `peerOf`, SO_PEERCRED in production). A
 * malformed or oversized request gets an error reply; nothing a client sends can stop the daemon serving others.
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { EnvmountError, errnoCode, isEnvmountError } from '../core/errors.js';
import { type ErrorBody, MAX_REQUEST_BYTES, PROTOCOL_VERSION, type Request, type Response } from './protocol.js';

export interface Peer {
  readonly pid: number;
  readonly uid: number;
  /** The request came through `envmount mcp` (its `origin`): an agent's, held to what agents may do. */
  readonly agent?: boolean;
}

export type Handler = (method: string, params: unknown, peer: Peer) => Promise<unknown>;

export interface ControlServerOptions {
  readonly socketPath: string;
  readonly runtimeDir: string;
  readonly uid: number;
  readonly logger: Logger;
  readonly peerOf: (socket: Socket) => Peer;
  readonly handle: Handler;
}

export interface ControlServer {
  close(): Promise<void>;
}

function errorBody(error: unknown): ErrorBody {
  if (isEnvmountError(error)) return { code: error.code, message: error.message };
  return {
    code: 'INTERNAL',
    message: 'The daemon failed to handle the request; see its log (`envmount service logs`).',
  };
}

/** What a client whose request says protocol `sent` is told: both versions, as sent (a "1" is not the number 1). */
export function mismatch(sent: unknown): string {
  const theirs =
    typeof sent === 'number'
      ? `protocol ${sent}`
      : sent === undefined
        ? 'no protocol version ("v")'
        : `${JSON.stringify(sent)?.slice(0, 40)} as its protocol version, which is not a number`;
  return `This daemon speaks protocol ${PROTOCOL_VERSION}; the client sent ${theirs}. Use the envmount that came with this envmountd (restart envmountd after upgrading).`;
}

/** Whether something answers at the socket path (a live daemon), as opposed to a stale file. */
export function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function prepareRuntimeDir(dir: string, uid: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  if (!info.isDirectory() || info.uid !== uid) {
    throw new EnvmountError('FORBIDDEN', `The runtime directory "${dir}" is not a directory owned by you; remove it.`);
  }
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function serveConnection(socket: Socket, options: ControlServerOptions): void {
  const log = options.logger;
  let peer: Peer;
  const reply = (response: Response) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
  };
  const fail = (id: number | null, error: ErrorBody) => reply({ v: PROTOCOL_VERSION, id, ok: false, error });
  try {
    peer = options.peerOf(socket);
  } catch (error) {
    log.warn({ err: error }, 'cannot read peer credentials; closing connection');
    socket.destroy();
    return;
  }
  if (peer.uid !== options.uid) {
    log.warn({ peerUid: peer.uid, peerPid: peer.pid }, 'refused a connection from another user');
    fail(null, { code: 'FORBIDDEN', message: `envmountd serves only uid ${options.uid}; your uid is ${peer.uid}.` });
    socket.end();
    return;
  }
  let pending: Buffer = Buffer.alloc(0);
  const handleLine = async (line: Buffer) => {
    let request: Request;
    try {
      request = JSON.parse(line.toString('utf8')) as Request;
      if (typeof request !== 'object' || request === null || typeof request.method !== 'string') throw new Error();
    } catch {
      fail(null, { code: 'BAD_REQUEST', message: 'The request is not a JSON object with a "method".' });
      return;
    }
    const id = typeof request.id === 'number' ? request.id : null;
    if (request.v !== PROTOCOL_VERSION) {
      fail(id, { code: 'PROTOCOL_MISMATCH', message: mismatch(request.v) });
      return;
    }
    try {
      const from = request.origin === 'agent' ? { ...peer, agent: true } : peer;
      const result = await options.handle(request.method, request.params ?? {}, from);
      reply({ v: PROTOCOL_VERSION, id, ok: true, result });
    } catch (error) {
      if (!isEnvmountError(error)) log.error({ err: error, method: request.method }, 'request failed');
      fail(id, errorBody(error));
    }
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (let nl = pending.indexOf(0x0a); nl !== -1; nl = pending.indexOf(0x0a)) {
      const line = pending.subarray(0, nl);
      pending = pending.subarray(nl + 1);
      if (line.length > 0) void handleLine(line);
    }
    if (pending.length > MAX_REQUEST_BYTES) {
      pending = Buffer.alloc(0);
      fail(null, { code: 'REQUEST_TOO_LARGE', message: `Requests are limited to ${MAX_REQUEST_BYTES} bytes.` });
      socket.end();
      socket.pause();
    }
  });
  socket.on('error', (error) => log.debug({ err: error }, 'control connection error'));
}

/** Binds the control socket; refuses when a live daemon already answers there, replaces a stale socket file. */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  await prepareRuntimeDir(options.runtimeDir, options.uid);
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    serveConnection(socket, options);
  });
  try {
    await listen(server, options.socketPath);
  } catch (error) {
    if (errnoCode(error) !== 'EADDRINUSE') throw error;
    if (await probe(options.socketPath)) {
      throw new EnvmountError(
        'ALREADY_RUNNING',
        `Another envmountd is already running for this user (it answers at ${options.socketPath}). Use that one (\`envmount status\` shows its pid), or stop it first: \`kill PID\` stops it cleanly and removes its pipes.`,
      );
    }
    options.logger.info({ socket: options.socketPath }, 'replacing a stale control socket');
    await unlink(options.socketPath).catch(() => undefined);
    await listen(server, options.socketPath);
  }
  await chmod(options.socketPath, 0o600);
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of connections) socket.destroy();
      await done;
      await unlink(options.socketPath).catch((error) => {
        if (errnoCode(error) !== 'ENOENT') throw error;
      });
    },
  };
}
