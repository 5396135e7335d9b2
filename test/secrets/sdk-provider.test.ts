/**
 * Contract test of the 1Password SDK provider and the cache, against a fake client typed by the SDK's own
 * interfaces (SecretsApi, ResolveAllResponse) and throwing what the 0.5.0 core throws: its two error classes, and
 * plain Errors carrying the core's messages (taken from the table in src/secrets/onepassword-errors.ts).
 */
import {
  type Client,
  DesktopSessionExpiredError,
  type GetVariablesResponse,
  RateLimitExceededError,
  type ResolveAllResponse,
  Secrets,
} from '@1password/sdk';

/** The SDK's secrets interface, as its Client types it (the package does not export SecretsApi by name). */
type SecretsApi = Client['secrets'];

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { environmentReference, parseReference } from '../../src/core/reference.js';
import { SecretCache } from '../../src/secrets/cache.js';
import { entryById, exampleOf } from '../../src/secrets/classify-error.js';
import { SDK_ERRORS } from '../../src/secrets/onepassword-errors.js';
import { sdkProvider } from '../../src/secrets/sdk-provider.js';

const bindings = {
  RateLimitExceededError,
  DesktopSessionExpiredError,
  validateSecretReference: (r: string) => Secrets.validateSecretReference(r),
};
/** What the core throws for an entry of the table: a plain Error with its message. */
const coreError = (id: string) => new Error(exampleOf(entryById(SDK_ERRORS, id)));

class FakeSecrets implements SecretsApi {
  calls: string[][] = [];
  failWith: Error | undefined;
  hang = false;
  missing = new Set<string>();
  async resolve(reference: string): Promise<string> {
    return `value-of:${reference}`;
  }
  async resolveAll(references: string[]): Promise<ResolveAllResponse> {
    this.calls.push(references);
    if (this.hang) return new Promise(() => undefined);
    if (this.failWith) throw this.failWith;
    const individualResponses: ResolveAllResponse['individualResponses'] = {};
    for (const r of references) {
      individualResponses[r] = this.missing.has(r)
        ? { error: { type: 'itemNotFound' } }
        : { content: { secret: `value-of:${r}`, itemId: 'i', vaultId: 'v' } };
    }
    return { individualResponses };
  }
}

function setup(options: { graceMs?: number; backoffMs?: number; timeoutMs?: number } = {}) {
  const secrets = new FakeSecrets();
  const client: Pick<Client, 'secrets'> = { secrets };
  const provider = sdkProvider(client, bindings, {
    description: 'test',
    fix: 'run `envmount login`',
    timeoutMs: options.timeoutMs,
  });
  let now = 1_000_000;
  let changes = 0;
  const cache = new SecretCache(provider, {
    refreshMs: 300_000,
    graceMs: options.graceMs ?? 3_600_000,
    backoffMs: options.backoffMs ?? 1000,
    logger: pino({ level: 'silent' }),
    onChange: () => changes++,
    now: () => now,
  });
  return { secrets, cache, provider, advance: (ms: number) => (now += ms), changes: () => changes };
}

/** 10 mounts whose templates share 40 distinct references (each uses 8, overlapping). */
const MOUNT_REFS = Array.from({ length: 10 }, (_, m) =>
  Array.from({ length: 8 }, (_, k) => `op://vault/item${(m * 4 + k) % 40}/field`),
);

describe('1Password SDK provider with the cache', () => {
  it('resolves the references of 10 mounts (40 distinct) in one resolveAll per refresh, single-flight', async () => {
    const { secrets, cache } = setup();
    await cache.want({ references: MOUNT_REFS.flat(), environments: [] });
    expect(secrets.calls).toHaveLength(1);
    expect(secrets.calls[0]).toHaveLength(40);
    await Promise.all([cache.refresh(), cache.refresh(), cache.refresh()]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(secrets.calls.length).toBeLessThanOrEqual(3);
    expect(secrets.calls.every((c) => c.length === 40)).toBe(true);
    expect((cache.lookup('op://vault/item7/field') as Buffer).toString()).toBe('value-of:op://vault/item7/field');
    cache.close();
  });

  it('maps a per-reference error to that variable only', async () => {
    const { secrets, cache } = setup();
    secrets.missing.add('op://vault/item3/field');
    await cache.want({ references: ['op://vault/item3/field', 'op://vault/item4/field'], environments: [] });
    expect(cache.lookup('op://vault/item3/field')).toEqual({ problem: 'op://vault/item3/field: no item matches' });
    expect(Buffer.isBuffer(cache.lookup('op://vault/item4/field'))).toBe(true);
    expect(cache.status().state).toBe('fresh');
    cache.close();
  });

  it('backs off on a rate limit and serves the last good values within the grace, saying so', async () => {
    const { secrets, cache } = setup({ backoffMs: 5000 });
    await cache.want({ references: ['op://v/a/f'], environments: [] });
    secrets.failWith = new RateLimitExceededError(exampleOf(entryById(SDK_ERRORS, 'sdk-rate-limit')));
    const before = Date.parse(cache.status().nextRefreshAt ?? '');
    await cache.refresh();
    const status = cache.status();
    expect(status).toMatchObject({ state: 'stale', lastError: '1Password rate limit reached' });
    const wait = (s: typeof status) => Date.parse(s.nextRefreshAt ?? '') - Date.parse(s.lastSuccessAt ?? '');
    expect(wait(status)).toBeGreaterThanOrEqual(5000);
    expect(Date.parse(status.nextRefreshAt ?? '')).toBeLessThan(before);
    expect((cache.lookup('op://v/a/f') as Buffer).toString()).toBe('value-of:op://v/a/f');
    await cache.refresh();
    expect(wait(cache.status())).toBeGreaterThanOrEqual(10_000);
    cache.close();
  });

  it('network failure: keeps the values and says stale (why, since when) within the grace; fails closed after', async () => {
    const { secrets, cache, advance } = setup({ graceMs: 60_000 });
    await cache.want({ references: ['op://v/a/f'], environments: [] });
    const held = cache.lookup('op://v/a/f') as Buffer;
    secrets.failWith = coreError('sdk-network');
    advance(30_000);
    await cache.refresh();
    expect(cache.status()).toMatchObject({ state: 'stale', lastError: expect.stringContaining('cannot be reached') });
    expect((cache.lookup('op://v/a/f') as Buffer).toString()).toBe('value-of:op://v/a/f');
    // A reference first asked for now cannot be fetched: its problem says why.
    await cache.want({ references: ['op://v/a/f', 'op://v/new/f'], environments: [] });
    expect(cache.lookup('op://v/new/f')).toEqual({ problem: expect.stringContaining('cannot be reached') });
    expect(cache.status().state).toBe('stale');
    advance(31_000);
    await cache.refresh();
    expect(cache.status().state).toBe('failing');
    expect(cache.lookup('op://v/a/f')).toEqual({ problem: expect.stringContaining('cannot be reached') });
    expect(held.every((b) => b === 0)).toBe(true);
    cache.close();
  });

  it('a token revoked mid-run ("you are not authenticated") is auth, with the command that fixes it', async () => {
    const { secrets, cache, advance } = setup({ graceMs: 60_000 });
    await cache.want({ references: ['op://v/a/f'], environments: [] });
    secrets.failWith = coreError('sdk-401');
    advance(61_000);
    await cache.refresh();
    expect(cache.status()).toMatchObject({ state: 'failing', fix: 'run `envmount login`' });
    expect(cache.lookup('op://v/a/f')).toEqual({ problem: expect.stringContaining('; run `envmount login`') });
    cache.close();
  });

  it('a call that never answers fails at its deadline, keeping the values', async () => {
    const { secrets, cache } = setup({ timeoutMs: 100 });
    await cache.want({ references: ['op://v/a/f'], environments: [] });
    secrets.hang = true;
    await cache.refresh();
    expect(cache.status()).toMatchObject({ state: 'stale', lastError: expect.stringContaining('did not answer') });
    expect(Buffer.isBuffer(cache.lookup('op://v/a/f'))).toBe(true);
    cache.close();
  });

  it('with grace 0, fails closed at the first failure', async () => {
    const { secrets, cache } = setup({ graceMs: 0 });
    await cache.want({ references: ['op://v/a/f'], environments: [] });
    secrets.failWith = coreError('sdk-offline');
    await cache.refresh();
    expect(cache.status().state).toBe('failing');
    expect('problem' in (cache.lookup('op://v/a/f') as object)).toBe(true);
    cache.close();
  });

  it('never fetches or serves a one-time password, and add refuses it with the reason', async () => {
    const { secrets, cache } = setup();
    const otp = 'op://v/login/one-time password?attribute=otp';
    await cache.want({ references: [otp, 'op://v/a/f'], environments: [] });
    expect(secrets.calls).toEqual([['op://v/a/f']]);
    expect(cache.lookup(otp)).toEqual({ problem: expect.stringContaining('expired codes') });
    expect(() => parseReference(otp)).toThrow(/one-time password.*expired codes/);
    expect(() => parseReference('op://v/login/x?attribute=TOTP')).toThrow(/one-time password/);
    cache.close();
  });

  it('lock zeroes every buffer; unlock fills the cache again', async () => {
    const { cache, changes } = setup();
    await cache.want({ references: ['op://v/a/f', 'op://v/b/f'], environments: [] });
    const held = [cache.lookup('op://v/a/f') as Buffer, cache.lookup('op://v/b/f') as Buffer];
    const before = changes();
    cache.lock();
    expect(held.every((b) => b.every((byte) => byte === 0))).toBe(true);
    expect(cache.lookup('op://v/a/f')).toEqual({ problem: 'the store is locked; run `envmount unlock`' });
    expect(cache.status().state).toBe('locked');
    expect(changes()).toBe(before + 1);
    await cache.unlock();
    expect((cache.lookup('op://v/a/f') as Buffer).toString()).toBe('value-of:op://v/a/f');
    cache.close();
  });

  it('wraps the SDK validator, which throws a JSON string', () => {
    const { provider } = setup();
    expect(provider.validate('op://vault/item/field')).toBeUndefined();
    expect(provider.validate('op://vault/item')).toMatch(/could not be parsed/);
    expect(provider.validate('op://vault/item/field?attribute=type')).toMatch(/invalid query parameter value/);
  });
});

class FakeEnvironments implements EnvironmentsApi {
  calls: string[] = [];
  offline = false;
  async getVariables(environmentId: string): Promise<GetVariablesResponse> {
    this.calls.push(environmentId);
    if (this.offline) throw coreError('sdk-network');
    if (environmentId === 'missing') throw coreError('sdk-not-found');
    return {
      variables: [
        { name: 'API_KEY', value: `${environmentId}-key`, masked: true },
        { name: 'REGION', value: 'eu-west-1', masked: false },
      ],
    };
  }
}

/** The SDK's Environments interface, as its Client types it. */
type EnvironmentsApi = Client['environments'];

describe('1Password Environments', () => {
  function envSetup() {
    const environments = new FakeEnvironments();
    const provider = sdkProvider({ secrets: new FakeSecrets(), environments }, bindings, {
      description: 't',
      fix: 'f',
    });
    const cache = new SecretCache(provider, {
      refreshMs: 300_000,
      graceMs: 3_600_000,
      backoffMs: 1000,
      logger: pino({ level: 'silent' }),
      onChange: () => undefined,
    });
    return { environments, cache };
  }

  it('fetches each Environment in the refresh and serves its variables by name', async () => {
    const { environments, cache } = envSetup();
    await cache.want({ references: [], environments: ['env1'] });
    expect(environments.calls).toEqual(['env1']);
    expect(cache.environmentNames('env1')).toEqual(['API_KEY', 'REGION']);
    expect((cache.lookup(environmentReference('env1', 'API_KEY').raw) as Buffer).toString()).toBe('env1-key');
    await cache.refresh();
    expect(environments.calls).toEqual(['env1', 'env1']);
    cache.close();
  });

  it('marks a missing Environment only; a network failure keeps every value within the grace, stale', async () => {
    const { environments, cache } = envSetup();
    await cache.want({ references: [], environments: ['env1', 'missing'] });
    expect(cache.environmentNames('missing')).toEqual({ problem: expect.stringContaining('not found') });
    expect(cache.environmentNames('env1')).toEqual(['API_KEY', 'REGION']);
    environments.offline = true;
    await cache.refresh();
    expect(cache.status()).toMatchObject({ state: 'stale', lastError: expect.stringContaining('cannot be reached') });
    expect(cache.environmentNames('env1')).toEqual(['API_KEY', 'REGION']);
    expect((cache.lookup(environmentReference('env1', 'API_KEY').raw) as Buffer).toString()).toBe('env1-key');
    cache.close();
  });
});
