/**
 * A reader whose executable cannot be read (no thread shows /proc/PID/exe) is refused as `unidentified`: never
 * matched against allow rules or `--otherwise allow`, never granted by `approve --for`, never asked about.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../../src/core/policy.js';
import { parseRule } from '../../../src/core/policy-edit.js';
import { Approvals } from '../../../src/daemon/readers/approvals.js';
import type { AuditLog } from '../../../src/daemon/readers/audit.js';
import { type ProcessInfo, UNKNOWN_EXE } from '../../../src/daemon/readers/process-info.js';
import { ReaderGate } from '../../../src/daemon/readers/reader-gate.js';

const blind: ProcessInfo = {
  pid: process.pid,
  uid: 0,
  exe: UNKNOWN_EXE,
  argv: [],
  cwd: '?',
  startTime: 1,
  ppid: 1,
  sid: 1,
  tty: 0,
};

function gate(approvals: Approvals): ReaderGate {
  return new ReaderGate({ approvals, audit: {} as AuditLog, logger: pino({ level: 'silent' }) });
}

const mount = (policy: Policy) => ({ path: '/p/.env', dir: '/p', policy });

describe('a reader with no readable executable', () => {
  it('is refused as unidentified under --otherwise allow and --allow exe:*', async () => {
    const approvals = new Approvals(60_000);
    const policies: Policy[] = [
      { fallback: 'allow', rules: [parseRule('cat', 'deny')] },
      { fallback: 'deny', rules: [parseRule('exe:*', 'allow')] },
    ];
    for (const policy of policies) {
      const verdict = await gate(approvals).authorize(mount(policy), blind);
      expect(verdict).toMatchObject({ allowed: false, decision: 'unidentified' });
    }
    expect(approvals.list()).toEqual([]);
  });

  it('is not asked about, and a grant for `?` does not let it through', async () => {
    const approvals = new Approvals(60_000);
    const { id } = approvals.ask('/p/.env', blind, []);
    approvals.approve(id, { forMs: 60_000 });
    expect(approvals.granted('/p/.env', UNKNOWN_EXE)).toBe(true);
    const verdict = await gate(approvals).authorize(mount({ fallback: 'ask', rules: [] }), blind);
    expect(verdict).toMatchObject({ allowed: false, decision: 'unidentified' });
    expect(approvals.list()).toEqual([]);
  });
});
