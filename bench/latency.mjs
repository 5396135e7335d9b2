// Serve latency and throughput of one path: open to EOF with readFileSync (what `node --env-file`, dotenv and most
// tools do), sequential reads per second, and reads per second of several reader processes at once.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../scripts/sandbox.mjs';

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function timed(path, samples, bytes, into) {
  for (let i = 0; i < samples; i++) {
    const t = process.hrtime.bigint();
    const got = readFileSync(path).length;
    into.push(Number(process.hrtime.bigint() - t) / 1e3);
    if (got !== bytes) throw new Error(`${path}: read ${got} bytes, expected ${bytes}`);
  }
}

function summary(times) {
  const sorted = Float64Array.from(times).sort();
  return { p50_us: +percentile(sorted, 50).toFixed(1), p99_us: +percentile(sorted, 99).toFixed(1) };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Several paths measured in alternating rounds (a shared 2-core machine drifts within seconds): each round reads
 * every path `samples[kind]` times after a short warm-up, in an order that alternates between rounds. Returns, per
 * kind, p50/p99 over all its reads and, against `base`, the median of the per-round ratios of p50s (`vs_<base>`).
 */
export function rounds(paths, { rounds: n, samples, bytes, base }) {
  const kinds = Object.keys(paths);
  const all = Object.fromEntries(kinds.map((k) => [k, []]));
  const p50s = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let r = 0; r < n; r++) {
    for (const kind of r % 2 ? [...kinds].reverse() : kinds) {
      for (let i = 0; i < Math.max(20, samples[kind] / 10); i++) readFileSync(paths[kind]);
      const times = [];
      timed(paths[kind], samples[kind], bytes, times);
      all[kind].push(...times);
      p50s[kind].push(summary(times).p50_us);
    }
  }
  const out = {};
  for (const kind of kinds) {
    out[kind] = summary(all[kind]);
    if (kind !== base) out[kind][`vs_${base}`] = +median(p50s[kind].map((p, r) => p / p50s[base][r])).toFixed(2);
    out[kind].round_p50s_us = p50s[kind];
  }
  return out;
}

/** Sequential reads per second from this process for `ms`. */
export function sequential(path, ms) {
  let reads = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    readFileSync(path);
    reads++;
  }
  return Math.round(reads / (ms / 1000));
}

/** Reads per second, summed, of one reader process per path, all reading at once for `ms`. */
export async function parallel(paths, ms) {
  const counts = await Promise.all(
    paths.map(
      (path) =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [join(root, 'bench/read-loop.mjs'), path, String(ms)], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          child.stdout.setEncoding('utf8').on('data', (d) => {
            out += d;
          });
          child.on('close', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`reader exited ${code}`))));
        }),
    ),
  );
  return Math.round(counts.reduce((a, b) => a + b, 0) / (ms / 1000));
}
