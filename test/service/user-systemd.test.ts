/**
 * `envmount service` under a real systemd user manager: scripts/with-user-systemd.sh starts `systemd --user` in a
 * private mount namespace (root and systemd needed; skipped with the reason otherwise). The manager's control
 * socket and the daemon's socket live in the test's runtime directory, so systemctl and envmount reach them from
 * here. The unit runs with its full sandbox, and each feature it could break is used under it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_OP, FAKE_OP_ERRORS } from '../fixtures/fake-op-env.js';
import { CLI, killAll, run, startReader, TestDaemon, waitFor } from '../helpers/daemon.js';
import { MCP_COMMAND } from '../helpers/mcp.js';
import { startUserManager, type UserManager } from '../helpers/user-manager.js';
import { Xvfb } from '../helpers/xvfb.js';

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
    let manager: UserManager | undefined;
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
    /** The installed unit's [Service] sandbox as `systemd-run -p` arguments, for a transient unit that runs a probe. */
    const sandbox = () => {
      const unit = readFileSync(join(unitDir, 'envmountd.service'), 'utf8');
      return unit
        .slice(unit.indexOf('[Service]'), unit.indexOf('[Install]'))
        .split('\n')
        .filter((l) => /^[A-Z]\w+=/.test(l) && !/^(Type|NotifyAccess|Exec\w+|Restart\w*|Kill\w+|Timeout\w+)=/.test(l))
        .flatMap((l) => ['-p', l]);
    };
    /** An X server on a free display (test/helpers/xvfb.ts), stopped at the end. */
    const startXvfb = async () => {
      const x = await Xvfb.start();
      cleanups.push(() => void x.stop());
      const shows = (title: string) =>
        spawnSync('xdotool', ['search', '--name', `^${title}`], { env: x.env }).status === 0;
      return { display: x.display, shows };
    };

    beforeAll(async () => {
      manager = await startUserManager(d.env);
    }, 60_000);

    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) cleanup();
      // The manager stops the daemon (and its pipes go).
      await manager?.stop();
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
      // Under SystemCallFilter=~@resources the daemon still turns core dumps off (setrlimit goes through prlimit64).
      expect((await cli(['status'])).stdout).toContain('not dumpable, core dumps off');
      expect((await cli(['set', 'A'], 'first-value')).code).toBe(0);
      const dir = d.project('svc', 'A=envmount://A\n');
      expect((await cli(['add', dir, '--allow', 'any'])).code).toBe(0);
      const read = await run('cat', [join(dir, '.env')], { timeoutMs: 10_000 });
      expect(read.stdout).toContain('first-value');
    });

    it('the unit it wrote keeps its exposure score (`systemd-analyze --user security`) at 5.4 or lower', async () => {
      const result = await run('systemd-analyze', ['--user', 'security', 'envmountd.service', '--no-pager'], {
        env: d.env,
      });
      const score = Number(/exposure level for envmountd\.service: ([\d.]+)/.exec(result.stdout)?.[1]);
      expect(score).toBeGreaterThan(0);
      // 9.1 before the sandbox, 5.8 before these five; what keeps it above 5.0 is listed, measured, in the unit.
      expect(score).toBeLessThanOrEqual(5.4);
      const unit = readFileSync(join(unitDir, 'envmountd.service'), 'utf8');
      for (const line of [
        'SystemCallFilter=@system-service',
        'SystemCallFilter=~@resources',
        'ProtectKernelTunables=yes',
        'ProcSubset=pid',
        'DevicePolicy=closed',
      ])
        expect(unit.split('\n')).toContain(line);
    });

    it('under the sandbox: a rule tells readers apart (their /proc/PID/exe and fds, with /proc limited to PIDs)', async () => {
      const daemonPid = Number((await show('MainPID')).MainPID);
      // The root manager applies the /proc settings (an unprivileged one skips them): the daemon works under them.
      const mounts = readFileSync(`/proc/${daemonPid}/mountinfo`, 'utf8');
      expect(mounts).toMatch(/ \/proc .* - proc .*subset=pid/);
      expect(mounts).toMatch(/ \/sys ro[ ,]/);
      const dir = d.project('rules', 'A=envmount://A\n');
      expect((await cli(['add', dir, '--allow', 'node', '--deny', 'cat', '--otherwise', 'deny'])).code).toBe(0);
      const file = join(dir, '.env');
      const read = `process.stdout.write(require('node:fs').readFileSync(${JSON.stringify(file)}))`;
      const allowed = await run(process.execPath, ['-e', read], { timeoutMs: 10_000 });
      expect(allowed.stdout).toContain('first-value');
      const refused = await run('cat', [file], { timeoutMs: 10_000 });
      expect(refused.stdout).not.toContain('first-value');
      expect(refused.stdout).toContain('the rule "deny exe:cat" refuses it');
      expect((await cli(['remove', dir])).code).toBe(0);
    }, 60_000);

    it('under the sandbox: the op CLI source runs op (a child of the daemon) and serves its values', async () => {
      const values = join(d.root, 'op-values.json');
      writeFileSync(values, JSON.stringify({ 'op://dev/item/password': 'op-value' }));
      const vars = { ENVMOUNT_OP_PATH: FAKE_OP, FAKE_OP_VALUES: values, FAKE_OP_ERRORS };
      expect((await systemctl('set-environment', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`))).code).toBe(0);
      cleanups.push(() =>
        spawnSync('systemctl', ['--user', 'unset-environment', ...Object.keys(vars)], { env: d.env }),
      );
      expect((await systemctl('restart', 'envmountd.service')).code).toBe(0);
      const login = await cli(['login', '--op-cli']);
      expect(login.stderr).toBe('');
      expect(login.code).toBe(0);
      const dir = d.project('op', 'B=op://dev/item/password\n');
      expect((await cli(['add', dir, '--allow', 'any'])).code).toBe(0);
      expect((await run('cat', [join(dir, '.env')], { timeoutMs: 10_000 })).stdout).toContain("B='op-value'");
      expect((await cli(['remove', dir])).code).toBe(0);
    }, 60_000);

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
      const props = sandbox();
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

    it.runIf(has('Xvfb') && has('xdotool') && (has('zenity') || has('kdialog')))(
      'the dialog programs the daemon may start (zenity, kdialog) show their window under the sandbox',
      async () => {
        const { display, shows } = await startXvfb();
        const programs = [
          { title: 'sandboxed-zenity', argv: ['zenity', '--info', '--title', 'sandboxed-zenity', '--text', 'x'] },
          { title: 'sandboxed-kdialog', argv: ['kdialog', '--title', 'sandboxed-kdialog', '--msgbox', 'x'] },
        ].filter((p) => has(p.argv[0] ?? ''));
        for (const [i, { title, argv }] of programs.entries()) {
          const unit = `envmount-dialog-probe-${i}.service`;
          cleanups.push(() => spawnSync('systemctl', ['--user', 'stop', unit], { env: d.env }));
          const args = ['--user', '--quiet', '--unit', unit, '-E', `DISPLAY=${display}`, ...sandbox(), ...argv];
          expect((await run('systemd-run', args, { env: d.env })).code).toBe(0);
          await waitFor(() => shows(title) || undefined, 30_000).catch((error: unknown) => {
            // Say whether the dialog exited (it aborts when it loses its display) or is still starting.
            const state = spawnSync('systemctl', ['--user', 'show', unit, '-p', 'ActiveState,Result,ExecMainStatus'], {
              env: d.env,
              encoding: 'utf8',
            }).stdout;
            throw new Error(`${title}: no window; the unit: ${state.replaceAll('\n', ' ')}`, { cause: error });
          });
          expect((await systemctl('stop', unit)).code).toBe(0);
        }
      },
      90_000,
    );

    it.runIf(has('Xvfb') && has('zenity') && has('xdotool'))(
      'approvals on a desktop: the daemon in the sandbox opens the dialog on the display',
      async () => {
        const { display, shows } = await startXvfb();
        expect((await systemctl('set-environment', `DISPLAY=${display}`)).code).toBe(0);
        cleanups.push(() => spawnSync('systemctl', ['--user', 'unset-environment', 'DISPLAY'], { env: d.env }));
        expect((await systemctl('restart', 'envmountd.service')).code).toBe(0);
        const dir = d.project('ask', 'A=envmount://A\n');
        expect((await cli(['add', dir])).code).toBe(0);
        const reader = startReader('cat', [join(dir, '.env')]);
        const timer = setTimeout(() => reader.child.kill('SIGKILL'), 40_000);
        try {
          // zenity, started by the daemon inside the sandbox, shows its window on the X server.
          await waitFor(() => shows('envmount: allow this read') || undefined, 30_000);
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
          await waitFor(() => !shows('envmount: allow this read') || undefined, 20_000);
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
