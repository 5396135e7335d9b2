/**
 * The op CLI provider against a fake `op` on PATH that speaks op's own messages (from the table the code reads):
 * references on stdin only, values back byte-exact, one bad reference marks that variable only, failures of the
 * whole call fail the call (the cache keeps the last good values), and a hanging op costs one deadline.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_NEW_PRIVILEGES_FIX, opCliProvider } from '../../src/secrets/op-cli-provider.js';
import { ProviderFailure, type Resolved } from '../../src/secrets/provider.js';
import { FAKE_OP, FAKE_OP_ERRORS } from '../fixtures/fake-op-env.js';

let dir: string;
const VALUES: Record<string, string | { error: string }> = {
  'op://dev/db/password': 's3cr3t "quoted"\nsecond line',
  'op://dev/api/key': 'sk-live-123',
  'op://dev/unicode/value': 'héllo ✓',
  'op://dev/spaced item/password': 'never-served',
};

beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-op-');
  symlinkSync(FAKE_OP, join(dir, 'op'));
  writeFileSync(join(dir, 'values.json'), JSON.stringify(VALUES));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function provider(extra: Record<string, string> = {}, options: { timeoutMs?: number; noNewPrivileges?: boolean } = {}) {
  return opCliProvider({
    opPath: 'op',
    env: {
      PATH: `${dir}:${process.env.PATH}`,
      FAKE_OP_VALUES: join(dir, 'values.json'),
      FAKE_OP_LOG: join(dir, 'calls.log'),
      FAKE_OP_ERRORS,
      ...extra,
    },
    timeoutMs: options.timeoutMs ?? 10_000,
    noNewPrivileges: options.noNewPrivileges,
  });
}

function calls(): Array<{ argv: string[]; stdin: string }> {
  return readFileSync(join(dir, 'calls.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

const text = (r: Resolved | undefined) => (r && 'value' in r ? r.value.toString('utf8') : r);

describe('op CLI provider', () => {
  it('resolves every reference in one op inject, references on stdin, nothing in argv, values byte-exact', async () => {
    const refs = ['op://dev/db/password', 'op://dev/api/key', 'op://dev/unicode/value'];
    const resolved = await provider().resolveAll(refs);
    for (const ref of refs) expect(text(resolved.get(ref))).toBe(VALUES[ref]);
    const log = calls();
    expect(log).toHaveLength(1);
    expect(log[0]?.argv).toEqual(['inject']);
    for (const ref of refs) expect(log[0]?.stdin).toContain(`{{ ${ref} }}`);
  });

  it('a missing item named "locked-box" marks that variable only (op names it), in two op runs', async () => {
    // The old code matched /locked|sign in/ over the whole message and failed every reference as "signed out".
    const resolved = await provider().resolveAll(['op://dev/api/key', 'op://dev/locked-box/password']);
    expect(text(resolved.get('op://dev/api/key'))).toBe('sk-live-123');
    expect(resolved.get('op://dev/locked-box/password')).toEqual({
      problem: 'could not resolve item UUID for item "locked-box": "locked-box" isn\'t an item in the "dev" vault',
    });
    expect(calls()).toHaveLength(2);
  });

  it.each([
    ['op-signed-out', 'auth'],
    ['op-account', 'auth'],
    ['op-no-accounts', 'auth'],
    ['op-invalid-session', 'auth'],
    ['op-app', 'auth'],
    ['op-429', 'rate-limited'],
    ['op-503', 'unavailable'],
    ['op-net-network', 'unavailable'],
    ['op-net-no', 'unavailable'],
  ])('%s fails the whole call as %s after one op run, never one reference at a time', async (mode, kind) => {
    const error = await provider({ FAKE_OP_MODE: mode })
      .resolveAll(['op://dev/api/key', 'op://dev/db/password', 'op://dev/unicode/value'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderFailure);
    expect(error).toMatchObject({ kind });
    if (kind === 'auth') expect((error as ProviderFailure).fix).toMatch(/envmount refresh/);
    expect(calls()).toHaveLength(1);
  });

  it('says why op from a NoNewPrivileges service cannot sign in, and what to use instead', async () => {
    const error = await provider({ FAKE_OP_MODE: 'op-app' }, { noNewPrivileges: true })
      .resolveAll(['op://dev/api/key'])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth', fix: NO_NEW_PRIVILEGES_FIX });
    expect(NO_NEW_PRIVILEGES_FIX).toContain('envmount login --service-account');
  });

  it('an error it does not know fails the call (values kept by the cache), not each reference', async () => {
    writeFileSync(join(dir, 'mode'), 'something-new');
    const error = await provider({ FAKE_OP_MODE_FILE: join(dir, 'mode'), FAKE_OP_ERRORS: '{}' })
      .resolveAll(['op://dev/api/key', 'op://dev/db/password'])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unavailable' });
    expect(calls()).toHaveLength(1);
  });

  it('never serves a {{ op:// }} marker op left in place; `add` refuses such a reference for op', async () => {
    const p = provider();
    const resolved = await p.resolveAll(['op://dev/api/key', 'op://dev/spaced item/password']);
    expect(text(resolved.get('op://dev/api/key'))).toBe('sk-live-123');
    expect(resolved.get('op://dev/spaced item/password')).toEqual({ problem: expect.stringContaining('unresolved') });
    expect(p.validate('op://dev/spaced item/password')).toMatch(/space/);
    expect(p.validate('op://dev/api/key')).toBeUndefined();
  });

  it('is faithful to op inject: $VAR in a reference is expanded (why envmount refuses `$` at add)', async () => {
    const resolved = await provider({ APP_VAULT: 'dev' }).resolveAll(['op://$APP_VAULT/api/key']);
    expect(text(resolved.get('op://$APP_VAULT/api/key'))).toBe('sk-live-123');
  });

  it('a hanging op costs one deadline for 40 references: one run, killed, the call failed', async () => {
    const refs = Array.from({ length: 40 }, (_, i) => `op://dev/item${i}/password`);
    const error = await provider({ FAKE_OP_MODE: 'hang' }, { timeoutMs: 1500 })
      .resolveAll(refs)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('did not answer') });
    expect(calls()).toHaveLength(1);
  });

  it('finding an unnamed bad reference one at a time stays within the same deadline', async () => {
    // op's message quotes "AWS", none of the references' names, so each is tried alone; alone, op hangs.
    const good = Array.from({ length: 39 }, (_, i) => `op://dev/item${i}/password`);
    writeFileSync(
      join(dir, 'values.json'),
      JSON.stringify({
        'op://dev/aws-keys/key': { error: 'op-ambiguous' },
        ...Object.fromEntries(good.map((r) => [r, 'v'])),
      }),
    );
    const refs = ['op://dev/aws-keys/key', ...good];
    const error = await provider({ FAKE_OP_MODE: 'hang-single' }, { timeoutMs: 1500 })
      .resolveAll(refs)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('did not answer') });
    expect(calls()).toHaveLength(2);
  });

  it('says when op is not installed', async () => {
    const missing = opCliProvider({ opPath: join(dir, 'no-such-op'), env: {}, timeoutMs: 1000 });
    await expect(missing.resolveAll(['op://dev/api/key'])).rejects.toMatchObject({
      kind: 'unavailable',
      fix: expect.stringContaining('ENVMOUNT_OP_PATH'),
    });
  });
});
