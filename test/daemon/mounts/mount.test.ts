/**
 * A mount's state and what `status` says of it: the transitions (pause, displace, fail) on a Mount that never
 * started (no thread, no FIFO), and the reasons they give.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import { IDLE_HOOKS, Mount } from '../../../src/daemon/mounts/mount.js';
import { directoryGoneReason, pathGoneReason } from '../../../src/daemon/mounts/mount-reasons.js';

function mountAt(dir: string, path = `${dir}/.env`): Mount {
  return new Mount(
    { path, dir, template: `${dir}/.env.template`, addedAt: '2026-01-01T00:00:00.000Z', policy: DEFAULT_POLICY },
    { uid: 0, writeTimeoutMs: 1000, logger: pino({ level: 'silent' }) },
    { ...IDLE_HOOKS },
  );
}

describe('Mount transitions', () => {
  it('starts stopped, with nothing to explain', () => {
    const mount = mountAt('/p');
    expect(mount.state).toBe('stopped');
    expect(mount.reason).toBeUndefined();
  });

  it('pause: paused, saying what it waits for', () => {
    const mount = mountAt('/p');
    mount.pause(directoryGoneReason('/p'));
    expect(mount.state).toBe('paused');
    expect(mount.reason).toBe(
      'the project directory /p is gone; the mount comes back with it (or run `envmount remove /p`).',
    );
    mount.pause(pathGoneReason(mount.path, '/p'));
    expect(mount.reason).toBe(
      '/p/.env or its directory is gone; the mount comes back when they are (or run `envmount remove /p`).',
    );
  });

  it('displace: names what is there and how to go on; a regular DIR/.env can be imported', () => {
    const mount = mountAt('/p');
    mount.displace('a regular file', false);
    expect(mount.state).toBe('displaced');
    expect(mount.reason).toBe(
      'a regular file was put at /p/.env; envmount left it untouched and stepped aside. Move it away and the mount comes back by itself, or run `envmount import /p` to move its values into the store.',
    );
    mount.displace('a regular file', true);
    expect(mount.reason).toContain('`envmount import /p --merge`');
    mount.displace('a symlink', true);
    expect(mount.reason).toBe(
      'a symlink was put at /p/.env; envmount left it untouched and stepped aside. Move it away and the mount comes back by itself.',
    );
  });

  it('displace at another path than DIR/.env advises no import (import takes only DIR/.env)', () => {
    const mount = mountAt('/p', '/p/config.env');
    mount.displace('a regular file', true);
    expect(mount.reason).not.toContain('import');
  });

  it('displace without a what: the thread saw its pipe replaced', () => {
    const mount = mountAt('/p');
    mount.displace();
    expect(mount.state).toBe('displaced');
    expect(mount.reason).toBe(
      'something envmount did not make replaced the pipe at /p/.env; it was left untouched. Move it away, then run `envmount add /p`.',
    );
  });

  it('fail: error, with the message as the reason', () => {
    const mount = mountAt('/p');
    mount.fail('serving failed: open returned EIO.');
    expect(mount.state).toBe('error');
    expect(mount.reason).toBe('serving failed: open returned EIO.');
  });

  it('stop of a mount that never started is a no-op and keeps its state and reason', async () => {
    const mount = mountAt('/nonexistent-envmount-test-dir');
    mount.pause('waiting');
    await mount.stop();
    await mount.stop(false);
    expect(mount.state).toBe('paused');
    expect(mount.reason).toBe('waiting');
    expect(mount.inode).toBe(0);
  });
});
