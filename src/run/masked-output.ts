/**
 * One output stream of the child (stdout, stderr, or the pty's merged output) on its way to ours, with secret
 * values replaced by the mask. Bytes that may be the start of a value are held back until the next chunk decides,
 * or until HOLD_MS pass without one: a prompt ending in a value's first letters must still appear.
 */
import type { Writable } from 'node:stream';
import { StreamMasker } from '../core/masker.js';

/** How long a possible start of a value waits for the rest. A child's two writes 1 ms apart are well inside. */
export const HOLD_MS = 50;

export class MaskedOutput {
  readonly #out: Writable;
  readonly #masker: StreamMasker | undefined;
  #timer: NodeJS.Timeout | undefined;
  #broken = false;

  constructor(out: Writable, secrets: readonly Buffer[]) {
    this.#out = out;
    this.#masker = secrets.length > 0 ? new StreamMasker(secrets) : undefined;
    // Our reader went away (EPIPE): drop output from now on; the child learns it when its own pipe closes.
    out.on('error', () => {
      this.#broken = true;
    });
  }

  /** Writes what can be written now; false when `out` wants the producer to pause until 'drain'. */
  write(chunk: Buffer): boolean {
    if (this.#broken) return true;
    if (!this.#masker) return this.#out.write(chunk);
    clearTimeout(this.#timer);
    const ready = this.#masker.push(chunk);
    const more = ready.length > 0 ? this.#out.write(ready) : true;
    if (this.#masker.holding) this.#timer = setTimeout(() => this.#release(), HOLD_MS);
    return more;
  }

  /** Resumes the producer once `out` drained. */
  onDrain(resume: () => void): void {
    this.#out.once('drain', resume);
  }

  get broken(): boolean {
    return this.#broken;
  }

  /** The child's stream ended: whatever was held back is no value. Idempotent. */
  end(): void {
    this.#release();
    this.#masker?.dispose();
  }

  #release(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const rest = this.#masker?.flush();
    if (rest && rest.length > 0 && !this.#broken) this.#out.write(rest);
  }
}
