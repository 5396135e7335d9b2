// Where the bench's processes run. On a 2-vCPU VM (Firecracker, this machine) a wake-up that lands on the other,
// idle vCPU costs a halt exit and an IPI through the host: the C floor reads a 1 KiB FIFO at p50 about 25 us with
// reader and server on one vCPU and 150-260 us on two, and a free run lands anywhere between the two from one round
// to the next. So the latency rounds run twice: `one core` (every process of the measurement, daemon threads
// included, pinned to CPU 0: all the work of a read is on the reader's clock and nothing else is measured) and
// `free` (the scheduler decides: what a user gets, hypervisor included). Targets are judged on `one core`.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Pins every thread of each process to `cpu` (taskset -a). Threads started later inherit the mask. */
export function pin(pids, cpu = 0) {
  for (const pid of pids) execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** Lets every thread of each process run on any CPU again. */
export function unpin(pids) {
  const all = `0-${availableParallelism() - 1}`;
  for (const pid of pids) execFileSync('taskset', ['-a', '-p', '-c', all, String(pid)], { stdio: 'ignore' });
}
