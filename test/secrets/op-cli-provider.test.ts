/** The op CLI provider against a fake `op` on PATH: references on stdin only, values back byte-exact, clear states. */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { opCliProvider } from '../../src/secrets/op-cli-provider.js';
import { ProviderFailure } from '../../src/secrets/provider.js';

let dir: string;
const FAKE = resolve(import.meta.dirname, '../fixtures/fake-op.cjs');
const VALUES: Record<string, string> = {
  'op://dev/db/password': 's3cr3t "quoted"\nsecond line',
  'op://dev/api/key': 'sk-live-123',
  'op://dev/unicode/value': 'héllo ✓',
};

beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-op-');
  symlinkSync(FAKE, join(dir, 'op'));
  writeFileSync(join(dir, 'values.json'), JSON.stringify(VALUES));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function provider(extra: Record<string, string> = {}) {
  return opCliProvider({
    opPath: 'op',
    env: {
      PATH: `${dir}:${process.env.PATH}`,
      FAKE_OP_VALUES: join(dir, 'values.json'),
      FAKE_OP_LOG: join(dir, 'calls.log'),
      ...extra,
    },
    timeoutMs: 10_000,
  });
}

function calls(): Array<{ argv: string[]; stdin: string }> {
  return readFileSync(join(dir, 'calls.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('op CLI provider', () => {
  it('resolves every reference in one op inject, references on stdin, nothing in argv, values byte-exact', async () => {
    const resolved = await provider().resolveAll(Object.keys(VALUES));
    for (const [ref, value] of Object.entries(VALUES)) {
      expect((resolved.get(ref) as { value: Buffer }).value.toString('utf8')).toBe(value);
    }
    const log = calls();
    expect(log).toHaveLength(1);
    expect(log[0]?.argv).toEqual(['inject']);
    for (const ref of Object.keys(VALUES)) expect(log[0]?.stdin).toContain(`{{ ${ref} }}`);
    for (const value of Object.values(VALUES)) expect(JSON.stringify(log[0]?.argv)).not.toContain(value);
  });

  it('marks only the reference that fails, and says why', async () => {
    const resolved = await provider().resolveAll(['op://dev/api/key', 'op://dev/ghost/field']);
    expect((resolved.get('op://dev/api/key') as { value: Buffer }).value.toString()).toBe('sk-live-123');
    expect(resolved.get('op://dev/ghost/field')).toEqual({
      problem: 'could not resolve item UUID for item "ghost": "ghost" isn\'t an item in the "dev" vault',
    });
  });

  it('reports a signed-out op as an auth state with the command that fixes it, not a crash', async () => {
    const error = await provider({ FAKE_OP_MODE: 'signed-out' })
      .resolveAll(['op://dev/api/key'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderFailure);
    expect(error).toMatchObject({ kind: 'auth', fix: expect.stringContaining('op signin') });
  });

  it('says when op is not installed', async () => {
    const missing = opCliProvider({ opPath: join(dir, 'no-such-op'), env: {}, timeoutMs: 1000 });
    await expect(missing.resolveAll(['op://dev/api/key'])).rejects.toMatchObject({
      kind: 'unavailable',
      fix: expect.stringContaining('ENVMOUNT_OP_PATH'),
    });
  });
});
