/**
 * The embedded store: named secret values, encrypted at rest with AES-256-GCM (tampering or a wrong key fails
 * authentication), written atomically, and written only by the daemon. In memory each value is its own Buffer,
 * wiped when replaced, removed or when the store closes.
 *
 * File layout: "EMST" | version 1 | 12-byte nonce | 16-byte tag | ciphertext. The header is authenticated data.
 * Plaintext: u32 count, then per entry u16 name length | name (UTF-8) | u32 value length | value.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvmountError, errnoCode } from '../core/errors.js';
import { storeNameProblem } from '../core/reference.js';
import { ensurePrivateDir, removeStaleTemps, writeFileAtomic } from '../io/atomic-write.js';

const MAGIC = Buffer.from('EMST\x01', 'latin1');
const NONCE = 12;
const TAG = 16;

function decode(plain: Buffer, file: string): Map<string, Buffer> {
  const values = new Map<string, Buffer>();
  const corrupt = () =>
    new EnvmountError('STORE_CORRUPT', `The store "${file}" decrypted but its contents are malformed.`);
  if (plain.length < 4) throw corrupt();
  let at = 4;
  for (let i = plain.readUInt32BE(0); i > 0; i--) {
    if (at + 2 > plain.length) throw corrupt();
    const nameLength = plain.readUInt16BE(at);
    const name = plain.toString('utf8', at + 2, at + 2 + nameLength);
    at += 2 + nameLength;
    if (at + 4 > plain.length) throw corrupt();
    const length = plain.readUInt32BE(at);
    at += 4;
    if (at + length > plain.length) throw corrupt();
    values.set(name, Buffer.from(plain.subarray(at, at + length)));
    at += length;
  }
  return values;
}

function encode(values: ReadonlyMap<string, Buffer>): Buffer {
  let size = 4;
  for (const [name, value] of values) size += 2 + Buffer.byteLength(name) + 4 + value.length;
  const out = Buffer.alloc(size);
  out.writeUInt32BE(values.size, 0);
  let at = 4;
  for (const [name, value] of values) {
    const length = out.write(name, at + 2);
    out.writeUInt16BE(length, at);
    at += 2 + length;
    out.writeUInt32BE(value.length, at);
    at += 4 + value.copy(out, at + 4);
  }
  return out;
}

export class EmbeddedStore {
  // Owned by this store: every Buffer in `values` is wiped when replaced, removed or at close.
  #values: Map<string, Buffer>;
  #key: Buffer;
  readonly #file: string;
  #locked = false;
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: string, key: Buffer, values: Map<string, Buffer>) {
    this.#file = file;
    this.#key = key;
    this.#values = values;
  }

  /** Opens the store at `file` with `key` (taken over: wiped at close). A missing file is an empty store. */
  static async open(file: string, key: Buffer): Promise<EmbeddedStore> {
    await removeStaleTemps(file);
    let sealed: Buffer;
    try {
      sealed = await readFile(file);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return new EmbeddedStore(file, key, new Map());
      throw error;
    }
    const header = sealed.subarray(0, MAGIC.length);
    if (sealed.length < MAGIC.length + NONCE + TAG || !header.equals(MAGIC)) {
      throw new EnvmountError('STORE_CORRUPT', `The store "${file}" is not an envmount store (bad header).`);
    }
    const nonce = sealed.subarray(MAGIC.length, MAGIC.length + NONCE);
    const tag = sealed.subarray(MAGIC.length + NONCE, MAGIC.length + NONCE + TAG);
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(header);
    decipher.setAuthTag(tag);
    let plain: Buffer | undefined;
    try {
      plain = Buffer.concat([decipher.update(sealed.subarray(MAGIC.length + NONCE + TAG)), decipher.final()]);
      return new EmbeddedStore(file, key, decode(plain, file));
    } catch (error) {
      if (error instanceof EnvmountError) throw error;
      throw new EnvmountError(
        'STORE_CORRUPT',
        `The store "${file}" failed authentication: it was modified, or the key is not the one it was written with. Restore the store or its key from a backup.`,
        { cause: error },
      );
    } finally {
      plain?.fill(0);
    }
  }

  get locked(): boolean {
    return this.#locked;
  }

  /** Wipes every value and the key; the store reads nothing until `unlock`. */
  lock(): void {
    for (const value of this.#values.values()) value.fill(0);
    this.#values.clear();
    this.#key.fill(0);
    this.#locked = true;
  }

  /** Opens the file again with `key` (taken over). */
  async unlock(key: Buffer): Promise<void> {
    const reopened = await EmbeddedStore.open(this.#file, key);
    this.#values = reopened.#values;
    this.#key = reopened.#key;
    this.#locked = false;
  }

  names(): string[] {
    return [...this.#values.keys()].sort();
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  /** The stored Buffer itself: read it synchronously, never keep it (it is wiped when replaced). */
  peek(name: string): Buffer | undefined {
    return this.#values.get(name);
  }

  /** Sets values (copied; the caller wipes its own) and persists them in one atomic write. */
  async setMany(entries: ReadonlyArray<{ name: string; value: Buffer }>): Promise<void> {
    this.#assertWritable(entries.map((e) => e.name));
    await this.#mutate(() => {
      for (const { name, value } of entries) {
        this.#values.get(name)?.fill(0);
        this.#values.set(name, Buffer.from(value));
      }
    });
  }

  /** Moves values to new names (an environment renamed), in one atomic write; a name that is not set is skipped. */
  async rename(moves: ReadonlyArray<{ from: string; to: string }>): Promise<void> {
    this.#assertWritable(moves.map((m) => m.to));
    await this.#mutate(() => {
      for (const { from, to } of moves) {
        const value = this.#values.get(from);
        if (!value) continue;
        this.#values.get(to)?.fill(0);
        this.#values.set(to, value);
        this.#values.delete(from);
      }
    });
  }

  /** Removes a value (wiped); false if there was none. */
  async unset(name: string): Promise<boolean> {
    this.#assertUnlocked();
    const value = this.#values.get(name);
    if (!value) return false;
    await this.#mutate(() => {
      value.fill(0);
      this.#values.delete(name);
    });
    return true;
  }

  /** Wipes every value and the key. */
  close(): void {
    for (const value of this.#values.values()) value.fill(0);
    this.#values.clear();
    this.#key.fill(0);
  }

  #assertWritable(names: readonly string[]): void {
    this.#assertUnlocked();
    for (const name of names) {
      const problem = storeNameProblem(name);
      if (problem) throw new EnvmountError('USAGE', `Cannot store ${problem}.`);
    }
  }

  #assertUnlocked(): void {
    if (this.#locked) throw new EnvmountError('STORE_KEY', 'The store is locked. Run `envmount unlock` first.');
  }

  // Writes are serialized: each one seals the whole map as it is after its change.
  #mutate(change: () => void): Promise<void> {
    const run = this.#writing.then(async () => {
      change();
      await this.#persist();
    });
    this.#writing = run.catch(() => undefined);
    return run;
  }

  async #persist(): Promise<void> {
    const plain = encode(this.#values);
    try {
      const nonce = randomBytes(NONCE);
      const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
      cipher.setAAD(MAGIC);
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      await ensurePrivateDir(dirname(this.#file));
      await writeFileAtomic(this.#file, Buffer.concat([MAGIC, nonce, cipher.getAuthTag(), body]));
    } finally {
      plain.fill(0);
    }
  }
}
