/**
 * The native mount engine driven directly (test/native): one mount through src/native/index.ts, its events queued
 * so that a test awaits the next one of a kind, and what this process's own threads wait on (a mount thread in
 * open(), a writer thread on a full pipe), read from /proc. No daemon.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as native from '../../src/native/index.js';

export interface Engine {
  readonly path: string;
  readonly handle: native.MountHandle;
  /** Every event so far, in order. */
  readonly events: native.MountEvent[];
  /** The next event of `type` not yet taken (events already queued count), in order of arrival. */
  next(type: native.MountEventType): Promise<native.MountEvent>;
  /** Stops the mount and resolves with its `stopped` event. Idempotent. */
  stop(): Promise<native.MountEvent>;
}

/** Starts a mount on a fresh FIFO at `path` (mkfifo first unless `fifo` is false: the FIFO is already there). */
export function startEngine(
  path: string,
  content: string | Buffer,
  options: { decide?: boolean; writeTimeoutMs?: number; fifo?: boolean; strictDir?: boolean } = {},
): Engine {
  if (options.fifo !== false) native.mkfifo(path, 0o600);
  const events: native.MountEvent[] = [];
  const taken = new Set<native.MountEvent>();
  const waiters: { type: native.MountEventType; resolve: (event: native.MountEvent) => void }[] = [];
  const deliver = () => {
    for (const waiter of [...waiters]) {
      const event = events.find((e) => e.type === waiter.type && !taken.has(e));
      if (event === undefined) continue;
      taken.add(event);
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(event);
    }
  };
  const handle = native.startMount(
    path,
    `${path}.tmp`,
    options.writeTimeoutMs ?? 20_000,
    (event) => {
      events.push(event);
      deliver();
    },
    Buffer.from(content),
    options.decide ?? false,
    options.strictDir ?? true,
  );
  const next = (type: native.MountEventType) =>
    new Promise<native.MountEvent>((resolve) => {
      waiters.push({ type, resolve });
      deliver();
    });
  let stopped: Promise<native.MountEvent> | undefined;
  return {
    path,
    handle,
    events,
    next,
    stop() {
      stopped ??= next('stopped');
      native.stopMount(handle);
      return stopped;
    },
  };
}

/** Where the engine's threads wait (a mount thread in open() for a reader, a writer or share thread in poll() or
 * between its looks at the readers); no thread of Node's waits in any of these (they wait in futex or epoll). */
const ENGINE_WAITS = [
  'wait_for_partner',
  'pipe_',
  'poll_schedule_timeout',
  'do_sys_poll',
  'hrtimer_nanosleep',
  'do_nanosleep',
];

/** How many threads of this process wait where only the engine's threads wait. */
export function engineThreads(): number {
  let count = 0;
  for (const task of readdirSync('/proc/self/task')) {
    let wchan = '';
    try {
      wchan = readFileSync(join('/proc/self/task', task, 'wchan'), 'utf8');
    } catch {}
    if (ENGINE_WAITS.some((wait) => wchan.startsWith(wait))) count++;
  }
  return count;
}
