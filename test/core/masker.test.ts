import { describe, expect, it } from 'vitest';
import { MASK, StreamMasker } from '../../src/core/masker.js';

const b = (s: string) => Buffer.from(s);
function run(values: string[], chunks: string[]): string {
  const masker = new StreamMasker(values.map(b));
  const out = chunks.map((c) => masker.push(b(c)).toString()).join('') + masker.flush().toString();
  masker.dispose();
  return out;
}

describe('StreamMasker', () => {
  it('masks every occurrence in one chunk', () => {
    expect(run(['hunter2'], ['a hunter2 b hunter2'])).toBe(`a ${MASK} b ${MASK}`);
  });

  it('masks a value split across chunks, at any split point', () => {
    const value = 'sk-live-0123456789';
    const text = `token=${value}\n`;
    for (let split = 0; split <= text.length; split++) {
      expect(run([value], [text.slice(0, split), text.slice(split)])).toBe(`token=${MASK}\n`);
    }
    expect(run([value], [...text])).toBe(`token=${MASK}\n`);
  });

  it('prefers the longest value, and keeps ANSI colours around a mask', () => {
    expect(run(['abcd', 'abcdefgh'], ['xabcdefghx'])).toBe(`x${MASK}x`);
    expect(run(['secret-value'], ['\x1b[31msecret-value\x1b[0m'])).toBe(`\x1b[31m${MASK}\x1b[0m`);
  });

  it('holds back only a possible prefix, and releases it when the stream ends', () => {
    const masker = new StreamMasker([b('password123')]);
    expect(masker.push(b('my passw')).toString()).toBe('my ');
    expect(masker.holding).toBe(true);
    expect(masker.push(b('ord is set')).toString()).toBe('password is set');
    expect(masker.push(b('end passw')).toString()).toBe('end ');
    expect(masker.flush().toString()).toBe('passw');
  });

  it('does not leak the rest of a longer value whose shorter prefix is also a value', () => {
    expect(run(['abcd', 'abcdefgh'], ['xabcde', 'fghx'])).toBe(`x${MASK}x`);
    expect(run(['abcd', 'abcdefgh'], ['xabcde', 'zz'])).toBe(`x${MASK}ezz`);
  });

  it('does not mask values shorter than 4 bytes, and says which', () => {
    expect(run(['on', 'abc'], ['on abc'])).toBe('on abc');
    expect(StreamMasker.tooShort([b('on'), b('long-enough'), b('abc')])).toEqual([0, 2]);
  });

  it('passes binary data through unchanged when nothing matches', () => {
    const data = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
    const masker = new StreamMasker([b('zzzz-not-there')]);
    expect(Buffer.concat([masker.push(data), masker.flush()]).equals(data)).toBe(true);
  });
});
