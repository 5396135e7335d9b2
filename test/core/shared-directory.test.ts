import { describe, expect, it } from 'vitest';
import { isSharedDirectory, privateGroupOf } from '../../src/core/shared-directory.js';

const me = { uid: 1000, gid: 1000, username: 'me' };
const passwd =
  'root:x:0:0:root:/root:/bin/bash\nme:x:1000:1000::/home/me:/bin/bash\nyou:x:1001:1001::/home/you:/bin/sh\n';

describe('privateGroupOf', () => {
  it('is the primary group when it has no other member and no other account uses it', () => {
    expect(privateGroupOf(me, 'root:x:0:\nme:x:1000:\nusers:x:100:me,you\n', passwd)).toBe(1000);
    expect(privateGroupOf(me, 'me:x:1000:me\n', passwd)).toBe(1000);
  });

  it('is -1 when another user is a member, another account has it as primary group, or it is not listed', () => {
    expect(privateGroupOf(me, 'me:x:1000:me,you\n', passwd)).toBe(-1);
    expect(privateGroupOf(me, 'me:x:1000:\n', `${passwd}other:x:1002:1000::/home/o:/bin/sh\n`)).toBe(-1);
    expect(privateGroupOf(me, 'users:x:100:\n', passwd)).toBe(-1);
    expect(privateGroupOf(me, '', '')).toBe(-1);
  });

  it('is -1 when another line has the same gid with other members, or NIS lines pull in groups not shown', () => {
    expect(privateGroupOf(me, 'me:x:1000:\nshare:x:1000:you\n', passwd)).toBe(-1);
    expect(privateGroupOf(me, 'me:x:1000:\n+:::\n', passwd)).toBe(-1);
  });
});

describe('isSharedDirectory', () => {
  const dir = (mode: number, uid = 1000, gid = 1000) => ({ uid, gid, mode: 0o40000 | mode });

  it('refuses others-writable, another owner, and a group-writable directory of a group others are in', () => {
    expect(isSharedDirectory(dir(0o757), 1000, 1000)).toBe(true);
    expect(isSharedDirectory(dir(0o755, 1001), 1000, 1000)).toBe(true);
    expect(isSharedDirectory(dir(0o775, 1000, 100), 1000, 1000)).toBe(true);
    expect(isSharedDirectory(dir(0o775), 1000, -1)).toBe(true);
    expect(isSharedDirectory({ ...dir(0o775), acl: true }, 1000, 1000)).toBe(true);
  });

  it("accepts 0755, the user's private group writable (umask 002), root's directories and the sticky bit", () => {
    expect(isSharedDirectory(dir(0o755), 1000, -1)).toBe(false);
    expect(isSharedDirectory(dir(0o775), 1000, 1000)).toBe(false);
    expect(isSharedDirectory(dir(0o755, 0, 0), 1000, -1)).toBe(false);
    expect(isSharedDirectory(dir(0o1777, 1000, 100), 1000, -1)).toBe(false);
  });
});
