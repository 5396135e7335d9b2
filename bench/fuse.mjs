// FUSE (issues 17, 23): open-to-EOF latency of a 4 KiB mount under policy `any` and with a rule (decided), against
// a C floor for FUSE (bench/fuse-floor.c: libfuse, one thread, the same mount semantics, nothing per open) and
// against the FIFO backend; and 32 readers opening at once (10 rounds): how many got the whole content, and the
// round's time. Latency is measured twice (bench/placement.mjs): `one core` (reader, floor and daemon on one CPU)
// and `free`. Skipped (returns { skipped: reason }) where `envmount add --backend fuse` cannot mount; the floor
// alone is skipped (`floor_skipped`) where it cannot be built or mounted.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, startSandbox } from '../scripts/sandbox.mjs';
import { rounds } from './latency.mjs';
import { pin, unpin } from './placement.mjs';

const BYTES = 4096;
/** Reads per path per round (a FIFO rule read scans /proc: fewer). */
const SAMPLES = { 'fuse floor': 400, 'fuse any': 400, 'fuse rule': 400, 'fifo any': 400, 'fifo rule': 100 };
const ROUNDS = 5;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
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

/** Builds bench/fuse-floor.c into build/: the binary, or { skipped } with the compiler's first line. */
function buildFloor() {
  const binary = join(root, 'build', 'bench-fuse-floor');
  const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' });
  if (flags.status !== 0) return { skipped: 'pkg-config finds no fuse3 (libfuse3-dev)' };
  mkdirSync(join(root, 'build'), { recursive: true });
  const cc = spawnSync(
    'cc',
    ['-O2', '-Wall', '-o', binary, join(root, 'bench', 'fuse-floor.c'), ...flags.stdout.trim().split(/\s+/)],
    { encoding: 'utf8' },
  );
  if (cc.status !== 0) return { skipped: `cc failed: ${(cc.stderr || cc.error?.message || '').split('\n')[0]}` };
  return { binary };
}

/** Starts the FUSE floor on the regular file `path`: its process once mounted, or { skipped } with why not. */
function startFuseFloor(binary, path, contentFile) {
  writeFileSync(path, '');
  const child = spawn(binary, [path, contentFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    err += d;
  });
  return new Promise((resolve) => {
    child.stdout.once('data', () => resolve({ child }));
    child.once('exit', (code) => resolve({ skipped: `fuse-floor exited ${code}: ${err.split('\n')[0]}` }));
  });
}

/** Ends the FUSE floor (SIGTERM: it unmounts) and waits for it. */
async function stopFuseFloor(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}

/** Per kind, the median over rounds of its p50 / `base`'s p50 (both measured in the same round). */
function ratiosTo(result, base) {
  const out = {};
  for (const [kind, r] of Object.entries(result)) {
    if (kind === base) continue;
    out[kind] = +median(r.round_p50s_us.map((p, i) => p / result[base].round_p50s_us[i])).toFixed(2);
  }
  return out;
}

/** Adds `key` (for example `vs_fifo any`) to each of `into`'s kinds from `ratios`. */
function withRatios(into, ratios, key) {
  for (const [kind, ratio] of Object.entries(ratios)) into[kind][key] = ratio;
  return into;
}

/**
 * `cpu`: where `one core` runs (the lead benchmarks on CPU 0). `placements`: which of `one core` and `free` to run.
 */
export async function fuseVsFifo({ cpu = 0, placements = ['one core', 'free'], fanOutToo = true } = {}) {
  const sandbox = await startSandbox('emf');
  let floor;
  try {
    const name = 'VALUE_FUSE';
    const line = (v) => `${name}='${v}'\n`;
    sandbox.envmount(['set', name, '--raw'], 'v'.repeat(BYTES - line('').length));
    const paths = {};
    for (const backend of ['fuse', 'fifo']) {
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
    const built = buildFloor();
    if (built.binary) {
      const contentFile = join(sandbox.tmp, 'floor-content');
      writeFileSync(contentFile, expected);
      floor = await startFuseFloor(built.binary, join(sandbox.tmp, 'fuse-floor.env'), contentFile);
    }
    const skipped = built.skipped ?? floor?.skipped;
    if (skipped) out.floor_skipped = skipped;
    const measured = skipped ? paths : { 'fuse floor': join(sandbox.tmp, 'fuse-floor.env'), ...paths };
    const base = skipped ? 'fifo any' : 'fuse floor';
    for (const placement of placements) {
      process.stderr.write(`  latency (${placement}), FUSE floor, FUSE and FIFO in alternating rounds\n`);
      const pids = [process.pid, sandbox.pid, ...(floor?.child ? [floor.child.pid] : [])];
      if (placement === 'one core') pin(pids, cpu);
      try {
        const r = rounds(measured, { rounds: ROUNDS, samples: SAMPLES, bytes: BYTES, base });
        out.latency[placement] = withRatios(r, ratiosTo(r, 'fifo any'), 'vs_fifo any');
      } finally {
        if (placement === 'one core') unpin(pids);
      }
    }
    if (!fanOutToo) return out;
    for (const label of ['fifo any', 'fuse any', 'fuse rule']) {
      process.stderr.write(`  32 readers at once, ${label}\n`);
      out.fan_out[label] = fanOut(paths[label], expected, { count: 32, rounds: 10 });
    }
    return out;
  } finally {
    await stopFuseFloor(floor?.child);
    await sandbox.stop();
    sandbox.remove();
  }
}

/** The README lines for these results. */
export function fuseTable(r) {
  if (!r || r.skipped) return [`FUSE vs FIFO: skipped (${r?.skipped ?? 'not run'}).`];
  const rows = [
    '| 4 KiB, open to EOF | placement | p50 / p99 | p50 vs FUSE floor | p50 vs FIFO any (medians of round ratios) |',
    '|---|---|---|---|---|',
  ];
  for (const [placement, latency] of Object.entries(r.latency)) {
    for (const [label, l] of Object.entries(latency)) {
      const floor = label === 'fuse floor' ? 1 : (l['vs_fuse floor'] ?? '-');
      rows.push(`| ${label} | ${placement} | ${l.p50_us} / ${l.p99_us} us | ${floor}x | ${l['vs_fifo any'] ?? 1}x |`);
    }
  }
  if (r.floor_skipped) rows.push('', `FUSE floor: skipped (${r.floor_skipped}).`);
  rows.push('', '| 32 readers opening at once, 10 rounds | whole copies | round p50 |', '|---|---|---|');
  for (const [label, f] of Object.entries(r.fan_out))
    rows.push(`| ${label} | ${f.whole} of ${f.of} | ${f.round_p50_ms} ms |`);
  return rows;
}
