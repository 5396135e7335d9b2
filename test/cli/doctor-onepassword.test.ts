/**
 * doctor's 1Password check: stale and failing are problems with their fix, and the op CLI is flagged where it
 * cannot sign in (a daemon with no_new_privs, as the systemd unit's NoNewPrivileges=yes makes it).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { noNewPrivileges, onePasswordFindings } from '../../src/cli/doctor.js';
import type { OnePasswordStatus } from '../../src/control/protocol.js';

const status = (over: Partial<OnePasswordStatus>): OnePasswordStatus => ({
  provider: 'op CLI (op)',
  state: 'fresh',
  references: 3,
  lastSuccessAt: '2026-01-01T00:00:00.000Z',
  lastError: undefined,
  fix: undefined,
  nextRefreshAt: undefined,
  ...over,
});
const inSession = { noNewPrivs: false, underService: false };

describe('doctor: 1Password', () => {
  it('passes a fresh source, and says when none is configured', () => {
    expect(onePasswordFindings(status({}), inSession)).toEqual([expect.objectContaining({ ok: true })]);
    expect(onePasswordFindings(undefined, inSession)).toEqual([
      expect.objectContaining({ ok: true, says: expect.stringContaining('not configured') }),
    ]);
  });

  it('stale is a problem: since when, why, and the fix', () => {
    const [finding] = onePasswordFindings(
      status({ state: 'stale', lastError: 'op is signed out (...)', fix: 'run `op signin`' }),
      inSession,
    );
    expect(finding).toMatchObject({ ok: false, fix: 'run `op signin`' });
    expect(finding?.says).toContain('2026-01-01T00:00:00.000Z');
    expect(finding?.says).toContain('op is signed out');
  });

  it('the op CLI under NoNewPrivileges is a problem naming the sources that work there', () => {
    const [finding] = onePasswordFindings(status({}), { noNewPrivs: true, underService: true });
    expect(finding).toMatchObject({ ok: false, fix: expect.stringContaining('envmount login --service-account') });
    expect(finding?.says).toContain('NoNewPrivileges');
    expect(finding?.says).toContain('OP_SESSION_');
    expect(onePasswordFindings(status({}), { noNewPrivs: false, underService: true })).toEqual([
      expect.objectContaining({ ok: true }),
    ]);
    const sdk = status({ provider: '1Password SDK (service account)' });
    expect(onePasswordFindings(sdk, { noNewPrivs: true, underService: true })).toEqual([
      expect.objectContaining({ ok: true }),
    ]);
  });

  it('reads no_new_privs of a process from /proc', async () => {
    const child = spawn('setpriv', ['--no-new-privs', 'sleep', '30'], { stdio: 'ignore' });
    try {
      await once(child, 'spawn');
      const pid = child.pid ?? 0;
      // setpriv execs sleep in the same process once it has set the flag.
      let seen: boolean | undefined;
      for (let i = 0; i < 50 && !seen; i++) {
        seen = await noNewPrivileges(pid);
        if (!seen) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(seen).toBe(true);
      expect(await noNewPrivileges(2 ** 22 + 1)).toBeUndefined();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
