/** The healer's decision table: what a look at a mount's path leads to. */
import { describe, expect, it } from 'vitest';
import { type HealFacts, healAction } from '../../../../src/daemon/mounts/heal/mount-healer.js';

const fifo = (inode: number, mine = true) => ({ kind: 'fifo' as const, inode, mine, mode: 0o600 });
const facts = (over: Partial<HealFacts>): HealFacts => ({
  state: 'serving',
  path: fifo(7),
  dirExists: true,
  inode: 7,
  suspect: undefined,
  ...over,
});

describe('healAction', () => {
  it('leaves a healthy mount alone, and a stopped one', () => {
    expect(healAction(facts({}))).toEqual({ kind: 'none' });
    expect(healAction(facts({ state: 'stopped', path: { kind: 'absent' } }))).toEqual({ kind: 'none' });
  });

  it('replaces a deleted FIFO; pauses when the directory went with it', () => {
    expect(healAction(facts({ path: { kind: 'absent' } }))).toEqual({ kind: 'replace' });
    expect(healAction(facts({ path: { kind: 'absent' }, dirExists: false }))).toEqual({ kind: 'pause' });
  });

  it('steps aside for anything else at the path, naming it', () => {
    expect(healAction(facts({ path: { kind: 'regular' } }))).toEqual({ kind: 'displace', what: 'a regular file' });
    expect(healAction(facts({ path: { kind: 'symlink' } }))).toEqual({ kind: 'displace', what: 'a symlink' });
    expect(healAction(facts({ path: fifo(9, false) }))).toMatchObject({ kind: 'displace' });
  });

  it('a mount whose heal lost the race with a file saved at the path is displaced by it, not stuck in error', () => {
    expect(healAction(facts({ state: 'error', path: { kind: 'regular' } }))).toEqual({
      kind: 'displace',
      what: 'a regular file',
    });
    expect(healAction(facts({ state: 'error', path: fifo(9) }))).toEqual({ kind: 'none' });
  });

  it('a mount paused by its FIFO unlinked before its thread opened it is displaced by the file saved there after', () => {
    // `rm .env; echo X > .env` between the heal's mkfifo and the thread's first open: ENOENT pauses the mount, and
    // the file that appears next is what it waits behind (it stayed paused forever: the healing.test.ts flake).
    expect(healAction(facts({ state: 'paused', path: { kind: 'regular' } }))).toEqual({
      kind: 'displace',
      what: 'a regular file',
    });
    expect(healAction(facts({ state: 'paused', path: { kind: 'regular' }, dirExists: false }))).toEqual({
      kind: 'none',
    });
    expect(healAction(facts({ state: 'paused', path: fifo(9) }))).toEqual({ kind: 'replace' });
  });

  it('takes the path over from a foreign FIFO of ours only when two looks agree (its own rotations are fleeting)', () => {
    expect(healAction(facts({ path: fifo(9) }))).toEqual({ kind: 'none' });
    expect(healAction(facts({ path: fifo(9), suspect: 8 }))).toEqual({ kind: 'none' });
    expect(healAction(facts({ path: fifo(9), suspect: 9 }))).toEqual({ kind: 'replace' });
  });

  it('brings a paused or displaced mount back once its directory is there and the path is free', () => {
    for (const state of ['paused', 'displaced', 'error'] as const) {
      expect(healAction(facts({ state, path: { kind: 'absent' } }))).toEqual({ kind: 'replace' });
      expect(healAction(facts({ state, path: { kind: 'absent' }, dirExists: false }))).toEqual({ kind: 'none' });
      // A file at the path: a mount waiting for it is displaced by it (above); a displaced one already says so.
      if (state === 'displaced')
        expect(healAction(facts({ state, path: { kind: 'regular' } }))).toEqual({ kind: 'none' });
    }
  });
});
