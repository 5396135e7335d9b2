#!/usr/bin/env node
// `npm run bench`: the whole suite in one run (about 2 minutes). Serve latency for 1, 4 and 60 KiB against a C
// floor built here (bench/floor.c) and a plain file, throughput, scale (1, 100, 1000 mounts), the cold path and
// masking. Writes bench/results.json and bench/results.svg, prints a table, and puts the table in the README.
// `node bench/run.mjs --serve-only` (after `npm run build`): serve latency and throughput only, printed.
// `node bench/run.mjs --fuse-load-only`: decided reads with 600 extra processes and 1000 FUSE mounts only, merged
// into the last bench/results.json and the README.
// Not part of `npm test`: nothing here fails on a slow machine; a missed target is reported with by how much.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { root, startSandbox } from '../scripts/sandbox.mjs';
import { chart } from './chart.mjs';
import { coldPath } from './cold.mjs';
import { fuseTable, fuseVsFifo } from './fuse.mjs';
import { parallel, rounds, sequential } from './latency.mjs';
import { masking } from './mask.mjs';
import { pin, unpin } from './placement.mjs';
import { decidedUnderLoad, procsTable } from './procs.mjs';
import { scale } from './scale.mjs';

const SIZES = { '1 KiB': 1024, '4 KiB': 4096, '60 KiB': 60 * 1024 };
// Per round; ROUNDS rounds alternate the floor, the daemon and a plain file (the ratios are medians of rounds).
const SAMPLES = { floor: 400, any: 400, identified: 80, plain: 400 };
const ROUNDS = 9;
const log = (line) => process.stderr.write(`${line}\n`);
const ratio = (a, b) => +(a / b).toFixed(2);

/** Starts the C floor serving `content` at `path`; resolves with its process once the FIFO is there. */
function startFloor(binary, path, contentFile) {
  const child = spawn(binary, [path, contentFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`floor exited ${code}`)));
  });
}

async function serveBench(floorBinary) {
  const sandbox = await startSandbox('emb');
  const floors = [];
  try {
    const out = {};
    const free = {};
    for (const [size, bytes] of Object.entries(SIZES)) {
      // The rendered line is `VALUE='...'\n`: the value makes it exactly `bytes` long.
      const name = `VALUE_${bytes}`;
      const line = (v) => `${name}='${v}'\n`;
      sandbox.envmount(['set', name, '--raw'], 'v'.repeat(bytes - line('').length));
      const dirs = { any: join(sandbox.tmp, `any-${bytes}`), identified: join(sandbox.tmp, `id-${bytes}`) };
      for (const [kind, dir] of Object.entries(dirs)) {
        mkdirSync(dir);
        writeFileSync(join(dir, '.env.op'), `${name}=envmount://${name}\n`);
        const policy =
          kind === 'any' ? ['--allow', 'any', '--agents', 'rules'] : ['--allow', 'node', '--otherwise', 'deny'];
        sandbox.envmount(['add', dir, ...policy]);
      }
      const plain = join(sandbox.tmp, `plain-${bytes}.env`);
      writeFileSync(plain, readFileSync(join(dirs.any, '.env')));
      const floorPath = join(sandbox.tmp, `floor-${bytes}.env`);
      floors.push(await startFloor(floorBinary, floorPath, plain));
      const paths = { floor: floorPath, any: join(dirs.any, '.env'), identified: join(dirs.identified, '.env'), plain };
      // One core first (what the targets are judged on), then free placement: bench/placement.mjs says why.
      const measured = [sandbox.pid, floors.at(-1).pid, process.pid];
      log(`  latency ${size}, one core: ${ROUNDS} rounds of floor, any, identified, plain`);
      pin(measured);
      try {
        out[size] = rounds(paths, { rounds: ROUNDS, samples: SAMPLES, bytes, base: 'floor' });
      } finally {
        unpin(measured);
      }
      log(`  latency ${size}, free: ${ROUNDS} rounds`);
      free[size] = rounds(paths, { rounds: ROUNDS, samples: SAMPLES, bytes, base: 'floor' });
    }
    log('  throughput');
    const fourK = join(sandbox.tmp, 'any-4096', '.env');
    const eight = [];
    for (let i = 0; i < 8; i++) {
      const dir = join(sandbox.tmp, `par-${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, '.env.op'), 'VALUE_4096=envmount://VALUE_4096\n');
      sandbox.envmount(['add', dir, '--allow', 'any', '--agents', 'rules']);
      eight.push(join(dir, '.env'));
    }
    const throughput = {
      sequential_reads_s: sequential(fourK, 3000),
      floor_sequential_reads_s: sequential(join(sandbox.tmp, 'floor-4096.env'), 3000),
      eight_readers_eight_mounts_reads_s: await parallel(eight, 3000),
    };
    return { latency: out, latency_free: free, throughput };
  } finally {
    for (const f of floors) f.kill('SIGTERM');
    await sandbox.stop();
    sandbox.remove();
  }
}

function targets(r) {
  const t = [];
  const add = (name, measured, limit, unit, lowerIsBetter = true) => {
    const met = lowerIsBetter ? measured <= limit : measured >= limit;
    const by = lowerIsBetter ? ratio(measured, limit) : ratio(limit, measured);
    t.push({ target: name, limit, measured, unit, met, missed_by: met ? undefined : `${by}x` });
  };
  for (const size of Object.keys(SIZES)) {
    add(`p50 ${size}, policy any, vs floor (one core)`, r.latency[size].any.vs_floor, 1.2, 'x');
    add(`p50 ${size}, identified, vs floor (one core)`, r.latency[size].identified.vs_floor, 5, 'x');
  }
  const big = r.scale.find((s) => s.mounts === 1000);
  if (big) {
    add('1000 mounts: RSS', big.rss_mib, 150, 'MiB');
    add('1000 mounts: idle CPU', big.idle_cpu_percent, 1, '% of a core');
    add('1000 mounts: all serving after start', big.startup_ms, 2000, 'ms');
    add('1000 mounts: resident per mount thread', r.per_mount_kib, 64, 'KiB');
  }
  const fuseBig = r.fuse_scale?.find((s) => s.mounts === 1000);
  if (fuseBig) {
    add('1000 FUSE mounts: RSS', fuseBig.rss_mib, 150, 'MiB');
    add('1000 FUSE mounts: idle CPU', fuseBig.idle_cpu_percent, 1, '% of a core');
    add('1000 FUSE mounts: all serving after start', fuseBig.startup_ms, 2000, 'ms');
  }
  if (r.decided_under_load?.fuse?.ratio !== undefined)
    add('FUSE decided p50, 600 extra processes vs none', r.decided_under_load.fuse.ratio, 1.5, 'x');
  const fuseOne = r.fuse?.latency?.['one core'];
  if (fuseOne?.['fuse any']?.['vs_fuse floor'] !== undefined) {
    add('FUSE p50 4 KiB, policy any, vs FUSE floor (one core)', fuseOne['fuse any']['vs_fuse floor'], 1.2, 'x');
    for (const [size, k] of Object.entries(r.fuse.sizes?.['one core'] ?? {}))
      if (k['fuse any']?.['vs_fuse floor'] !== undefined)
        add(`FUSE p50 ${size}, policy any, vs FUSE floor (one core)`, k['fuse any']['vs_fuse floor'], 1.2, 'x');
  }
  add('sequential reads/s', r.throughput.sequential_reads_s, 3000, 'reads/s', false);
  return t;
}

function table(r) {
  const rows = [
    '| read, open to EOF | C floor p50 / p99 | envmount `any` p50 / p99 (median of round ratios) | with a rule p50 / p99 | plain file p50 |',
    '|---|---|---|---|---|',
  ];
  for (const [placement, latency] of [
    ['one core', r.latency],
    ['free', r.latency_free ?? {}],
  ]) {
    for (const [size, k] of Object.entries(latency)) {
      rows.push(
        `| ${size}, ${placement} | ${k.floor.p50_us} / ${k.floor.p99_us} us | ${k.any.p50_us} / ${k.any.p99_us} us (${k.any.vs_floor}x) | ${k.identified.p50_us} / ${k.identified.p99_us} us (${k.identified.vs_floor}x) | ${k.plain.p50_us} us |`,
      );
    }
  }
  rows.push(
    '',
    '| mounts | RSS | threads | idle CPU (10 s) | start until all serve | `status` p50 |',
    '|---|---|---|---|---|---|',
  );
  for (const s of r.scale) {
    rows.push(
      `| ${s.mounts} | ${s.rss_mib} MiB | ${s.threads} | ${s.idle_cpu_percent}% of a core | ${s.startup_ms} ms | ${s.status_p50_ms} ms |`,
    );
  }
  for (const s of r.fuse_scale ?? []) {
    rows.push(
      `| ${s.mounts} FUSE | ${s.rss_mib} MiB | ${s.threads} | ${s.idle_cpu_percent}% of a core (over ${s.idle_s} s) | ${s.startup_ms} ms | ${s.status_p50_ms} ms |`,
    );
  }
  const tp = r.throughput;
  rows.push(
    '',
    `Sequential reads of a 4 KiB mount: ${tp.sequential_reads_s}/s (C floor: ${tp.floor_sequential_reads_s}/s); 8 readers on 8 mounts at once: ${tp.eight_readers_eight_mounts_reads_s}/s in all.`,
    `Cold path: \`envmountd start\` to the first byte served ${r.cold.start_to_first_byte_ms} ms; a template edit reaches the next reader in ${r.cold.template_edit_to_reader_ms} ms; after a kill -9, a reader waiting on the pipe is served ${r.cold.crash_to_waiting_reader_served_ms} ms after the next daemon was spawned.`,
    `Masking (\`envmount run\`, ${r.masking.secrets} values): ${r.masking.with_values_mb_s} MB/s with a value every 200 lines, ${r.masking.without_values_mb_s} MB/s with none.`,
    `Resident memory per mount (1000 vs 1 mount): ${r.per_mount_kib} KiB.`,
    '',
    ...fuseTable(r.fuse),
    '',
    ...procsTable(r.decided_under_load),
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...r.targets.map(
      (t) =>
        `| ${t.target} under ${t.limit} ${t.unit} | ${t.measured} ${t.unit} | ${t.met ? 'yes' : `no, by ${t.missed_by}`} |`,
    ),
  );
  return rows.join('\n').replaceAll('under 3000 reads/s', 'at least 3000 reads/s');
}

/** Decided reads with 600 extra processes, and 1000 FUSE mounts (issue 17). */
async function fuseLoad() {
  log('decided reads under load');
  const decided = await decidedUnderLoad({ extra: 600, fds: 50 });
  log('  1000 FUSE mounts');
  const big = await scale(1000, { idleMs: 5_000, backend: 'fuse' });
  return { decided_under_load: decided, fuse_scale: [{ ...big, idle_s: 5 }] };
}

const started = performance.now();
const load = () => spawnSync('uptime', [], { encoding: 'utf8' }).stdout.trim();
const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}`;
log(`envmount bench on ${machine}`);
const floorBinary = join(root, 'build', 'bench-floor');
execFileSync('cc', ['-O2', '-Wall', '-o', floorBinary, join(root, 'bench', 'floor.c')]);
if (process.argv.includes('--fuse-load-only')) {
  const loadBefore = load();
  const merged = { ...JSON.parse(readFileSync(join(root, 'bench', 'results.json'), 'utf8')), ...(await fuseLoad()) };
  merged.fuse_load = { date: new Date().toISOString(), uptime_before: loadBefore, uptime_after: load() };
  merged.targets = targets(merged);
  writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(merged, null, 2)}\n`);
  writeReadme(merged);
  process.exit(0);
}
log('serve latency and throughput');
const serve = await serveBench(floorBinary);
if (process.argv.includes('--serve-only')) {
  // A quick look while working on the serve path: nothing written, the latency and throughput printed.
  console.log(JSON.stringify(serve, null, 1));
  process.exit(0);
}
log('FUSE vs FIFO');
const fuse = await fuseVsFifo();
log('scale');
const scaleResults = [];
for (const n of [1, 100, 1000]) {
  log(`  ${n} mounts`);
  scaleResults.push(await scale(n, { idleMs: 10_000 }));
}
log('cold path');
const cold = await coldPath({ rounds: 5 });
const loadMid = load();
const extraFuse = await fuseLoad();
log('masking');
const mask = masking();
const one = scaleResults.find((s) => s.mounts === 1);
const thousand = scaleResults.find((s) => s.mounts === 1000);
const results = {
  date: new Date().toISOString(),
  machine,
  ...serve,
  scale: scaleResults,
  per_mount_kib: one && thousand ? Math.round(((thousand.rss_mib - one.rss_mib) * 1024) / 999) : undefined,
  cold,
  masking: mask,
  fuse,
  ...extraFuse,
  fuse_load: { date: new Date().toISOString(), uptime_before: loadMid, uptime_after: load() },
};
results.targets = targets(results);
results.seconds = Math.round((performance.now() - started) / 1000);
writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(root, 'bench', 'results.svg'), chart(results.latency, machine));
writeReadme(results);
log(`done in ${results.seconds} s: bench/results.json, bench/results.svg, README.md`);

/** Puts the table between the README's bench markers, and prints it. */
function writeReadme(r) {
  const text = table(r);
  const readme = join(root, 'README.md');
  const marked = /<!-- bench:begin -->[\s\S]*<!-- bench:end -->/;
  const fl = r.fuse_load;
  const loadNote = fl
    ? `\n\nFUSE load parts (${fl.date.slice(0, 16)}Z), machine load before: \`${fl.uptime_before}\`; after: \`${fl.uptime_after}\`.`
    : '';
  const section = `<!-- bench:begin -->\nLatest run (${r.date.slice(0, 10)}, ${r.machine}; ${r.seconds} s):${loadNote}\n\n![serve latency](bench/results.svg)\n\n${text}\n<!-- bench:end -->`;
  const current = readFileSync(readme, 'utf8');
  if (marked.test(current)) writeFileSync(readme, current.replace(marked, section));
  console.log(text);
}
