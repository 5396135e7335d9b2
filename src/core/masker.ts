/**
 * Masking secret values in a byte stream (`envmount run`'s output). Every occurrence of a value is replaced by the
 * mask, also when a value is split across chunks: bytes that could be the start of a value are held back until the
 * next chunk decides (or `flush`). Values shorter than MIN_MASKED_LENGTH are not masked: masking "1" or "on" would
 * garble ordinary output; the caller reports them. Works on Buffers; a value never becomes a string here.
 */
export const MASK = '<concealed by envmount>';
export const MIN_MASKED_LENGTH = 4;

export class StreamMasker {
  // Owned here: copies of the values (wiped by `dispose`), indexed by first byte, longest first.
  readonly #byFirstByte = new Map<number, Buffer[]>();
  readonly #values: Buffer[] = [];
  readonly #mask: Buffer;
  readonly #longest: number;
  #held: Buffer = Buffer.alloc(0);

  constructor(values: readonly Buffer[], mask: Buffer = Buffer.from(MASK)) {
    this.#mask = mask;
    // Repeats compared as bytes: a value never becomes a string, not even as a map key.
    const unique: Buffer[] = [];
    for (const value of values) {
      if (value.length >= MIN_MASKED_LENGTH && !unique.some((kept) => kept.equals(value))) unique.push(value);
    }
    for (const value of unique) {
      const copy = Buffer.from(value);
      this.#values.push(copy);
      const first = copy[0] ?? 0;
      const list = this.#byFirstByte.get(first) ?? [];
      list.push(copy);
      list.sort((a, b) => b.length - a.length);
      this.#byFirstByte.set(first, list);
    }
    this.#longest = Math.max(0, ...this.#values.map((v) => v.length));
  }

  /** Values that will not be masked because they are too short (by index in the input), for status. */
  static tooShort(values: readonly Buffer[]): number[] {
    return values.flatMap((v, i) => (v.length > 0 && v.length < MIN_MASKED_LENGTH ? [i] : []));
  }

  /** The bytes of `chunk` (after any held back) that can be written now, with values masked. */
  push(chunk: Buffer): Buffer {
    if (this.#values.length === 0) return chunk;
    const data = this.#held.length > 0 ? Buffer.concat([this.#held, chunk]) : chunk;
    this.#held.fill(0);
    // Every match of every value (Buffer.indexOf is native), then the earliest, longest ones that do not overlap.
    const matches: Array<[number, number]> = [];
    for (const value of this.#values) {
      for (let at = data.indexOf(value); at !== -1; at = data.indexOf(value, at + 1)) matches.push([at, value.length]);
    }
    matches.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
    const out: Buffer[] = [];
    let emitted = 0;
    let hold = -1;
    for (const [at, length] of matches) {
      if (at < emitted) continue;
      // A longer value that starts here may go on in the next chunk: decide then, not now.
      if (this.#partialAt(data, at)) {
        hold = at;
        break;
      }
      out.push(data.subarray(emitted, at), this.#mask);
      emitted = at + length;
    }
    // Hold back the earliest tail that is the start of some value: the next chunk decides.
    if (hold === -1) hold = this.#heldFrom(data, emitted);
    out.push(data.subarray(emitted, hold));
    this.#held = Buffer.from(data.subarray(hold));
    const result = Buffer.concat(out);
    if (data !== chunk) data.fill(0);
    return result;
  }

  /** Whether the data from `i` to its end is the start (not the whole) of some value. */
  #partialAt(data: Buffer, i: number): boolean {
    const available = data.length - i;
    const candidates = this.#byFirstByte.get(data[i] ?? -1);
    return (
      candidates?.some((v) => v.length > available && data.compare(v, 0, available, i, data.length) === 0) ?? false
    );
  }

  #heldFrom(data: Buffer, from: number): number {
    for (let i = Math.max(from, data.length - this.#longest + 1); i < data.length; i++) {
      if (this.#partialAt(data, i)) return i;
    }
    return data.length;
  }

  /** The bytes still held back (the stream ended, or the caller's hold-back timeout passed): they are no value. */
  flush(): Buffer {
    const rest = this.#held;
    this.#held = Buffer.alloc(0);
    return rest;
  }

  /** Whether bytes are held back (the caller may flush them after a short idle time). */
  get holding(): boolean {
    return this.#held.length > 0;
  }

  get longestValue(): number {
    return this.#longest;
  }

  dispose(): void {
    for (const value of this.#values) value.fill(0);
    this.#held.fill(0);
  }
}
