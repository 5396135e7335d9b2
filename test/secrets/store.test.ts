import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../src/secrets/store.js';
import { loadStoreKey } from '../../src/secrets/store-key.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-store-');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('EmbeddedStore', () => {
  it('round-trips values through the encrypted file, with no plaintext in it and no temp file left', async () => {
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const file = join(dir, 'store.enc');
    const store = await EmbeddedStore.open(file, randomBytes(32));
    const key = randomBytes(32);
    const store2 = await EmbeddedStore.open(file, Buffer.from(key));
    await store2.setMany([
      { name: 'A', value: Buffer.from(canary) },
      { name: 'app/B', value: Buffer.from('x\ny\0z') },
    ]);
    store2.close();
    store.close();
    expect(readFileSync(file).includes(canary)).toBe(false);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['store.enc']);
    const reopened = await EmbeddedStore.open(file, Buffer.from(key));
    expect(reopened.names()).toEqual(['A', 'app/B']);
    expect(reopened.peek('A')?.toString()).toBe(canary);
    expect(reopened.peek('app/B')?.toString()).toBe('x\ny\0z');
    expect(await reopened.unset('A')).toBe(true);
    expect(await reopened.unset('A')).toBe(false);
    reopened.close();
  });

  it('wipes values when they are replaced and at close', async () => {
    const store = await EmbeddedStore.open(join(dir, 's'), randomBytes(32));
    await store.setMany([{ name: 'A', value: Buffer.from('first') }]);
    const held = store.peek('A');
    await store.setMany([{ name: 'A', value: Buffer.from('second') }]);
    expect(held?.every((b) => b === 0)).toBe(true);
    const current = store.peek('A');
    store.close();
    expect(current?.every((b) => b === 0)).toBe(true);
  });

  it('detects tampering and a wrong key', async () => {
    const file = join(dir, 'store.enc');
    const key = randomBytes(32);
    const store = await EmbeddedStore.open(file, Buffer.from(key));
    await store.setMany([{ name: 'A', value: Buffer.from('value') }]);
    store.close();
    await expect(EmbeddedStore.open(file, randomBytes(32))).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    const sealed = readFileSync(file);
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
    writeFileSync(file, sealed);
    await expect(EmbeddedStore.open(file, Buffer.from(key))).rejects.toThrow(/failed authentication/);
    writeFileSync(file, 'not a store');
    await expect(EmbeddedStore.open(file, Buffer.from(key))).rejects.toThrow(/bad header/);
  });

  it('refuses names that are not store names', async () => {
    const store = await EmbeddedStore.open(join(dir, 's'), randomBytes(32));
    await expect(store.setMany([{ name: 'bad name', value: Buffer.from('x') }])).rejects.toMatchObject({
      code: 'USAGE',
    });
    store.close();
  });
});

describe('loadStoreKey', () => {
  it('creates a 0600 key once and reads the same key back', async () => {
    const path = join(dir, 'cfg', 'store.key');
    const key = await loadStoreKey(path, true);
    expect(key.length).toBe(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await loadStoreKey(path, true)).equals(key)).toBe(true);
  });

  it('refuses a key others can read, a missing key when it must exist, and a wrong-size key', async () => {
    const path = join(dir, 'store.key');
    await expect(loadStoreKey(path, false)).rejects.toMatchObject({ code: 'STORE_KEY' });
    writeFileSync(path, randomBytes(32), { mode: 0o644 });
    chmodSync(path, 0o644);
    await expect(loadStoreKey(path, false)).rejects.toThrow(/chmod 600/);
    writeFileSync(path, randomBytes(5), { mode: 0o600 });
    chmodSync(path, 0o600);
    await expect(loadStoreKey(path, false)).rejects.toThrow(/not 32 bytes/);
  });
});
