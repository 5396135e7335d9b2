/**
 * No reload loop: Vite's dev server on a mounted project, with a config that reads `.env` (the common `loadEnv`
 * pattern), does not restart while another process reads `.env` again and again (each read swaps a fresh pipe in at
 * the path; Vite restarts when it thinks an env file changed). Then an edit of the config, which Vite's watcher
 * reports after the reads' events, proves those were seen and ignored: the one restart is for the config.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { track, waitFor } from '../helpers/daemon.js';
import { daemonSuite } from '../helpers/suite.js';

const require = createRequire(import.meta.url);
const suite = daemonSuite({ VITE_TOKEN: 'vite-value-7' });

it('does not restart while .env is read 20 times; the one restart comes from a config edit after them', async () => {
  const daemon = suite();
  const dir = daemon.project('vite-app', 'VITE_TOKEN=envmount://VITE_TOKEN\n');
  expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
  const vite = pathToFileURL(require.resolve('vite')).href;
  const config = (note: string) => `import { defineConfig, loadEnv } from ${JSON.stringify(vite)};
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), '');
  console.log('config loaded, token ' + (env.VITE_TOKEN === 'vite-value-7' ? 'ok' : 'missing'));
  return {};
});
// ${note}
`;
  writeFileSync(join(dir, 'vite.config.mjs'), config('first'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  const viteBin = join(require.resolve('vite').split('/dist/')[0] ?? '', 'bin', 'vite.js');
  const server = track(
    spawn(process.execPath, [viteBin, '--port', '0', '--strictPort', 'false', '--clearScreen', 'false'], {
      cwd: dir,
      env: { ...daemon.env, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  server.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  server.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  try {
    await waitFor(() => out.includes('ready in'), 30_000);
    expect(out).toContain('config loaded, token ok');
    for (let i = 0; i < 20; i++) {
      expect(readFileSync(join(dir, '.env'), 'utf8')).toBe("VITE_TOKEN='vite-value-7'\n");
      // Paced a little, so that the reads' events do not all fall into one batch of the watcher.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Vite's watcher reports events of one directory in order: once it restarts for this edit, it has seen the
    // reads' events before it.
    writeFileSync(join(dir, 'vite.config.mjs'), config('second'));
    await waitFor(() => (out.match(/config loaded, token ok/g)?.length ?? 0) >= 2, 30_000);
    expect(out.match(/restarting server/g)).toHaveLength(1);
    expect(out).toContain('vite.config.mjs changed, restarting server');
    expect(out).not.toContain('.env changed');
  } finally {
    server.kill('SIGTERM');
  }
}, 90_000);
