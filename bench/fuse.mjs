// FUSE (issues 17, 23): open-to-EOF latency of a 4 KiB mount under policy `any` and with a rule (decided), against
// a C floor for FUSE (bench/fuse-floor.c: libfuse, one thread, the same mount semantics, nothing per open) and
// against the FIFO backend, and of 1 and 60 KiB mounts under `any` against the floor; and 32 readers opening at once (10 rounds): how many got the whole content, and the
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
/** Sizes measured for the FUSE floor and FUSE `any` only (besides BYTES). */
const OTHER_SIZES = { '1 KiB': 1024, '60 KiB': 60 * 1024 };

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

/** Sets `name` to a value that renders to a `bytes`-long line (`NAME='...'\n`). */
function setValue(sandbox, name, bytes) {
  sandbox.envmount(['set', name, '--raw'], 'v'.repeat(bytes - `${name}=''\n`.length));
}

/** Adds a mount of `name` at `dir` with `backend` and `policy` (`any` or a rule): its path, or { skipped }. */
function addMount(sandbox, dir, name, backend, kind) {
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
  return { path: join(dir, '.env') };
}

/**
 * `cpu`: where `one core` runs (the lead benchmarks on CPU 0). `placements`: which of `one core` and `free` to run.
 * 4 KiB: the FUSE floor, FUSE and FIFO, `any` and a rule; 1 and 60 KiB: the FUSE floor and FUSE `any` only.
 */
export async function fuseVsFifo({ cpu = 0, placements = ['one core', 'free'], fanOutToo = true } = {}) {
  const sandbox = await startSandbox('emf');
  const floors = [];
  try {
    const paths = {};
    const sized = {};
    setValue(sandbox, 'VALUE_FUSE', BYTES);
    for (const backend of ['fuse', 'fifo']) {
      for (const kind of ['any', 'rule']) {
        const added = addMount(sandbox, join(sandbox.tmp, `${backend}-${kind}`), 'VALUE_FUSE', backend, kind);
        if (added.skipped) return { skipped: added.skipped };
        paths[`${backend} ${kind}`] = added.path;
      }
    }
    for (const [size, bytes] of Object.entries(OTHER_SIZES)) {
      setValue(sandbox, `VALUE_${bytes}`, bytes);
      const added = addMount(sandbox, join(sandbox.tmp, `fuse-any-${bytes}`), `VALUE_${bytes}`, 'fuse', 'any');
      sized[size] = { 'fuse any': added.path };
    }
    const expected = readFileSync(paths['fuse any'], 'utf8');
    const out = { latency: {}, sizes: {}, fan_out: {} };
    const built = buildFloor();
    let skipped = built.skipped;
    for (const [size, kinds] of [['4 KiB', paths], ...Object.entries(sized)]) {
      if (skipped) break;
      const contentFile = join(sandbox.tmp, `floor-content-${size.replace(' ', '')}`);
      writeFileSync(contentFile, readFileSync(kinds['fuse any']));
      const at = join(sandbox.tmp, `fuse-floor-${size.replace(' ', '')}.env`);
      const floor = await startFuseFloor(built.binary, at, contentFile);
      if (floor.child) floors.push(floor.child);
      skipped = floor.skipped;
      if (floor.child) kinds['fuse floor'] = at;
    }
    if (skipped) out.floor_skipped = skipped;
    const { 'fuse floor': floorPath, ...backends } = paths;
    const measured = skipped ? backends : { 'fuse floor': floorPath, ...backends };
    const base = skipped ? 'fifo any' : 'fuse floor';
    for (const placement of placements) {
      process.stderr.write(`  latency (${placement}), FUSE floor, FUSE and FIFO in alternating rounds\n`);
      const pids = [process.pid, sandbox.pid, ...floors.map((f) => f.pid)];
      if (placement === 'one core') pin(pids, cpu);
      try {
        const r = rounds(measured, { rounds: ROUNDS, samples: SAMPLES, bytes: BYTES, base });
        out.latency[placement] = withRatios(r, ratiosTo(r, 'fifo any'), 'vs_fifo any');
        if (skipped) continue;
        out.sizes[placement] = {};
        for (const [size, kinds] of Object.entries(sized)) {
          const only = { 'fuse floor': kinds['fuse floor'], 'fuse any': kinds['fuse any'] };
          const bytes = OTHER_SIZES[size];
          out.sizes[placement][size] = rounds(only, { rounds: ROUNDS, samples: SAMPLES, bytes, base });
        }
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
    for (const floor of floors) await stopFuseFloor(floor);
    await sandbox.stop();
    sandbox.remove();
  }
}

/** The README lines for these results. */
export function fuseTable(r) {
  if (!r || r.skipped) return [`FUSE vs FIFO: skipped (${r?.skipped ?? 'not run'}).`];
  const rows = [
    '| open to EOF | placement | p50 / p99 | p50 vs FUSE floor | p50 vs FIFO any (medians of round ratios) |',
    '|---|---|---|---|---|',
  ];
  const times = (x) => (x === undefined ? '-' : `${x}x`);
  const row = (label, placement, l) => {
    const floor = label.startsWith('fuse floor') ? 1 : l['vs_fuse floor'];
    const fifo = label.startsWith('fifo any') ? 1 : l['vs_fifo any'];
    return `| ${label} | ${placement} | ${l.p50_us} / ${l.p99_us} us | ${times(floor)} | ${times(fifo)} |`;
  };
  // Results written before issue 23 have one placement, not named.
  const byPlacement = Object.values(r.latency)[0]?.p50_us !== undefined ? { free: r.latency } : r.latency;
  for (const [placement, latency] of Object.entries(byPlacement)) {
    for (const [label, l] of Object.entries(latency)) rows.push(row(`${label}, 4 KiB`, placement, l));
    for (const [size, kinds] of Object.entries(r.sizes?.[placement] ?? {}))
      for (const [label, l] of Object.entries(kinds)) rows.push(row(`${label}, ${size}`, placement, l));
  }
  if (r.floor_skipped) rows.push('', `FUSE floor: skipped (${r.floor_skipped}).`);
  rows.push('', '| 32 readers opening at once, 10 rounds | whole copies | round p50 |', '|---|---|---|');
  for (const [label, f] of Object.entries(r.fan_out))
    rows.push(`| ${label} | ${f.whole} of ${f.of} | ${f.round_p50_ms} ms |`);
  return rows;
}
