/**
 * The typed client of the control socket, used by every front end (CLI, MCP). It never imports daemon code.
 */
import { createConnection, type Socket } from 'node:net';
import { EnvmountError, type ErrorCode, errnoCode } from '../core/errors.js';
import { type Method, type Params, PROTOCOL_VERSION, type Response, type Results } from './protocol.js';

export class ControlClient {
  readonly #socket: Socket;
  readonly #origin: 'agent' | undefined;
  #nextId = 1;
  #buffer = '';
  readonly #waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  // Why the connection ended: a request after that fails with it at once (a reply would never come).
  #ended: Error | undefined;

  private constructor(socket: Socket, origin: 'agent' | undefined) {
    this.#socket = socket;
    this.#origin = origin;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    const failAll = (error: Error) => {
      this.#ended ??= error;
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    const closed = (cause?: unknown) =>
      new EnvmountError('DAEMON_NOT_RUNNING', 'envmountd closed the connection.', cause ? { cause } : {});
    // A daemon that stops resets the connection: that is "not running" too, not an error of this request.
    const lost = new Set(['ECONNRESET', 'EPIPE']);
    socket.on('error', (error) => failAll(lost.has(errnoCode(error) ?? '') ? closed(error) : error));
    socket.on('close', () => failAll(closed()));
  }

  /**
   * Connects; a missing or dead socket is DAEMON_NOT_RUNNING with the command that starts the daemon. `origin`:
   * `agent` for the MCP front end, so that the daemon holds its requests to what an agent may do.
   */
  static connect(socketPath: string, options: { origin?: 'agent' } = {}): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(socketPath);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new ControlClient(socket, options.origin));
      });
      socket.once('error', (error) => {
        const code = errnoCode(error);
        const down = code === 'ENOENT' || code === 'ECONNREFUSED';
        reject(
          down
            ? new EnvmountError(
                'DAEMON_NOT_RUNNING',
                `envmountd is not running (nothing answers at ${socketPath}). Start it with \`envmountd start\`.`,
                { cause: error },
              )
            : new EnvmountError('FORBIDDEN', `Cannot connect to envmountd at ${socketPath}: ${code ?? 'error'}.`, {
                cause: error,
              }),
        );
      });
    });
  }

  request<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#ended) {
        reject(this.#ended);
        return;
      }
      this.#waiting.set(id, { resolve: resolve as (r: unknown) => void, reject });
      const origin = this.#origin ? { origin: this.#origin } : {};
      this.#socket.write(`${JSON.stringify({ v: PROTOCOL_VERSION, id, method, params, ...origin })}\n`);
    });
  }

  close(): void {
    this.#socket.end();
    this.#socket.destroy();
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (let nl = this.#buffer.indexOf('\n'); nl !== -1; nl = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      let response: Response;
      try {
        response = JSON.parse(line) as Response;
      } catch {
        continue;
      }
      const waiter = response.id === null ? this.#waiting.values().next().value : this.#waiting.get(response.id);
      if (!waiter) continue;
      if (response.id !== null) this.#waiting.delete(response.id);
      else this.#waiting.clear();
      if (response.ok) waiter.resolve(response.result);
      else waiter.reject(new EnvmountError(response.error.code as ErrorCode, response.error.message));
    }
  }
}

/** Connects, sends one request, closes. */
export async function requestOnce<M extends Method>(
  socketPath: string,
  method: M,
  params: Params<M>,
): Promise<Results[M]> {
  const client = await ControlClient.connect(socketPath);
  try {
    return await client.request(method, params);
  } finally {
    client.close();
  }
}
