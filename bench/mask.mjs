#!/usr/bin/env node
// `npm run bench`, part 2: throughput of `envmount run`'s output masking. 64 MiB of log-like text with 50 secret
// values (24-48 bytes, some sharing a first byte), where one line in 200 prints a value, pushed through the matcher
// in 16 KiB chunks as they come from a pipe; then the same bytes with no value in them. Adds to bench/results.json.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StreamMasker } from '../dist/core/masker.js';
import { root } from '../scripts/sandbox.mjs';

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

const withValues = corpus(true);
const without = corpus(false);
measure(withValues.subarray(0, 4 * 1024 * 1024)); // warm-up
const masked = measure(withValues);
const clean = measure(without);
const result = {
  secrets: SECRETS,
  chunkBytes: CHUNK,
  inputMiB: Math.round(withValues.length / 1024 / 1024),
  withValuesMBps: masked.mbPerSecond,
  withoutValuesMBps: clean.mbPerSecond,
};
console.log(
  `masking (${SECRETS} values, ${CHUNK / 1024} KiB chunks): ${result.withValuesMBps} MB/s with a value every 200 lines, ${result.withoutValuesMBps} MB/s with none`,
);
const file = join(root, 'bench', 'results.json');
let results = {};
try {
  results = JSON.parse(readFileSync(file, 'utf8'));
} catch {}
writeFileSync(file, `${JSON.stringify({ ...results, masking: result }, null, 2)}\n`);
