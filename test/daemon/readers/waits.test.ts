/**
 * Waits you can see: a read waiting for approval is in `status` and `list` (who, since when, its ID, the agent that
 * started it) the moment it waits, a line on the reader's own terminal says what it waits for and the command to
 * run, and `envmount approve` with no ID offers the waiting reads one by one (a clear error without a terminal).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type IPty, spawn as spawnPty } from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, killAll, run, startReader, TestDaemon, waitFor } from '../../helpers/daemon.js';

let daemon: TestDaemon;
let dir: string;
const ptys: IPty[] = [];

interface Waiting {
  id: number;
  pid: number;
  exe: string;
  agent?: string;
  since: string;
}

/** The reads waiting on the mount, as `status --json` shows them. */
async function waitingInStatus(): Promise<Waiting[]> {
  const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
  return status.mounts.find((m: { path: string }) => m.path === join(dir, '.env'))?.waiting ?? [];
}

/** Resolves with the waiting entry of `pid` once `status` shows it. */
function waitingOf(pid: number | undefined): Promise<Waiting> {
  return waitFor(async () => (await waitingInStatus()).find((w) => w.pid === pid));
}

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start({ ENVMOUNT_DESKTOP_PROMPT: '0' });
  await daemon.cli(['set', 'TOKEN'], { input: 'wait-value' });
  dir = daemon.project('app', 'TOKEN=envmount://TOKEN\n');
  expect((await daemon.cli(['add', dir])).code).toBe(0);
});

afterAll(async () => {
  for (const pty of ptys) {
    try {
      pty.kill('SIGKILL');
    } catch {}
  }
  await killAll();
  await daemon.dispose();
});

describe('a read waiting for approval', () => {
  it('is in status and list at once, and its terminal shows the command that answers it', async () => {
    const pty = spawnPty('cat', [join(dir, '.env')], { cwd: dir, env: daemon.env, cols: 200, rows: 30 });
    ptys.push(pty);
    let shown = '';
    pty.onData((d) => {
      shown += d;
    });
    const exited = new Promise<void>((resolve) => pty.onExit(() => resolve()));
    const waiting = await waitingOf(pty.pid);
    expect(waiting).toMatchObject({ pid: pty.pid, exe: '/usr/bin/cat' });
    expect(Number.isNaN(Date.parse(waiting.since))).toBe(false);
    expect(waiting.agent).toBeUndefined();
    const text = (await daemon.cli(['status'])).stdout;
    expect(text).toContain(`waiting:   ${waiting.id}: /usr/bin/cat (pid ${pty.pid})`);
    expect(text).toContain(`\`envmount approve ${waiting.id}\``);
    const list = JSON.parse((await daemon.cli(['--json', 'list'])).stdout);
    expect(list[0].waiting).toEqual([expect.objectContaining({ id: waiting.id, pid: pty.pid })]);
    expect((await daemon.cli(['list'])).stdout).toContain(`waiting ${waiting.id}: /usr/bin/cat (pid ${pty.pid})`);
    // The line on the reader's terminal: who waits, for which file, the command to run.
    await waitFor(() => shown.includes(`envmount approve ${waiting.id}`));
    expect(shown).toContain(
      `[envmount] /usr/bin/cat (pid ${pty.pid}) waits for your approval to read ${join(dir, '.env')}`,
    );
    expect((await daemon.cli(['deny', String(waiting.id)])).code).toBe(0);
    await exited;
    expect(shown).toContain('# envmount refused this read');
    expect(shown).not.toContain('wait-value');
    expect(await waitingInStatus()).toEqual([]);
  });

  it('names the coding agent that started it, in status, approvals and the log', async () => {
    // A stand-in for Claude Code: node running .../@anthropic-ai/claude-code/cli.js, which starts `cat .env`.
    const agentDir = join(daemon.root, 'agent', 'node_modules', '@anthropic-ai', 'claude-code');
    mkdirSync(agentDir, { recursive: true });
    copyFileSync(join(import.meta.dirname, '../../fixtures/spawn-child.cjs'), join(agentDir, 'cli.js'));
    const agent = startReader(process.execPath, [join(agentDir, 'cli.js'), 'cat', join(dir, '.env')], {
      env: daemon.env,
    });
    const waiting = await waitFor(async () => (await waitingInStatus())[0]);
    expect(waiting).toMatchObject({ exe: '/usr/bin/cat', agent: 'claude' });
    expect((await daemon.cli(['status'])).stdout).toContain(`(pid ${waiting.pid}) started by claude, waiting since`);
    expect((await daemon.cli(['approvals'])).stdout).toContain(
      `/usr/bin/cat (pid ${waiting.pid}) started by claude wants`,
    );
    expect((await daemon.cli(['deny', String(waiting.id)])).code).toBe(0);
    expect(await agent.done).toContain('# envmount refused this read');
    const log = JSON.parse((await daemon.cli(['--json', 'log', dir])).stdout);
    expect(log.at(-1).reader).toMatchObject({ pid: waiting.pid, agent: 'claude' });
    expect((await daemon.cli(['log', dir])).stdout).toContain('started by claude');
  });
});

describe('envmount approve with no ID', () => {
  it('without a terminal: an error that says what to run instead', async () => {
    const result = await daemon.cli(['approve']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('needs a person at a terminal');
    expect(result.stderr).toContain('envmount approvals');
  });

  it('on a terminal: offers each waiting read in turn; yes lets it through, no leaves it waiting', async () => {
    const first = startReader('cat', [join(dir, '.env')]);
    await waitingOf(first.child.pid);
    const second = startReader('cat', [join(dir, '.env')]);
    const secondWaiting = await waitingOf(second.child.pid);
    const answered = await run('script', ['-qec', `${process.execPath} ${CLI} approve`, '/dev/null'], {
      env: daemon.env,
      input: 'y\nn\n',
    });
    expect(answered.stdout).toContain('(1 of 2)');
    expect(answered.stdout).toContain('(2 of 2)');
    expect(await first.done).toBe("TOKEN='wait-value'\n");
    expect(answered.stdout).toContain(`Left request ${secondWaiting.id} waiting`);
    expect((await waitingInStatus()).map((w) => w.id)).toEqual([secondWaiting.id]);
    expect((await daemon.cli(['deny', String(secondWaiting.id)])).code).toBe(0);
    expect(await second.done).not.toContain('wait-value');
  });
});
