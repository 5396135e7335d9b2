/**
 * createClient failures, classified: a fake SDK module throws what the 0.5.0 core was seen to throw (the table's
 * examples: offline, 429, 5xx, bad token), and the real SDK runs offline for the cases that need no server.
 */
import { randomBytes, randomInt } from 'node:crypto';
import * as realSdk from '@1password/sdk';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SecretCache } from '../../src/secrets/cache.js';
import { entryById, exampleOf } from '../../src/secrets/classify-error.js';
import { SDK_ERRORS } from '../../src/secrets/onepassword-errors.js';
import { ProviderFailure } from '../../src/secrets/provider.js';
import { createSdkProvider, integrationVersion } from '../../src/secrets/sdk-client.js';

type Sdk = typeof import('@1password/sdk');

function fakeSdk(fail: () => unknown) {
  const configs: Array<{ integrationVersion: string }> = [];
  const sdk = {
    ...realSdk,
    createClient: async (config: { integrationVersion: string }) => {
      configs.push(config);
      throw fail();
    },
  } as unknown as Sdk;
  return { sdk, configs };
}

const TOKEN = `ops_${randomBytes(24).toString('base64url')}`;

async function signInFailure(id: string) {
  const message = exampleOf(entryById(SDK_ERRORS, id));
  const { sdk } = fakeSdk(() => new Error(`${message} ${TOKEN}`));
  const error = await createSdkProvider({ token: TOKEN }, '1.0.0', sdk)
    .resolveAll(['op://v/i/f'])
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderFailure);
  expect((error as Error).message).not.toContain(TOKEN);
  return error as ProviderFailure;
}

describe('createClient errors, classified', () => {
  it.each([
    ['sdk-offline', 'unavailable', undefined],
    ['sdk-sign-in-429', 'rate-limited', undefined],
    ['sdk-sign-in-500', 'unavailable', undefined],
    ['sdk-sign-in-5xx', 'unavailable', undefined],
    ['sdk-sign-in-401', 'auth', 'envmount login --service-account'],
    ['sdk-token-rejected', 'auth', 'envmount login --service-account'],
    ['sdk-token-malformed', 'auth', 'envmount login --service-account'],
  ])('%s is %s', async (id, kind, fix) => {
    const failure = await signInFailure(id);
    expect(failure.kind).toBe(kind);
    expect(failure.fix).toEqual(fix === undefined ? undefined : expect.stringContaining(fix));
  });

  it('a rate limit at sign-in (a plain Error, not RateLimitExceededError) backs off', async () => {
    const { sdk } = fakeSdk(() => new Error(exampleOf(entryById(SDK_ERRORS, 'sdk-sign-in-429'))));
    const cache = new SecretCache(createSdkProvider({ token: TOKEN }, '1.0.0', sdk), {
      refreshMs: 300_000,
      graceMs: 3_600_000,
      backoffMs: 5000,
      logger: pino({ level: 'silent' }),
      onChange: () => undefined,
    });
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = Date.now();
      await (i === 0 ? cache.want({ references: ['op://v/i/f'], environments: [] }) : cache.refresh());
      waits.push(Date.parse(cache.status().nextRefreshAt ?? '') - start);
    }
    expect(cache.status()).toMatchObject({ state: 'failing', lastError: expect.stringContaining('rate limit') });
    expect(waits[0]).toBeGreaterThanOrEqual(4000);
    expect(waits[1]).toBeGreaterThanOrEqual(9000);
    expect(waits[2]).toBeGreaterThanOrEqual(19_000);
    cache.close();
  });

  it('desktop auth without the app says so, without calling the SDK (which prints a stack each time)', async () => {
    const { sdk, configs } = fakeSdk(() => new Error('Native library is not available.'));
    const provider = createSdkProvider({ account: 'me' }, '1.0.0', sdk, { desktopAppInstalled: () => false });
    await expect(provider.resolveAll(['op://v/i/f'])).rejects.toMatchObject({
      kind: 'unavailable',
      message: expect.stringContaining('desktop app is not installed'),
      fix: expect.stringContaining('--service-account'),
    });
    expect(configs).toHaveLength(0);
  });

  it('gives the SDK an integration version it accepts (at most 20 characters, no + or !)', async () => {
    expect(integrationVersion('1.2.3+build.5')).toBe('1.2.3');
    expect(integrationVersion('0.1.0-rc.1!x')).toBe('0.1.0-rc.1x');
    expect(integrationVersion('1.0.0-aaaaaaaaaaaaaaaaaaaaaaaa')).toHaveLength(20);
    const { sdk, configs } = fakeSdk(() => new Error('x'));
    await createSdkProvider({ token: TOKEN }, '1.2.3+sha.abc', sdk)
      .resolveAll(['op://v/i/f'])
      .catch(() => undefined);
    expect(configs[0]?.integrationVersion).toBe('1.2.3');
  });
});

/** A token shaped like a service account's (made-up keys) that signs in at an address that cannot resolve. */
function unreachableToken(): string {
  const b32 = (n: number) =>
    Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz234567'[randomInt(32)]).join('');
  const seg = (n: number) => Array.from({ length: n }, () => 'ABCDEFGHJKLMNPQRSTVWXYZ23456789'[randomInt(31)]).join('');
  const credentials = {
    signInAddress: 'envmount-test.invalid',
    userAuth: {
      method: 'SRPg-4096',
      alg: 'PBES2g-HS256',
      iterations: 650000,
      salt: randomBytes(16).toString('base64url'),
    },
    email: `${b32(13)}@1passwordserviceaccounts.com`,
    srpX: randomBytes(32).toString('hex'),
    muk: {
      alg: 'A256GCM',
      ext: true,
      k: randomBytes(32).toString('base64url'),
      key_ops: ['encrypt', 'decrypt'],
      kty: 'oct',
      kid: 'mp',
    },
    secretKey: `A3-${seg(6)}-${seg(6)}-${seg(5)}-${seg(5)}-${seg(5)}-${seg(5)}`,
    throttleSecret: { seed: randomBytes(32).toString('hex'), uuid: b32(26).toUpperCase() },
    deviceUuid: b32(26),
  };
  return `ops_${Buffer.from(JSON.stringify(credentials)).toString('base64url')}`;
}

describe('the real SDK 0.5.0, offline', () => {
  it('a token that is not one is auth (store a new token)', async () => {
    const error = await createSdkProvider({ token: 'ops_garbage' }, '1.0.0', realSdk)
      .resolveAll(['op://v/i/f'])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth', fix: expect.stringContaining('--service-account') });
  });

  it('no network is unavailable (the cache keeps values), with a version the SDK would refuse as is', async () => {
    const token = unreachableToken();
    const error = await createSdkProvider({ token }, '1.0.0+local', realSdk)
      .resolveAll(['op://v/i/f'])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('cannot be reached') });
    expect((error as Error).message).not.toContain(token);
  });
});
