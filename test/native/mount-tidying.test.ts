/**
 * A strict mount whose rotation names the user's own tidying removes while many readers read at once (`git clean
 * -x` racing a fan-out of `cat` and python readers): the removal of the spare before the exchange, or of the served
 * FIFO after it, is no foreign pipe. Every reader gets the whole content or nothing, none is left blocked, and the
 * mount goes on serving without a `foreign` or `displaced` event. No daemon: the engine through src/native/index.ts.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { killAll, startReader, waitFor } from '../helpers/daemon.js';
import { type Engine, engineThreads, startEngine } from '../helpers/engine.js';

const CONTENT = `TOKEN=${'t'.repeat(200)}-tidy-canary\n`;
const PYTHON = '/usr/bin/python3';

let dir: string;
let engine: Engine | undefined;
let cleaning = false; // the cleaner below runs while set
beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-tidy-');
});
afterEach(async () => {
  cleaning = false;
  await engine?.stop();
  engine = undefined;
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

it('rotation names removed while 40 readers read at once: whole content or nothing, and serving goes on', async () => {
  const path = join(dir, '.env');
  engine = startEngine(path, CONTENT);
  await waitFor(() => engineThreads() === 1 || undefined);
  // The user's cleaner, between the readers' turns: removes every rotation name it finds, until the reads end.
  cleaning = true;
  const cleaner = (async () => {
    while (cleaning) {
      const names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.name !== '.env');
      for (const entry of names) rmSync(join(dir, entry.name), { force: true });
      await sleep(2);
    }
  })();
  const outs = new Map<string, number>();
  for (let round = 0; round < 20; round++) {
    const readers = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? startReader('cat', [path])
        : startReader(PYTHON, ['-c', 'import sys;sys.stdout.write(open(sys.argv[1]).read())', path]),
    );
    for (const out of await Promise.all(readers.map((reader) => reader.done))) outs.set(out, (outs.get(out) ?? 0) + 1);
  }
  cleaning = false;
  await cleaner;
  expect([...outs.keys()].filter((out) => out !== CONTENT && out !== '')).toEqual([]);
  expect(outs.get(CONTENT)).toBeGreaterThan(0);
  expect(engine.events.filter((e) => e.type !== 'served')).toEqual([]);
  // Still serving once the cleaner is gone.
  const last = startReader('cat', [path]);
  expect(await last.done).toBe(CONTENT);
}, 120_000);
