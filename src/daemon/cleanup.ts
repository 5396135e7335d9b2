/**
 * `envmountd cleanup`: what the service manager runs after the daemon stopped, crash included (systemd's
 * ExecStopPost). A FIFO left at a mount path makes every reader hang until a daemon comes back, the worst failure
 * envmount can have; so each pipe the registry names is opened for writing without blocking (readers already
 * waiting get a comment line saying why there are no values, and end), then removed with its rotation name: new
 * readers get "no such file" at once. Never touches anything while a daemon answers on the socket, and never a
 * path that is not a FIFO of this user.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import { probe } from '../control/server.js';
import { errnoCode } from '../core/errors.js';
import { cleanUpFuseMount } from './mounts/backends/fuse-placeholder.js';
import { inspectPath, removeStaleTemp } from './mounts/placement.js';
import { Registry } from './mounts/registry.js';

export interface CleanupResult {
  readonly daemonRunning: boolean;
  readonly removed: number;
  /** FUSE mounts a dead daemon left (detached, placeholder removed). */
  readonly detached: number;
  /** Readers that were waiting on a pipe and were let go. */
  readonly released: number;
}

/** Lets readers waiting in open() go with a comment; true if there were any. */
function release(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (errnoCode(error) === 'ENXIO') return false; // nobody waiting
    throw error;
  }
  try {
    writeSync(
      fd,
      '# envmount: envmountd is not running, so this file has no values. Start it: `envmountd start`, or `envmount service install` where it runs as a user service.\n',
    );
  } catch {
    // A reader that closed at once: nothing to tell it.
  } finally {
    closeSync(fd);
  }
  return true;
}

export async function cleanupAfterStop(
  paths: { registryFile: string; socketPath: string },
  uid: number,
  logger: Logger,
): Promise<CleanupResult> {
  if (await probe(paths.socketPath)) {
    logger.debug('a daemon answers on the socket: its mounts are its own; nothing to clean');
    return { daemonRunning: true, removed: 0, released: 0, detached: 0 };
  }
  const registry = await Registry.load(paths.registryFile);
  let removed = 0;
  let released = 0;
  let detached = 0;
  for (const record of registry.all()) {
    try {
      if (record.backend === 'fuse') {
        // A FUSE mount a killed daemon left answers ENOTCONN: detached, and its placeholder removed.
        if (await cleanUpFuseMount(record.path, uid)) detached++;
        continue;
      }
      await removeStaleTemp(record.path, uid);
      const state = await inspectPath(record.path, uid);
      if (state.kind !== 'fifo' || !state.mine) continue;
      if (release(record.path)) released++;
      await unlink(record.path);
      removed++;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') logger.warn({ path: record.path, err: error }, 'could not clean a mount');
    }
  }
  logger.debug({ removed, released, detached }, 'cleaned up after the daemon');
  return { daemonRunning: false, removed, released, detached };
}
