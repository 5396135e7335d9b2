/**
 * `envmount service` under a real systemd user manager: scripts/with-user-systemd.sh starts `systemd --user` in a
 * private mount namespace (root and systemd needed; skipped with the reason otherwise). The manager's control
 * socket and the daemon's socket live in the test's runtime directory, so systemctl and envmount reach them from
 * here. The unit runs with its full sandbox, and each feature it could break is used under it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, killAll, ROOT, run, startReader, TestDaemon, track, waitFor } from '../helpers/daemon.js';
import { MCP_COMMAND } from '../helpers/mcp.js';

const WRAPPER = join(ROOT, 'scripts/with-user-systemd.sh');
const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'systemd is Linux only';
  if (process.getuid?.() !== 0) return 'needs root (the user manager runs in a private mount namespace)';
  if (!existsSync('/lib/systemd/systemd') || !has('systemctl'))
    return 'systemd is not installed (apt-get install systemd)';
  if (!has('unshare')) return 'unshare (util-linux) is not installed';
  return undefined;
}
const skip = skipReason();

describe.skipIf(skip !== undefined)(
  skip ? `real systemd user manager: skipped, ${skip}` : 'a real systemd user manager',
  () => {
    const d = new TestDaemon();
    const cleanups: Array<() => void> = [];
    let manager: ChildProcess | undefined;
    const cli = (args: string[], input?: string) => d.cli(args, input === undefined ? {} : { input });
    const systemctl = (...args: string[]) => run('systemctl', ['--user', ...args], { env: d.env });
    const show = async (props: string) => {
      const out = (await systemctl('show', 'envmountd.service', '-p', props)).stdout;
      return Object.fromEntries(
        out
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    };
    const unitDir = join(d.dirs.config, 'systemd/user');

    beforeAll(async () => {
      manager = track(
        spawn(WRAPPER, ['sh', '-c', 'echo ready; exec cat'], { env: d.env, stdio: ['pipe', 'pipe', 'pipe'] }),
      );
      let said = '';
      manager.stderr?.on('data', (b: Buffer) => {
        said += b.toString();
      });
      await new Promise<void>((resolve, reject) => {
        manager?.stdout?.once('data', () => resolve());
        manager?.once('exit', (code) => reject(new Error(`with-user-systemd exited ${code}: ${said}`)));
      });
    }, 60_000);

    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) cleanup();
      // Its stdin closed, the wrapper stops the manager, which stops the daemon (and its pipes go).
      const m = manager;
      if (m && m.exitCode === null) {
        const exited = new Promise((resolve) => m.once('exit', resolve));
        m.stdin?.end();
        const timer = setTimeout(() => m.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      await killAll();
      await d.dispose();
    }, 60_000);

    it('install returns once the daemon answers: set, add and a read right after it succeed', async () => {
      const install = await cli(['service', 'install']);
      expect(install.stderr).toBe('');
      expect(install.code).toBe(0);
      expect(install.stdout).toMatch(/installed as a systemd user service and answers \(pid \d+\)/);
      expect(await show('Type,ActiveState,NotifyAccess')).toMatchObject({
        Type: 'notify',
        ActiveState: 'active',
        NotifyAccess: 'main',
      });
      expect((await cli(['set', 'A'], 'first-value')).code).toBe(0);
      const dir = d.project('svc', 'A=envmount://A\n');
      expect((await cli(['add', dir, '--allow', 'any'])).code).toBe(0);
      const read = await run('cat', [join(dir, '.env')], { timeoutMs: 10_000 });
      expect(read.stdout).toContain('first-value');
    });

    it('the unit it wrote keeps its exposure score (`systemd-analyze --user security`) at 6.0 or lower', async () => {
      const result = await run('systemd-analyze', ['--user', 'security', 'envmountd.service', '--no-pager'], {
        env: d.env,
      });
      const score = Number(/exposure level for envmountd\.service: ([\d.]+)/.exec(result.stdout)?.[1]);
      expect(score).toBeGreaterThan(0);
      // 9.1 before the sandbox; what keeps it above 5.0 is listed, with its measured reason, in the unit.
      expect(score).toBeLessThanOrEqual(6.0);
      expect(readFileSync(join(unitDir, 'envmountd.service'), 'utf8')).toMatch(/^SystemCallFilter=@system-service$/m);
    });

    it('under the sandbox: a pipe outside /tmp, `run`, `mcp`', async () => {
      const other = mkdtempSync('/var/tmp/emt-svc-');
      cleanups.push(() => rmSync(other, { recursive: true, force: true }));
      writeFileSync(join(other, '.env.op'), 'A=envmount://A\n');
      expect((await cli(['add', other, '--allow', 'any'])).code).toBe(0);
      expect((await run('cat', [join(other, '.env')], { timeoutMs: 10_000 })).stdout).toContain('first-value');
      expect((await cli(['remove', other])).code).toBe(0);

      const dir = join(d.dirs.projects, 'svc');
      const check = `process.exit(process.env.A === 'first-value' ? 0 : 1)`;
      const ran = await d.cli(['run', '--', process.execPath, '-e', check], { cwd: dir });
      expect(ran.stderr).toBe('');
      expect(ran.code).toBe(0);

      const client = new Client({ name: 'test', version: '1.0.0' });
      await client.connect(
        new StdioClientTransport({ ...MCP_COMMAND, cwd: dir, env: d.env as Record<string, string> }),
      );
      try {
        const result = await client.callTool({ name: 'list_local_env_files', arguments: {} });
        expect(result.isError).not.toBe(true);
        expect(JSON.stringify(result.content)).toContain(join(dir, '.env'));
      } finally {
        await client.close();
      }
    }, 60_000);

    it('the sandbox lets Node reach the network (1Password) and start programs (op, the dialog)', async () => {
      // The unit's own [Service] directives, applied to a transient unit that runs a probe instead of the daemon.
      const unit = readFileSync(join(unitDir, 'envmountd.service'), 'utf8');
      const service = unit.slice(unit.indexOf('[Service]'), unit.indexOf('[Install]'));
      const props = service
        .split('\n')
        .filter((l) => /^[A-Z]\w+=/.test(l) && !/^(Type|NotifyAccess|Exec\w+|Restart\w*|Kill\w+|Timeout\w+)=/.test(l))
        .flatMap((l) => ['-p', l]);
      const probe = `
      const dns = require('node:dns'); const net = require('node:net'); const cp = require('node:child_process');
      cp.execFileSync('/bin/sh', ['-c', 'true']);
      dns.lookup('localhost', (e) => {
        if (e) { console.log('dns ' + e.code); process.exit(1); }
        const s = net.connect(__PORT__, '127.0.0.1', () => { console.log('connected'); s.end(); });
        s.on('error', (err) => { console.log('tcp ' + err.code); process.exit(1); });
      });`;
      // A TCP listener out here stands in for 1Password's servers (no network needed): INET must be allowed.
      const server = (await import('node:net')).createServer((s) => s.end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = String((server.address() as { port: number }).port);
        const result = await run(
          'systemd-run',
          ['--user', '--wait', '--pipe', '--quiet', ...props, process.execPath, '-e', probe.replace('__PORT__', port)],
          { env: d.env, timeoutMs: 30_000 },
        );
        expect(result.stdout.trim()).toBe('connected');
        expect(result.code).toBe(0);
      } finally {
        server.close();
      }
    }, 60_000);

    it.runIf(has('Xvfb') && has('zenity') && has('xdotool'))(
      'approvals on a desktop: the daemon in the sandbox opens the dialog on the display',
      async () => {
        const display = `:${70 + (process.pid % 20)}`;
        const x = track(spawn('Xvfb', [display, '-nolisten', 'tcp'], { stdio: 'ignore' }));
        cleanups.push(() => x.kill('SIGKILL'));
        const xenv = { ...process.env, DISPLAY: display };
        await waitFor(
          () => spawnSync('xdotool', ['getmouselocation'], { env: xenv }).status === 0 || undefined,
          20_000,
        );
        expect((await systemctl('set-environment', `DISPLAY=${display}`)).code).toBe(0);
        cleanups.push(() => spawnSync('systemctl', ['--user', 'unset-environment', 'DISPLAY'], { env: d.env }));
        expect((await systemctl('restart', 'envmountd.service')).code).toBe(0);
        const dir = d.project('ask', 'A=envmount://A\n');
        expect((await cli(['add', dir])).code).toBe(0);
        const reader = startReader('cat', [join(dir, '.env')]);
        const timer = setTimeout(() => reader.child.kill('SIGKILL'), 40_000);
        try {
          // zenity, started by the daemon inside the sandbox, shows its window on the X server.
          await waitFor(
            () =>
              spawnSync('xdotool', ['search', '--name', '^envmount: allow this read'], { env: xenv }).status === 0 ||
              undefined,
            30_000,
          );
          const pending = JSON.parse((await cli(['--json', 'approvals'])).stdout) as Array<{ id: number }>;
          expect(pending).toHaveLength(1);
          // Approving needs a terminal: `script` gives the CLI one, and "y" answers its confirmation.
          const approved = await run(
            'script',
            ['-qec', `${process.execPath} ${CLI} approve ${pending[0]?.id}`, '/dev/null'],
            {
              env: d.env,
              input: 'y\n',
            },
          );
          expect(approved.stdout).toContain('Approved /usr/bin/cat');
          expect(await reader.done).toContain('first-value');
          // Answered elsewhere, the dialog is closed by the daemon.
          await waitFor(
            () =>
              spawnSync('xdotool', ['search', '--name', '^envmount: allow this read'], { env: xenv }).status !== 0 ||
              undefined,
            20_000,
          );
        } finally {
          clearTimeout(timer);
        }
        expect((await cli(['remove', dir])).code).toBe(0);
      },
      90_000,
    );

    it('kill -9: systemd restarts the daemon, and a reader that waited across the crash is served', async () => {
      const dir = join(d.dirs.projects, 'svc');
      const before = await show('MainPID,NRestarts');
      const pid = Number(before.MainPID);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !existsSync(`/proc/${pid}`) || undefined);
      // The pipe stays (a crash is not a stop); a reader now waits for the next daemon.
      const reader = startReader('cat', [join(dir, '.env')]);
      const timer = setTimeout(() => reader.child.kill('SIGKILL'), 30_000);
      try {
        // Not serving: the unit is between the crash and the next daemon's READY=1.
        expect(['deactivating', 'activating']).toContain((await show('ActiveState')).ActiveState);
        expect(await reader.done).toContain('first-value');
      } finally {
        clearTimeout(timer);
      }
      const after = await show('MainPID,NRestarts,ActiveState');
      expect(after.ActiveState).toBe('active');
      expect(Number(after.NRestarts)).toBe(Number(before.NRestarts) + 1);
      expect(Number(after.MainPID)).not.toBe(pid);
    }, 60_000);

    it('a clean stop removes the pipes; uninstall leaves no unit', async () => {
      const pipe = join(d.dirs.projects, 'svc', '.env');
      expect(existsSync(pipe)).toBe(true);
      expect((await systemctl('stop', 'envmountd.service')).code).toBe(0);
      expect(existsSync(pipe)).toBe(false);
      const out = await cli(['service', 'uninstall']);
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('envmountd is no longer a user service');
      expect(existsSync(join(unitDir, 'envmountd.service'))).toBe(false);
      expect(existsSync(join(unitDir, 'envmountd-cleanup.service'))).toBe(false);
      expect(await show('LoadState,MainPID')).toMatchObject({ LoadState: 'not-found', MainPID: '0' });
      expect(existsSync(d.socketPath)).toBe(false);
    });
  },
);
