// FUSE vs FIFO (issue 17): open-to-EOF latency of a 4 KiB mount under policy `any` and with a rule (decided), for
// both backends, and 32 readers opening at once (10 rounds): how many got the whole content, and the round's time.
// Skipped (returns { skipped: reason }) where `envmount add --backend fuse` cannot mount.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox } from '../scripts/sandbox.mjs';
import { rounds } from './latency.mjs';

const BYTES = 4096;
/** Reads per path per round (a FIFO rule read scans /proc: fewer). */
const SAMPLES = { 'fifo any': 400, 'fifo rule': 100, 'fuse any': 400, 'fuse rule': 400 };

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `count` cat processes opening `path` at once, `rounds` times: whole copies out of all, and p50 ms per round. */
function fanOut(path, expected, { count, rounds }) {
  const outs = mkdtempSync('/tmp/emb-fan-');
  let whole = 0;
  const times = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const script = `for i in $(seq ${count}); do cat "${path}" > "${outs}/$i" 2>/dev/null & done; wait`;
      const t = performance.now();
      spawnSync('bash', ['-c', script]);
      times.push(performance.now() - t);
      for (let i = 1; i <= count; i++) if (readFileSync(join(outs, String(i)), 'utf8') === expected) whole++;
    }
  } finally {
    rmSync(outs, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  return { whole, of: count * rounds, round_p50_ms: +percentile(times, 50).toFixed(1) };
}

export async function fuseVsFifo() {
  const sandbox = await startSandbox('emf');
  try {
    const name = 'VALUE_FUSE';
    const line = (v) => `${name}='${v}'\n`;
    sandbox.envmount(['set', name, '--raw'], 'v'.repeat(BYTES - line('').length));
    const paths = {};
    for (const backend of ['fifo', 'fuse']) {
      for (const kind of ['any', 'rule']) {
        const dir = join(sandbox.tmp, `${backend}-${kind}`);
        mkdirSync(dir);
        writeFileSync(join(dir, '.env.op'), `${name}=envmount://${name}\n`);
        const policy =
          kind === 'any'
            ? ['--allow', 'any', '--agents', 'rules']
            : ['--allow', 'node', '--allow', 'cat', '--otherwise', 'deny'];
        try {
          sandbox.envmount(['add', dir, '--backend', backend, ...policy]);
        } catch (error) {
          if (backend === 'fuse') return { skipped: String(error.message).split('\n')[0] };
          throw error;
        }
        paths[`${backend} ${kind}`] = join(dir, '.env');
      }
    }
    const expected = readFileSync(paths['fuse any'], 'utf8');
    const out = { latency: {}, fan_out: {} };
    process.stderr.write('  latency, FUSE and FIFO in alternating rounds\n');
    out.latency = rounds(paths, { rounds: 5, samples: SAMPLES, bytes: BYTES, base: 'fifo any' });
    for (const label of ['fifo any', 'fuse any', 'fuse rule']) {
      process.stderr.write(`  32 readers at once, ${label}\n`);
      out.fan_out[label] = fanOut(paths[label], expected, { count: 32, rounds: 10 });
    }
    return out;
  } finally {
    await sandbox.stop();
    sandbox.remove();
  }
}

/** The README lines for these results. */
export function fuseTable(r) {
  if (!r || r.skipped) return [`FUSE vs FIFO: skipped (${r?.skipped ?? 'not run'}).`];
  const rows = ['| 4 KiB, open to EOF | p50 / p99 | p50 vs FIFO any (median of rounds) |', '|---|---|---|'];
  for (const [label, l] of Object.entries(r.latency))
    rows.push(`| ${label} | ${l.p50_us} / ${l.p99_us} us | ${l['vs_fifo any'] ?? 1}x |`);
  rows.push('', '| 32 readers opening at once, 10 rounds | whole copies | round p50 |', '|---|---|---|');
  for (const [label, f] of Object.entries(r.fan_out))
    rows.push(`| ${label} | ${f.whole} of ${f.of} | ${f.round_p50_ms} ms |`);
  return rows;
}
