/**
 * Issue 14, class 1: another user who can write the project directory exchanges a FIFO of its own in under the
 * daemon's rotation name (renameat2 RENAME_EXCHANGE in a loop, finding the name by listing the directory) to receive
 * the values. The daemon must refuse such a directory at `add` (naming it, its mode and the fix), pause a mount
 * whose directory becomes so, and, where the user opted in, never write a byte to a pipe it did not make.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, run, TestDaemon, track, waitFor } from '../helpers/daemon.js';

const HERE = import.meta.dirname;
const NOBODY = ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups'];

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'TOKEN'], { input: 'hijack-canary-value' })).code).toBe(0);
  // The attacker must reach the project directory: the temp root and the projects dir are opened for traversal.
  chmodSync(daemon.root, 0o755);
  chmodSync(daemon.dirs.projects, 0o755);
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

/** Whether the audit log of the mount in `dir` holds a rotation pipe caught as not the daemon's own. */
async function foreignAudited(dir: string): Promise<boolean> {
  const log = JSON.parse((await daemon.cli(['--json', 'log', dir, '--limit', '2000'])).stdout) as Array<{
    decision: string;
  }>;
  return log.some((e) => e.decision === 'foreign');
}

async function statusOf(dir: string): Promise<{ state: string; reason?: string }> {
  const result = await daemon.cli(['--json', 'status']);
  const all = JSON.parse(result.stdout) as { mounts: Array<{ dir: string; state: string; reason?: string }> };
  const found = all.mounts.find((m) => m.dir === dir);
  if (!found) throw new Error(`no mount for ${dir}: ${result.stdout}`);
  return found;
}

describe('a directory other users can write', () => {
  it('is refused at add, naming the directory, its mode and the fix', async () => {
    const dir = daemon.project('shared', 'TOKEN=envmount://TOKEN\n');
    chmodSync(dir, 0o777);
    const refused = await daemon.cli(['add', dir, '--allow', 'any']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(dir);
    expect(refused.stderr).toContain('mode 0777');
    expect(refused.stderr).toContain(`chmod go-w ${dir}`);
    expect(refused.stderr).toContain('--allow-shared-dir');
  });

  it("is refused when a POSIX ACL lets another user write it, though its mode looks like the user's own", async () => {
    // 0775 of root's private group (gid 0) is fine by the mode alone; the group bits are the ACL's mask here, and
    // the ACL names nobody (found by the attack pass: nobody could rename .env away). No setfacl on this machine:
    // the ACL is written as its xattr (version 2; USER_OBJ, USER nobody, GROUP_OBJ, MASK, OTHER).
    const dir = daemon.project('acl', 'TOKEN=envmount://TOKEN\n');
    chmodSync(dir, 0o755);
    const acl = [
      'import os, struct, sys',
      "e = lambda t, p, i: struct.pack('<HHI', t, p, i)",
      "a = struct.pack('<I', 2) + e(1, 7, 0xffffffff) + e(2, 7, 65534) + e(4, 5, 0xffffffff) + e(0x10, 7, 0xffffffff) + e(0x20, 5, 0xffffffff)",
      "os.setxattr(sys.argv[1], 'system.posix_acl_access', a)",
    ].join('\n');
    expect((await run('python3', ['-c', acl, dir])).code).toBe(0);
    const refused = await daemon.cli(['add', dir, '--allow', 'any']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('access ACL');
    expect(refused.stderr).toContain(`setfacl -b ${dir}`);
  });

  it('pauses a mount whose directory becomes so, in status and doctor, and resumes once fixed', async () => {
    const dir = daemon.project('later', 'TOKEN=envmount://TOKEN\n');
    expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
    // Group `users` (gid 100) is not a private group of this user: its other members could write here.
    chownSync(dir, 0, 100);
    chmodSync(dir, 0o775);
    const paused = await waitFor(async () => {
      const s = await statusOf(dir);
      return s.state === 'paused' ? s : undefined;
    });
    expect(paused.reason).toContain('mode 0775');
    expect(paused.reason).toContain(`chmod go-w ${dir}`);
    const doctor = await daemon.cli(['doctor']);
    expect(doctor.stdout).toContain(`chmod go-w ${dir}`);
    chmodSync(dir, 0o755);
    await waitFor(async () => ((await statusOf(dir)).state === 'serving' ? true : undefined), 15_000);
    expect((await run('cat', [join(dir, '.env')], { timeoutMs: 10_000 })).stdout).toContain('hijack-canary-value');
  });
});

describe('an attacker exchanging its FIFO under the rotation name', () => {
  it('never receives a byte, over many reads (the user opted in to the shared directory)', async () => {
    const dir = daemon.project('attacked', 'TOKEN=envmount://TOKEN\n');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    const envPath = join(dir, '.env');
    const added = await daemon.cli(['add', dir, '--allow-shared-dir', '--allow', 'any']);
    expect(added.stderr).toBe('');
    // Compiled into the temp root, which the other user can reach (the repository may sit where it cannot).
    const program = join(daemon.root, 'hijack-attacker');
    const built = await run('cc', ['-O2', '-o', program, join(HERE, 'hijack-attacker.c')]);
    expect(built.stderr).toBe('');
    chmodSync(program, 0o755);
    const attacker = track(
      spawn('setpriv', [...NOBODY, program, dir, '.~.env.envmount-swap'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    let errors = '';
    attacker.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    attacker.stderr?.setEncoding('utf8').on('data', (d: string) => {
      errors += d;
    });
    const exited = new Promise<void>((resolve) => attacker.on('close', () => resolve()));
    let served = 0;
    let caught = false;
    try {
      await waitFor(() => {
        if (errors !== '') throw new Error(`the attacker failed: ${errors}`);
        return out.includes('ready');
      });
      // Rounds of up to 100 reads, each read given 0.5 s (a read that meets a pipe the attacker got to the path
      // times out, never hangs). Where the attacker's pipe took the path, the mount stepped aside: the user moves it
      // away and adds the mount again, and the attack goes on. Which window the attacker hits depends on the
      // scheduler (a loaded machine shifts it), so the rounds go on until the daemon has caught one of its pipes at
      // a rotation name (audited `foreign`), up to 30 rounds, rather than for a fixed count.
      for (let round = 0; round < 30; round++) {
        const reads = await run('python3', [join(HERE, 'timed-reads.py'), envPath, '100', '0.5'], {
          timeoutMs: 90_000,
        });
        expect(reads.code).toBe(0);
        served += Number(reads.stdout.trim().split(' ')[0]);
        // Looked at after every round: the log answers with its newest entries only.
        caught ||= await foreignAudited(dir);
        if (round >= 7 && served > 0 && caught) break;
        if ((await statusOf(dir)).state === 'serving') continue;
        if (lstatSync(envPath, { throwIfNoEntry: false })?.uid !== 0) rmSync(envPath, { force: true });
        await daemon.cli(['add', dir, '--allow-shared-dir']);
      }
      expect(served).toBeGreaterThan(0);
    } finally {
      attacker.kill('SIGTERM');
      await exited;
    }
    expect(errors).toBe('');
    const [, exchanges, stolen, received] = out.trim().split(/\s+/).map(Number);
    // The attack ran (it found rotation names and exchanged the daemon's pipes out), and none of its pipes got a
    // byte. (Where it wins the race to the path, readers meet its pipe and time out: the healer steps aside.)
    expect(exchanges).toBeGreaterThan(0);
    expect(stolen).toBeGreaterThan(0);
    expect(received).toBe(0);
    expect(caught).toBe(true);
  }, 600_000);
});
