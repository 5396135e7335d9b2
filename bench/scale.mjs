// Scale: a daemon with N mounts. Resident memory, threads, CPU while idle, `status` latency, and the start-up time
// until every mount serves (from its registry, after a clean stop). `backend: 'fuse'` makes them FUSE mounts.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControlClient } from '../dist/control/client.js';
import { startSandbox } from '../scripts/sandbox.mjs';

const CLK_TCK = 100; // USER_HZ on Linux

function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rssKiB: field('VmRSS'), threads: field('Threads') };
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function withClient(socket, use) {
  const client = await ControlClient.connect(socket);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

async function allServing(socket, n) {
  return withClient(socket, async (client) => {
    const { mounts } = await client.request('status', {});
    return mounts.length === n && mounts.every((m) => m.state === 'serving');
  });
}

export async function scale(n, { idleMs, backend = 'fifo' }) {
  const sandbox = await startSandbox('emb-scale');
  const socket = join(sandbox.env.XDG_RUNTIME_DIR, 'envmount', 'envmountd.sock');
  try {
    const dirs = Array.from({ length: n }, (_, i) => join(sandbox.tmp, 'p', `project-${i}`));
    await withClient(socket, async (client) => {
      await client.request('set', { name: 'VALUE', valueBase64: Buffer.from('v'.repeat(32)).toString('base64') });
      for (const dir of dirs) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, '.env.op'), 'VALUE=envmount://VALUE\n');
        await client.request('add', { dir, allow: ['any'], agents: 'rules', backend });
      }
    });
    await sleep(5000); // let start-up work (V8 compiling, its idle-time GC) settle before measuring idle
    const pid = sandbox.pid;
    const { rssKiB, threads } = procStatus(pid);
    const before = cpuTicks(pid);
    await sleep(idleMs);
    const idleCpuPercent = ((cpuTicks(pid) - before) / CLK_TCK / (idleMs / 1000)) * 100;
    const statusTimes = [];
    await withClient(socket, async (client) => {
      for (let i = 0; i < 21; i++) {
        const t = performance.now();
        await client.request('status', {});
        statusTimes.push(performance.now() - t);
      }
    });
    statusTimes.sort((a, b) => a - b);

    // Start-up: spawn to "every mount is a pipe and `status` says serving", then one read of the last one.
    await sandbox.stop();
    const t0 = performance.now();
    await sandbox.restart();
    const spawnedToReady = performance.now() - t0;
    const served = (st) => (backend === 'fuse' ? st?.isFile() : st?.isFIFO());
    while (!dirs.every((dir) => served(statSync(join(dir, '.env'), { throwIfNoEntry: false })))) await sleep(5);
    while (!(await allServing(socket, n))) await sleep(10);
    const startupMs = performance.now() - t0;
    const last = readFileSync(join(dirs[n - 1], '.env'), 'utf8');
    if (!last.includes('VALUE=')) throw new Error('the last mount did not serve after start-up');
    return {
      mounts: n,
      backend,
      rss_mib: +(rssKiB / 1024).toFixed(1),
      threads,
      idle_cpu_percent: +idleCpuPercent.toFixed(2),
      status_p50_ms: +(statusTimes[10] ?? 0).toFixed(2),
      startup_ms: Math.round(startupMs),
      daemon_ready_ms: Math.round(spawnedToReady),
    };
  } finally {
    await sandbox.stop().catch(() => undefined);
    sandbox.remove();
  }
}
