#!/usr/bin/env node
// `npm run bench`: open-to-EOF latency (p50/p99) and sequential reads per second of a 4 KiB mounted .env, with
// policy `any` and with a rule that needs reader identification, side by side with a plain-file read of the same
// bytes measured in the same run. Writes bench/results.json.
// Not part of `npm test`: numbers depend on the machine; nothing here fails on a slow one.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { root, startSandbox } from '../scripts/sandbox.mjs';

const SAMPLES = 5000;
const WARMUP = 500;
const THROUGHPUT_MS = 2000;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function measure(path) {
  for (let i = 0; i < WARMUP; i++) readFileSync(path);
  const times = new Float64Array(SAMPLES);
  let bytes = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const t = process.hrtime.bigint();
    bytes = readFileSync(path).length;
    times[i] = Number(process.hrtime.bigint() - t) / 1e3;
  }
  times.sort();
  let reads = 0;
  const end = performance.now() + THROUGHPUT_MS;
  while (performance.now() < end) {
    readFileSync(path);
    reads++;
  }
  return {
    bytes,
    p50_us: +percentile(times, 50).toFixed(1),
    p99_us: +percentile(times, 99).toFixed(1),
    reads_per_s: Math.round(reads / (THROUGHPUT_MS / 1000)),
  };
}

const sandbox = await startSandbox('emb');
try {
  // 4 KiB rendered: `VALUE='` + value + `'\n` = 4096 bytes.
  const value = 'v'.repeat(4096 - "VALUE=''\n".length);
  sandbox.envmount(['set', 'VALUE', '--raw'], value);
  const project = join(sandbox.tmp, 'project');
  const identified = join(sandbox.tmp, 'identified');
  for (const [dir, policy] of [
    [project, ['--allow', 'any']],
    [identified, ['--allow', 'node', '--otherwise', 'deny']],
  ]) {
    mkdirSync(dir);
    writeFileSync(join(dir, '.env.op'), 'VALUE=envmount://VALUE\n');
    sandbox.envmount(['add', dir, ...policy]);
  }
  const plain = join(project, 'plain.env');
  writeFileSync(plain, readFileSync(join(project, '.env')));

  const mount = measure(join(project, '.env'));
  const ident = measure(join(identified, '.env'));
  const file = measure(plain);
  for (const r of [mount, ident]) if (r.bytes !== 4096) throw new Error(`expected 4096 bytes per read, got ${r.bytes}`);
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: process.platform,
    },
    samples: SAMPLES,
    mount_4k: mount,
    mount_4k_identified: ident,
    plain_file_4k: file,
    target: { p50_us: 300 },
  };
  writeFileSync(join(root, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`envmount bench (${results.machine.model}, ${results.machine.cpus} cores, node ${process.version})`);
  console.log('read of a 4 KiB .env      p50 (us)   p99 (us)   reads/s');
  for (const [name, r] of [
    ['mounted, policy any', mount],
    ['mounted, rule (identify)', ident],
    ['plain file', file],
  ]) {
    console.log(
      `${name.padEnd(24)} ${String(r.p50_us).padStart(9)} ${String(r.p99_us).padStart(10)} ${String(r.reads_per_s).padStart(9)}`,
    );
  }
  console.log(
    `target: mounted p50 under 300 us: ${mount.p50_us < 300 ? 'met' : `missed by ${(mount.p50_us - 300).toFixed(1)} us`}`,
  );
} finally {
  await sandbox.stop();
  sandbox.remove();
}
