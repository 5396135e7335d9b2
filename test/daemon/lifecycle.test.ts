/** Start, stop, crash and restart; other users; importing a plaintext .env. */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { blockedInFifoOpen, killAll, listDir, node, run, TestDaemon, track } from '../helpers/daemon.js';

const NOBODY = 65534;
let daemon: TestDaemon | undefined;

afterEach(async () => {
  await killAll();
  await daemon?.dispose();
  daemon = undefined;
});

async function started(): Promise<TestDaemon> {
  daemon = new TestDaemon();
  await daemon.start();
  await daemon.cli(['set', 'TOKEN'], { input: 'tok-value' });
  return daemon;
}

/** A `cat` of the path that is running (and so blocked in open() while no daemon serves). */
function blockedReader(path: string) {
  const child = track(spawn('cat', [path], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const done = new Promise<string>((resolve) => child.on('close', () => resolve(out)));
  return { child, done };
}

describe('lifecycle', () => {
  it('a clean stop removes every FIFO (readers get ENOENT), and a start puts them back from the registry', async () => {
    const d = await started();
    const a = d.project('a', 'A=envmount://TOKEN\n');
    const b = d.project('b', 'B=envmount://TOKEN\n');
    await d.cli(['add', a, '--allow', 'any']);
    await d.cli(['add', b, '--allow', 'any']);
    await run('cat', [join(a, '.env')]);
    expect(await d.stop()).toBe(0);
    expect(listDir(a)).toEqual(['.env.op']);
    expect(listDir(b)).toEqual(['.env.op']);
    expect((await run('cat', [join(a, '.env')])).stderr).toMatch(/No such file/);
    expect(readFileSync(join(d.dirs.state, 'envmount', 'registry.json'), 'utf8')).not.toContain('tok-value');
    await d.start();
    expect((await run('cat', [join(a, '.env')])).stdout).toBe("A='tok-value'\n");
    expect((await run('cat', [join(b, '.env')])).stdout).toBe("B='tok-value'\n");
  });

  it('after kill -9, the FIFO left behind is reclaimed and a reader blocked on it is served', async () => {
    const d = await started();
    const dir = d.project('k', 'A=envmount://TOKEN\n');
    await d.cli(['add', dir, '--allow', 'any']);
    expect(await d.stop('SIGKILL')).toBe(null);
    expect(lstatSync(join(dir, '.env')).isFIFO()).toBe(true);
    const reader = blockedReader(join(dir, '.env'));
    await blockedInFifoOpen(reader.child.pid ?? 0);
    await d.start();
    expect(await reader.done).toBe("A='tok-value'\n");
    // Beside the FIFO, the one the mount made in advance for its next read; the killed daemon's was removed.
    expect(listDir(dir)).toEqual(['.env', '.env.op', expect.stringMatching(/^\.~\.env\.envmount-swap-[0-9a-f]{16}$/)]);
    expect(d.log).toContain('"msg":"mount reclaimed"');
  });

  it('a reader of another uid is refused by the file mode and never reaches the daemon', async () => {
    const d = await started();
    const dir = d.project('mode', 'A=envmount://TOKEN\n');
    await d.cli(['add', dir, '--allow', 'any']);
    expect(lstatSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    // Let the other user reach the directory, so that the FIFO's own mode is what refuses.
    for (const p of [d.root, d.dirs.projects, dir]) chmodSync(p, 0o755);
    const result = await run('cat', [join(dir, '.env')], { uid: NOBODY, gid: NOBODY, timeoutMs: 5000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Permission denied/);
    const status = JSON.parse((await d.cli(['--json', 'status'])).stdout);
    expect(status.mounts[0].reads).toBe(0);
  });

  it('a control connection from another uid is refused by the peer check', async () => {
    const d = await started();
    // Open the way for the test only: the socket directory is 0700 and would stop the other user first.
    for (const p of [d.root, d.dirs.runtime, join(d.dirs.runtime, 'envmount')]) chmodSync(p, 0o711);
    chmodSync(d.socketPath, 0o666);
    const result = await node(
      `const s=require('net').createConnection(${JSON.stringify(d.socketPath)});s.setEncoding('utf8');
       s.on('data',(t)=>{process.stdout.write(t);s.destroy()});
       s.write(JSON.stringify({v:1,id:1,method:'vars',params:{}})+'\\n')`,
      { uid: NOBODY, gid: NOBODY, timeoutMs: 5000 },
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(result.stdout).not.toContain('TOKEN');
    expect(d.log).toContain('refused a connection from another user');
  });

  it('import moves a plaintext .env into the store and mounts it in its place', async () => {
    const d = await started();
    const dir = d.project('imp');
    const plaintext = 'API_KEY=sk-imported\nexport QUOTED="two words"\n# comment\nMULTI=\'a\nb\'\n';
    writeFileSync(join(dir, '.env'), plaintext);
    const result = await d.cli(['import', dir, '--allow', 'any']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('envmount://imp/API_KEY');
    expect(lstatSync(join(dir, '.env')).isFIFO()).toBe(true);
    expect(readFileSync(join(dir, '.env.op'), 'utf8')).toContain('API_KEY=envmount://imp/API_KEY\n');
    expect(readFileSync(join(dir, '.env.op'), 'utf8')).not.toContain('sk-imported');
    expect((await run('cat', [join(dir, '.env')])).stdout).toBe(
      "API_KEY='sk-imported'\nQUOTED='two words'\nMULTI='a\nb'\n",
    );
    expect((await d.cli(['vars'])).stdout.split('\n')).toContain('imp/MULTI');
  });

  it('import refuses when a template exists, leaving the plaintext file as it was', async () => {
    const d = await started();
    const dir = d.project('imp2', 'A=envmount://TOKEN\n');
    writeFileSync(join(dir, '.env'), 'SECRET=stay\n');
    const result = await d.cli(['import', dir, '--allow', 'any']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('already exists');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('SECRET=stay\n');
    expect((await d.cli(['vars'])).stdout).not.toContain('imp2/');
  });

  it('remove deletes the FIFO and keeps the template', async () => {
    const d = await started();
    const dir = d.project('rm', 'A=envmount://TOKEN\n');
    await d.cli(['add', dir, '--allow', 'any']);
    expect((await d.cli(['remove', dir])).code).toBe(0);
    expect(existsSync(join(dir, '.env'))).toBe(false);
    expect(listDir(dir)).toEqual(['.env.op']);
    expect((await d.cli(['remove', dir])).stderr).toContain('is not mounted');
  });
});
