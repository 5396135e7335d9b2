// Serve latency and throughput of one path: open to EOF with readFileSync (what `node --env-file`, dotenv and most
// tools do), sequential reads per second, and reads per second of several reader processes at once.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../scripts/sandbox.mjs';

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** p50/p99 (microseconds) of `samples` reads after `warmup` unmeasured ones; checks every read's size. */
export function latency(path, { samples, warmup, bytes }) {
  for (let i = 0; i < warmup; i++) readFileSync(path);
  const times = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t = process.hrtime.bigint();
    const got = readFileSync(path).length;
    times[i] = Number(process.hrtime.bigint() - t) / 1e3;
    if (got !== bytes) throw new Error(`${path}: read ${got} bytes, expected ${bytes}`);
  }
  times.sort();
  return { p50_us: +percentile(times, 50).toFixed(1), p99_us: +percentile(times, 99).toFixed(1) };
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
