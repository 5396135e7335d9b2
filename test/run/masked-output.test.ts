/** The hold-back of a possible value start: decided by the next chunk, or released after HOLD_MS of quiet. */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MASK } from '../../src/core/masker.js';
import { HOLD_MS, MaskedOutput } from '../../src/run/masked-output.js';

function sink() {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString() };
}

describe('MaskedOutput', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds a possible start of a value until the next chunk decides', async () => {
    const { out, text } = sink();
    const masked = new MaskedOutput(out, [Buffer.from('secret-value')]);
    masked.write(Buffer.from('key: secr'));
    await vi.advanceTimersByTimeAsync(1);
    expect(text()).toBe('key: ');
    masked.write(Buffer.from('et-value!\n'));
    await vi.advanceTimersByTimeAsync(0);
    expect(text()).toBe(`key: ${MASK}!\n`);
    masked.end();
  });

  it('releases held bytes after HOLD_MS without more output (a prompt must appear)', async () => {
    const { out, text } = sink();
    const masked = new MaskedOutput(out, [Buffer.from('secret-value')]);
    masked.write(Buffer.from('continue? se'));
    await vi.advanceTimersByTimeAsync(HOLD_MS - 1);
    expect(text()).toBe('continue? ');
    await vi.advanceTimersByTimeAsync(1);
    expect(text()).toBe('continue? se');
    masked.end();
  });

  it('without values it writes chunks through as they are', async () => {
    const { out, text } = sink();
    const masked = new MaskedOutput(out, []);
    masked.write(Buffer.from('secr'));
    await vi.advanceTimersByTimeAsync(0);
    expect(text()).toBe('secr');
    masked.end();
  });
});
