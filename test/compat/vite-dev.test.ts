/**
 * No reload loop: Vite's dev server on a mounted project, with a config that reads `.env` (the common `loadEnv`
 * pattern), starts once and does not restart over 30 seconds, while another process reads `.env` every 1.5 s
 * (each read swaps a fresh pipe in at the path; Vite restarts when it thinks an env file changed).
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

it('starts once and does not restart over 30 s while .env is read every 1.5 s', async () => {
  const daemon = suite();
  const dir = daemon.project('vite-app', 'VITE_TOKEN=envmount://VITE_TOKEN\n');
  expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
  const vite = pathToFileURL(require.resolve('vite')).href;
  writeFileSync(
    join(dir, 'vite.config.mjs'),
    `import { defineConfig, loadEnv } from ${JSON.stringify(vite)};
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), '');
  console.log('config loaded, token ' + (env.VITE_TOKEN === 'vite-value-7' ? 'ok' : 'missing'));
  return {};
});
`,
  );
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
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    expect(out.match(/config loaded/g)).toHaveLength(1);
    expect(out).not.toMatch(/restart/i);
  } finally {
    server.kill('SIGTERM');
  }
}, 90_000);
