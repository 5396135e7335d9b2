// Decided reads under load (issue 17): p50 of a 4 KiB mount with a rule (`--allow node --otherwise deny`), FIFO and
// FUSE, with 0 and with `extra` more processes of the user each holding `fds` open files (bench/sleeper.c). A FIFO
// rule read scans /proc for the reader, so it grows with the process count; FUSE is told the reader's pid.
// Skips FUSE (fuse: { skipped }) where `envmount add --backend fuse` cannot mount.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, startSandbox } from '../scripts/sandbox.mjs';
import { rounds } from './latency.mjs';

const BYTES = 4096;
const SAMPLES = { fifo: 100, fuse: 400 };

/** Starts `count` sleepers holding `fds` files each; resolves once all have opened them. */
async function startSleepers(binary, count, fds) {
  const kids = [];
  const ready = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(binary, [String(fds)], { stdio: ['ignore', 'pipe', 'ignore'] });
    kids.push(child);
    ready.push(
      new Promise((resolve, reject) => {
        child.stdout.once('data', resolve);
        child.once('exit', (code) => reject(new Error(`sleeper exited ${code}`)));
        child.once('error', reject);
      }),
    );
  }
  try {
    await Promise.all(ready);
  } catch (error) {
    stopSleepers(kids);
    throw error;
  }
  return kids;
}

function stopSleepers(kids) {
  for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
}

export async function decidedUnderLoad({ extra = 600, fds = 50, rounds: n = 5 } = {}) {
  const binary = join(root, 'build', 'bench-sleeper');
  execFileSync('cc', ['-O2', '-Wall', '-o', binary, join(root, 'bench', 'sleeper.c')]);
  const sandbox = await startSandbox('emp');
  let kids = [];
  try {
    const name = 'VALUE_PROCS';
    sandbox.envmount(['set', name, '--raw'], 'v'.repeat(BYTES - `${name}='${''}'\n`.length));
    const paths = {};
    let fuseSkipped;
    for (const backend of ['fifo', 'fuse']) {
      const dir = join(sandbox.tmp, `${backend}-rule`);
      mkdirSync(dir);
      writeFileSync(join(dir, '.env.op'), `${name}=envmount://${name}\n`);
      try {
        sandbox.envmount(['add', dir, '--backend', backend, '--allow', 'node', '--otherwise', 'deny']);
        paths[backend] = join(dir, '.env');
      } catch (error) {
        if (backend !== 'fuse') throw error;
        fuseSkipped = String(error.message).split('\n')[0];
      }
    }
    const measure = () => rounds(paths, { rounds: n, samples: SAMPLES, bytes: BYTES, base: 'fifo' });
    process.stderr.write('  decided reads, no extra processes\n');
    const none = measure();
    process.stderr.write(`  starting ${extra} sleepers with ${fds} open files each\n`);
    kids = await startSleepers(binary, extra, fds);
    process.stderr.write(`  decided reads, ${extra} extra processes\n`);
    const loaded = measure();
    const out = { extra_processes: extra, fds_each: fds };
    for (const backend of Object.keys(paths)) {
      out[backend] = {
        p50_us_0: none[backend].p50_us,
        [`p50_us_${extra}`]: loaded[backend].p50_us,
        ratio: +(loaded[backend].p50_us / none[backend].p50_us).toFixed(2),
      };
    }
    if (fuseSkipped) out.fuse = { skipped: fuseSkipped };
    return out;
  } finally {
    stopSleepers(kids);
    await sandbox.stop();
    sandbox.remove();
  }
}

/** The README lines for these results. */
export function procsTable(r) {
  if (!r) return ['Decided reads under load: not run.'];
  const n = r.extra_processes;
  const rows = [
    `| 4 KiB with a rule, open to EOF | p50, 0 extra processes | p50, ${n} extra processes (${r.fds_each} open files each) | ratio |`,
    '|---|---|---|---|',
  ];
  for (const backend of ['fifo', 'fuse']) {
    const b = r[backend];
    if (!b || b.skipped) rows.push(`| ${backend} | skipped (${b?.skipped ?? 'not run'}) | | |`);
    else rows.push(`| ${backend} | ${b.p50_us_0} us | ${b[`p50_us_${n}`]} us | ${b.ratio}x |`);
  }
  return rows;
}
