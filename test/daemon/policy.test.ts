/**
 * Authorized readers, with real processes: rules by executable and by ancestry, asking the user (approve, deny,
 * timeout), identification of every reader, collisions, and the audit log of each read.
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedInFifoOpen, CLI, killAll, node, run, startReader, TestDaemon, waitFor } from '../helpers/daemon.js';

let daemon: TestDaemon;
const VALUES = "TOKEN='tok-value'\n";

beforeAll(async () => {
  daemon = new TestDaemon();
  // A read waits for its answer as long as the test needs (the CLIs that answer may be slow on a busy machine);
  // the timeout itself is tested with a daemon of its own.
  await daemon.start({ ENVMOUNT_APPROVAL_TIMEOUT_MS: '600000' });
  await daemon.cli(['set', 'TOKEN'], { input: 'tok-value' });
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

async function mount(name: string, ...policy: string[]): Promise<string> {
  const dir = daemon.project(name, 'TOKEN=envmount://TOKEN\n');
  const result = await daemon.cli(['add', dir, ...policy]);
  expect(result.stderr).toBe('');
  return dir;
}

const readWithNode = (path: string) =>
  node(`process.stdout.write(require('fs').readFileSync(${JSON.stringify(path)},'utf8'))`);

async function logFor(dir: string) {
  return JSON.parse((await daemon.cli(['--json', 'log', dir])).stdout) as Array<{
    decision: string;
    reader?: { pid: number; exe: string; argv: string[] };
    others: unknown[];
  }>;
}

async function pendingFor(dir: string) {
  return waitFor(async () => {
    const pending = JSON.parse((await daemon.cli(['--json', 'approvals'])).stdout) as Array<{
      id: number;
      mount: string;
      exe: string;
      argv: string[];
    }>;
    return pending.find((p) => p.mount === join(dir, '.env'));
  });
}

describe('rules', () => {
  it('a rule allowing node and denying cat: node gets the values, cat only comments, both audited', async () => {
    const dir = await mount('rules', '--allow', 'node', '--deny', 'cat');
    const allowed = await readWithNode(join(dir, '.env'));
    expect(allowed.stdout).toBe(VALUES);
    const refused = await run('cat', [join(dir, '.env')]);
    expect(refused.code).toBe(0);
    expect(refused.stdout).not.toContain('tok-value');
    expect(
      refused.stdout
        .split('\n')
        .filter(Boolean)
        .every((line) => line.startsWith('#')),
    ).toBe(true);
    expect(refused.stdout).toContain('/usr/bin/cat');
    expect(refused.stdout).toContain('the rule "deny exe:cat" refuses it');
    const log = await logFor(dir);
    expect(log.map((e) => [e.decision, e.reader?.exe])).toEqual([
      ['allowed', process.execPath],
      ['denied', '/usr/bin/cat'],
    ]);
    expect(log[1]?.reader?.argv).toEqual(['cat', join(dir, '.env')]);
  });

  it('ancestry: the same executable is allowed under a named parent and refused elsewhere', async () => {
    const dir = await mount('ancestry', '--allow', 'ancestor:*special-parent*', '--otherwise', 'deny');
    const underParent = await run('sh', ['-c', `cat ${join(dir, '.env')}; true`, 'special-parent']);
    expect(underParent.stdout).toBe(VALUES);
    const elsewhere = await run('cat', [join(dir, '.env')]);
    expect(elsewhere.stdout).not.toContain('tok-value');
    expect(elsewhere.stdout).toContain('this mount refuses readers no rule allows');
  });

  it('a policy change applies to the next reader and is shown in status', async () => {
    const dir = await mount('change', '--otherwise', 'deny');
    expect((await run('cat', [join(dir, '.env')])).stdout).not.toContain('tok-value');
    const changed = await daemon.cli(['policy', dir, '--allow', 'cat']);
    expect(changed.stdout).toContain('    allow exe:cat\n');
    expect(changed.stdout).toContain('otherwise: deny');
    expect((await run('cat', [join(dir, '.env')])).stdout).toBe(VALUES);
    const reset = await daemon.cli(['--json', 'policy', dir, '--reset', '--allow', 'any']);
    expect(JSON.parse(reset.stdout)).toMatchObject({ otherwise: 'allow', rules: [] });
  });
});

describe('asking', () => {
  it('a pending read shows who asks; approve releases it with the values; others are not held up', async () => {
    const dir = await mount('ask', '--allow', 'node');
    const reader = startReader('cat', [join(dir, '.env')]);
    const pending = await pendingFor(dir);
    expect(pending.exe).toBe('/usr/bin/cat');
    expect(pending.argv).toEqual(['cat', join(dir, '.env')]);
    // Another reader meanwhile gets its own pipe and its values at once.
    expect((await readWithNode(join(dir, '.env'))).stdout).toBe(VALUES);
    // Approving needs a terminal: `script` gives the CLI one, and "y" answers its confirmation.
    const approved = await run('script', ['-qec', `${process.execPath} ${CLI} approve ${pending.id}`, '/dev/null'], {
      env: daemon.env,
      input: 'y\n',
    });
    expect(approved.stdout).toContain(`Approved /usr/bin/cat reading ${join(dir, '.env')}`);
    expect(await reader.done).toBe(VALUES);
  });

  it('deny releases the reader with comments only', async () => {
    const dir = await mount('ask2');
    const denied = startReader('cat', [join(dir, '.env')]);
    const pending = await pendingFor(dir);
    expect((await daemon.cli(['deny', String(pending.id)])).code).toBe(0);
    const deniedText = await denied.done;
    expect(deniedText).toContain('# why: the request was denied');
    expect(deniedText).not.toContain('tok-value');
    expect((await logFor(dir)).map((e) => e.decision)).toEqual(['denied']);
  });

  it('the timeout releases the reader with comments only', async () => {
    const d = new TestDaemon();
    try {
      await d.start({ ENVMOUNT_APPROVAL_TIMEOUT_MS: '200' });
      await d.cli(['set', 'TOKEN'], { input: 'tok-value' });
      const dir = d.project('timeout', 'TOKEN=envmount://TOKEN\n');
      expect((await d.cli(['add', dir])).code).toBe(0);
      const timedOut = await run('cat', [join(dir, '.env')]);
      expect(timedOut.stdout).toContain('# why: nobody approved it in time');
      expect(timedOut.stdout).not.toContain('tok-value');
      const log = JSON.parse((await d.cli(['--json', 'log', dir])).stdout) as Array<{ decision: string }>;
      expect(log.map((e) => e.decision)).toEqual(['timed-out']);
    } finally {
      await d.dispose();
    }
  });

  it('the daemon stops while a read waits: the reader is told it stopped, not that it was denied', async () => {
    const d = new TestDaemon();
    try {
      await d.start();
      await d.cli(['set', 'TOKEN'], { input: 'tok-value' });
      const dir = d.project('stopping', 'TOKEN=envmount://TOKEN\n');
      expect((await d.cli(['add', dir])).code).toBe(0);
      const reader = startReader('cat', [join(dir, '.env')]);
      await waitFor(async () => JSON.parse((await d.cli(['--json', 'approvals'])).stdout).length === 1);
      await d.stop();
      const text = await reader.done;
      expect(text).toContain('# why: envmountd stopped before anyone answered');
      expect(text).not.toContain('denied');
      expect(text).not.toContain('tok-value');
    } finally {
      await d.dispose();
    }
  });

  it('approve --always stores the narrowest rule: the next read of the same command is not asked', async () => {
    const dir = await mount('always');
    const reader = startReader('cat', [join(dir, '.env')]);
    const pending = await pendingFor(dir);
    await run('script', ['-qec', `${process.execPath} ${CLI} approve ${pending.id} --always`, '/dev/null'], {
      env: daemon.env,
      input: 'y\n',
    });
    expect(await reader.done).toBe(VALUES);
    expect((await run('cat', [join(dir, '.env')])).stdout).toBe(VALUES);
    const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout);
    const mounted = status.mounts.find((m: { dir: string }) => m.dir === dir);
    // The executable with its arguments, the mount's own path taken out: never a bare executable.
    expect(mounted.rules).toEqual([
      { effect: 'allow', kind: 'argv', pattern: 'cat {mount}', exe: '/usr/bin/cat', since: expect.any(String) },
    ]);
  });

  it('approve refuses without a terminal, in the CLI and in the daemon', async () => {
    const dir = await mount('ask3');
    const reader = startReader('cat', [join(dir, '.env')]);
    const pending = await pendingFor(dir);
    const cli = await daemon.cli(['approve', String(pending.id)]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('must be run by a person in a terminal');
    // A process speaking the protocol directly, with no controlling terminal (setsid), is refused by the daemon.
    const direct = await run(
      'setsid',
      [
        process.execPath,
        '-e',
        `const s=require('net').createConnection(${JSON.stringify(daemon.socketPath)});s.setEncoding('utf8');
         s.on('data',(t)=>{process.stdout.write(t);s.destroy()});
         s.write(JSON.stringify({v:1,id:1,method:'approve',params:{id:${pending.id}}})+'\\n')`,
      ],
      { env: daemon.env },
    );
    expect(JSON.parse(direct.stdout)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    // Still pending after both refusals; `deny` needs no terminal, and ends it.
    expect((await daemon.cli(['deny', String(pending.id)])).code).toBe(0);
    expect(await reader.done).not.toContain('tok-value');
  });
});

describe('audit log', () => {
  it('log --follow prints reads as they happen', async () => {
    const dir = await mount('follow', '--allow', 'cat');
    const follower = startReader(process.execPath, [CLI, 'log', dir, '--follow'], { env: daemon.env });
    let seen = '';
    follower.child.stdout?.on('data', (d: string) => {
      seen += d;
    });
    await run('cat', [join(dir, '.env')]);
    await waitFor(() => seen.includes('allowed') && seen.includes('/usr/bin/cat'));
    follower.child.kill();
    await follower.done;
  });
});

describe('identification', () => {
  it('finds the reader in at least 999 of 1000 serves and never names a process that does not hold the pipe', async () => {
    const dir = await mount('ident', '--allow', 'node', '--otherwise', 'deny');
    const reader = await node(
      `const fs=require('fs');let ok=0;for(let i=0;i<1000;i++){if(fs.readFileSync(${JSON.stringify(join(dir, '.env'))},'utf8')===${JSON.stringify(VALUES)})ok++}
       process.stdout.write(JSON.stringify({ok,pid:process.pid}))`,
      { timeoutMs: 60_000 },
    );
    const { ok, pid } = JSON.parse(reader.stdout);
    expect(ok).toBeGreaterThanOrEqual(999);
    const entries = JSON.parse((await daemon.cli(['--json', 'log', dir, '--limit', '2000'])).stdout) as Array<{
      reader?: { pid: number };
      others: unknown[];
    }>;
    expect(entries).toHaveLength(1000);
    expect(entries.filter((e) => e.reader?.pid === pid)).toHaveLength(ok);
    expect(entries.every((e) => e.reader === undefined || e.reader.pid === pid)).toBe(true);
    expect(entries.every((e) => e.others.length === 0)).toBe(true);
  });
});

describe('collisions', () => {
  it('two readers released on one pipe: detected, audited, and values go to at most the allowed one', async () => {
    const d = new TestDaemon();
    try {
      await d.start();
      await d.cli(['set', 'TOKEN'], { input: 'tok-value' });
      const dir = d.project('c', 'TOKEN=envmount://TOKEN\n');
      await d.cli(['add', dir, '--allow', 'node', '--otherwise', 'deny']);
      // Kill the daemon so that two readers queue on the same FIFO inode, then let a new daemon release both at once.
      await d.stop('SIGKILL');
      expect(lstatSync(join(dir, '.env')).isFIFO()).toBe(true);
      const allowed = startReader(process.execPath, [
        '-e',
        `process.stdout.write(require('fs').readFileSync(${JSON.stringify(join(dir, '.env'))},'utf8'))`,
      ]);
      const refused = startReader('cat', [join(dir, '.env')]);
      await blockedInFifoOpen(allowed.child.pid ?? 0);
      await blockedInFifoOpen(refused.child.pid ?? 0);
      await d.start();
      const outputs = [await allowed.done, await refused.done];
      expect(outputs.join('')).not.toContain('tok-value');
      const log = JSON.parse((await d.cli(['--json', 'log', dir])).stdout) as Array<{
        decision: string;
        others: unknown[];
      }>;
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ decision: 'collision' });
      expect(log[0]?.others).toHaveLength(1);
      const status = JSON.parse((await d.cli(['--json', 'status'])).stdout);
      expect(status.mounts[0].collisions).toBe(1);
      expect((await d.cli(['status'])).stdout).toContain('use `envmount run` or a mount per consumer');
    } finally {
      await d.dispose();
    }
  });

  it('two allowed readers released on one pipe each get a whole copy, audited as allowed', async () => {
    const d = new TestDaemon();
    try {
      await d.start();
      await d.cli(['set', 'TOKEN'], { input: 'tok-shared' });
      const dir = d.project('s', 'TOKEN=envmount://TOKEN\n');
      await d.cli(['add', dir, '--allow', 'node', '--otherwise', 'deny']);
      await d.stop('SIGKILL');
      const script = `process.stdout.write(require('fs').readFileSync(${JSON.stringify(join(dir, '.env'))},'utf8'))`;
      const readers = [startReader(process.execPath, ['-e', script]), startReader(process.execPath, ['-e', script])];
      for (const r of readers) await blockedInFifoOpen(r.child.pid ?? 0);
      await d.start();
      for (const r of readers) expect(await r.done).toBe("TOKEN='tok-shared'\n");
      const log = JSON.parse((await d.cli(['--json', 'log', dir])).stdout) as Array<{
        decision: string;
        others: unknown[];
      }>;
      expect(log).toMatchObject([{ decision: 'allowed', others: [{}] }]);
      const status = JSON.parse((await d.cli(['--json', 'status'])).stdout);
      expect(status.mounts[0].collisions).toBe(0);
    } finally {
      await d.dispose();
    }
  });
});
