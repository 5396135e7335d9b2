/**
 * Serving a mount must not look like an edit to the watchers dev tools use. Every read swaps a fresh FIFO in at
 * the path; the new FIFO carries the first one's mtime (and a later atime), which is what chokidar and watchpack
 * compare. What a raw fs.watch still sees (directory entries renamed) is measured here and documented.
 */
import { type FSWatcher, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { watch as chokidarWatch } from 'chokidar';
import { expect, it } from 'vitest';
import { node } from '../helpers/daemon.js';
import { daemonSuite } from '../helpers/suite.js';

const suite = daemonSuite({ TOKEN: 'watch-value-1' });

it('100 served reads: no chokidar event for .env; fs.watch sees renames only, no change to .env', async () => {
  const daemon = suite();
  const dir = daemon.project('watched', 'TOKEN=envmount://TOKEN\n');
  expect((await daemon.cli(['add', dir, '--allow', 'any', '--agents', 'rules'])).code).toBe(0);
  const envPath = join(dir, '.env');

  // Like Vite: chokidar on the project root.
  const events: string[] = [];
  const chokidar = chokidarWatch(dir, { ignoreInitial: true, depth: 0 });
  await new Promise<void>((resolve) => chokidar.once('ready', () => resolve()));
  chokidar.on('all', (event, path) => {
    if (!path.includes('.envmount-')) events.push(`${event} ${path.slice(dir.length + 1)}`);
  });
  const raw: string[] = [];
  const watchers: FSWatcher[] = [
    watch(dir, (event, name) => raw.push(`dir ${event} ${name}`)),
    watch(envPath, (event) => raw.push(`file ${event}`)),
  ];
  try {
    const reads = await node(
      `const fs=require('fs');let n=0;for(let i=0;i<100;i++){if(fs.readFileSync(${JSON.stringify(envPath)},'utf8').includes('watch-value-1'))n++}process.stdout.write(String(n))`,
    );
    expect(reads.stdout).toBe('100');
    // Events of one watcher arrive in order: once the sentinel's arrive, every event of the reads has too.
    const sentinel = join(dir, 'sentinel.txt');
    const seen = Promise.all([
      new Promise<void>((resolve) => chokidar.on('add', (p) => p === sentinel && resolve())),
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (raw.includes('dir rename sentinel.txt')) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      }),
    ]);
    writeFileSync(sentinel, 'x');
    await seen;
    expect(events).toEqual(['add sentinel.txt']);
    // The residue, measured: directory renames of .env and the rotation name; never a change of .env's content.
    const envChanges = raw.filter((e) => e === 'dir change .env');
    expect(envChanges).toEqual([]);
    const renames = raw.filter((e) => e === 'dir rename .env').length;
    expect(renames).toBeGreaterThan(0);
    console.log(
      `fs.watch residue over 100 reads: ${renames} "rename .env" events on the directory, ${raw.filter((e) => e.startsWith('file')).length} events on the file watcher (it follows the first inode, gone after the first read)`,
    );
  } finally {
    for (const w of watchers) w.close();
    await chokidar.close();
  }
});
