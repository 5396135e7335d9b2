/**
 * Issue 16 with real processes: a reader is an interpreter plus its script, or inline code; `approve --always`
 * stores the narrowest rule and prints it first; inline code is approvable for one read only; an exited reader is
 * not "approved"; readers started by a coding agent (an ancestor named claude) are asked about under any policy
 * unless a script rule or a grant lets them, and refused under `--agents deny`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, killAll, run, startReader, TestDaemon, waitFor } from '../../helpers/daemon.js';

let daemon: TestDaemon;
const VALUES = "TOKEN='tok-value'\n";
const SERVER = "process.stdout.write(require('fs').readFileSync('.env', 'utf8'));\n";

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start({ ENVMOUNT_APPROVAL_TIMEOUT_MS: '600000' });
  await daemon.cli(['set', 'TOKEN'], { input: 'tok-value' });
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

async function mount(name: string, ...policy: string[]): Promise<string> {
  const dir = daemon.project(name, 'TOKEN=envmount://TOKEN\n');
  writeFileSync(join(dir, 'server.js'), SERVER);
  const result = await daemon.cli(['add', dir, ...policy]);
  expect(result.stderr).toBe('');
  return dir;
}

interface Pending {
  id: number;
  mount: string;
  pid: number;
  identity: string;
  agent?: string;
  always?: { rule: string } | { problem: string };
}

async function pendingFor(dir: string): Promise<Pending> {
  return waitFor(async () => {
    const pending = JSON.parse((await daemon.cli(['--json', 'approvals'])).stdout) as Pending[];
    return pending.find((p) => p.mount === join(dir, '.env'));
  });
}

/** `envmount approve` in a terminal (`script` gives it one), answering its confirmation with y. */
const approve = (...args: string[]) =>
  run('script', ['-qec', `${process.execPath} ${CLI} approve ${args.join(' ')}`, '/dev/null'], {
    env: daemon.env,
    input: 'y\n',
  });

/** Runs `command` with a parent whose argv[0] is `claude`: a process started by a coding agent. */
const asAgent = (_dir: string, command: string) => ['-c', `exec -a claude bash -c '${command}; exit $?'`];

async function rulesOf(dir: string) {
  const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
  return status.mounts.find((m: { dir: string }) => m.dir === dir).rules as Array<Record<string, string>>;
}

describe('interpreters by script', () => {
  it('approve --always of `node server.js` prints and stores node + the script; inline code is still asked', async () => {
    const dir = await mount('script');
    const reader = startReader(process.execPath, ['server.js'], { cwd: dir });
    const pending = await pendingFor(dir);
    expect(pending.identity).toBe(`${process.execPath} ${join(dir, 'server.js')}`);
    const approved = await approve(String(pending.id), '--always');
    expect(approved.stdout).toContain(
      `stores the rule: allow exe:${process.execPath} script:${join(dir, 'server.js')}`,
    );
    expect(await reader.done).toBe(VALUES);
    expect(await rulesOf(dir)).toMatchObject([
      { effect: 'allow', kind: 'script', pattern: join(dir, 'server.js'), exe: process.execPath },
    ]);
    // The same script again: served unasked. The same interpreter with inline code: asked, and denied here.
    expect((await run(process.execPath, ['server.js'], { cwd: dir })).stdout).toBe(VALUES);
    const inline = startReader(process.execPath, ['-e', SERVER], { cwd: dir });
    const asked = await pendingFor(dir);
    expect(asked.identity).toBe(`${process.execPath} (inline code: -e)`);
    await daemon.cli(['deny', String(asked.id)]);
    expect(await inline.done).not.toContain('tok-value');
  });

  it('inline code is approvable for one read only: --always and --for are refused, nothing is stored', async () => {
    const dir = await mount('inline');
    const reader = startReader('bash', ['-c', 'cat .env; true'], { cwd: dir });
    // The reader is cat (not an interpreter), started by bash -c: approve the cat, not bash.
    const pending = await pendingFor(dir);
    expect(pending.identity).toBe('/usr/bin/cat');
    await daemon.cli(['deny', String(pending.id)]);
    await reader.done;
    const python = startReader('perl', ['-e', 'open(F, ".env"); print <F>;'], { cwd: dir });
    const asked = await pendingFor(dir);
    expect(asked.always).toMatchObject({ problem: expect.stringContaining('inline code') });
    for (const flag of ['--always', '--for 10m']) {
      const refused = await approve(String(asked.id), flag);
      expect(refused.stdout + refused.stderr).toContain(
        `Cannot approve /usr/bin/perl (inline code: -e) with ${flag.split(' ')[0]}`,
      );
    }
    expect((await approve(String(asked.id))).stdout).toContain('(this read only)');
    expect(await python.done).toBe(VALUES);
    expect(await rulesOf(dir)).toEqual([]);
  });

  it('approving a reader that already exited says so and approves nothing', async () => {
    const dir = await mount('exited');
    const reader = startReader('cat', [join(dir, '.env')]);
    const pending = await pendingFor(dir);
    reader.child.kill('SIGKILL');
    await reader.done;
    const result = await approve(String(pending.id));
    expect(result.stdout + result.stderr).toContain('has exited; nothing was approved');
    expect(result.stdout).not.toContain('Approved');
    // Nobody denied it: the audit log says it exited, not "the request was denied".
    const entry = await waitFor(async () => {
      const log = JSON.parse((await daemon.cli(['--json', 'log', dir])).stdout) as Array<{
        decision: string;
        reason?: string;
      }>;
      return log.find((e) => e.decision !== 'allowed');
    });
    expect(entry).toMatchObject({ decision: 'cancelled', reason: 'it exited before it was approved' });
  });
});

describe('readers started by a coding agent', () => {
  it('--allow any (agents ask): a plain cat is served, the agent’s cat is asked about and gets nothing when denied', async () => {
    const dir = await mount('agent-any', '--allow', 'any');
    expect((await run('cat', [join(dir, '.env')])).stdout).toBe(VALUES);
    const reader = startReader('bash', asAgent(dir, 'cat .env'), { cwd: dir });
    const pending = await pendingFor(dir);
    expect(pending).toMatchObject({ identity: '/usr/bin/cat', agent: 'claude' });
    expect(pending.always).toMatchObject({ problem: expect.stringContaining('started by claude') });
    await daemon.cli(['deny', String(pending.id)]);
    const out = await reader.done;
    expect(out).not.toContain('tok-value');
    expect(out).toContain('# to allow it:');
  });

  it('the agent’s app is approved once for its script; --agents deny refuses with advice naming the setting', async () => {
    const dir = await mount('agent-app', '--allow', 'node');
    const app = startReader('bash', asAgent(dir, `${process.execPath} server.js`), { cwd: dir });
    const pending = await pendingFor(dir);
    expect(pending.agent).toBe('claude');
    await approve(String(pending.id), '--always');
    expect(await app.done).toBe(VALUES);
    expect((await run('bash', asAgent(dir, `${process.execPath} server.js`), { cwd: dir })).stdout).toBe(VALUES);
    expect((await daemon.cli(['policy', dir, '--agents', 'deny'])).stderr).toBe('');
    const refused = await run('bash', asAgent(dir, `${process.execPath} server.js`), { cwd: dir });
    expect(refused.stdout).toContain(
      '# why: it was started by claude, and this mount refuses readers started by an agent',
    );
    expect(refused.stdout).toContain('--agents ask');
    // Not an agent: judged by the rules as before.
    expect((await run(process.execPath, ['server.js'], { cwd: dir })).stdout).toBe(VALUES);
  });
});
