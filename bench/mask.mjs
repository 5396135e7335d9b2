// Throughput of `envmount run`'s output masking: 64 MiB of log-like text with 50 secret values (24-48 bytes, some
// sharing a first byte), where one line in 200 prints a value, pushed through the matcher in 16 KiB chunks as they
// come from a pipe; then the same bytes with no value in them.
import { randomBytes } from 'node:crypto';
import { StreamMasker } from '../dist/core/masker.js';

const TOTAL = 64 * 1024 * 1024;
const CHUNK = 16 * 1024;
const SECRETS = 50;

const secrets = Array.from({ length: SECRETS }, (_, i) =>
  Buffer.from(`${i % 5 === 0 ? 's' : ''}${randomBytes(12 + (i % 13)).toString('hex')}`),
);

function corpus(withSecrets) {
  const lines = [];
  let size = 0;
  for (let n = 0; size < TOTAL; n++) {
    const secret = withSecrets && n % 200 === 0 ? ` token=${secrets[n % SECRETS]}` : '';
    const line = `2026-11-22T10:00:${String(n % 60).padStart(2, '0')}Z INFO request ${n} GET /api/items?page=${n % 97} 200 ${n % 1000}ms${secret}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''));
}

function measure(data) {
  const masker = new StreamMasker(secrets);
  let out = 0;
  const start = process.hrtime.bigint();
  for (let at = 0; at < data.length; at += CHUNK) out += masker.push(data.subarray(at, at + CHUNK)).length;
  out += masker.flush().length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  masker.dispose();
  return { mbPerSecond: Math.round(data.length / 1024 / 1024 / seconds), outBytes: out };
}

export function masking() {
  const withValues = corpus(true);
  const without = corpus(false);
  measure(withValues.subarray(0, 4 * 1024 * 1024)); // warm-up
  const masked = measure(withValues);
  const clean = measure(without);
  return {
    secrets: SECRETS,
    chunk_bytes: CHUNK,
    input_mib: Math.round(withValues.length / 1024 / 1024),
    with_values_mb_s: masked.mbPerSecond,
    without_values_mb_s: clean.mbPerSecond,
  };
}
