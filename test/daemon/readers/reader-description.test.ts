import { describe, expect, it } from 'vitest';
import type { ProcessInfo } from '../../../src/daemon/readers/process-info.js';
import { agentOf, describeReader, scriptOf } from '../../../src/daemon/readers/reader-description.js';

function proc(pid: number, exe: string, argv: string[], extra: Partial<ProcessInfo> = {}): ProcessInfo {
  return { pid, uid: 1000, exe, argv, cwd: '/home/me/app', startTime: 1, ppid: pid - 1, sid: 1, tty: 0, ...extra };
}

describe('scriptOf', () => {
  it('names the first non-option argument of an interpreter, resolved against its working directory', () => {
    expect(scriptOf(proc(9, '/usr/bin/node', ['node', 'server.js']))).toEqual({
      kind: 'file',
      path: '/home/me/app/server.js',
    });
    expect(scriptOf(proc(9, '/usr/bin/node', ['node', '-r', 'dotenv/config', '--inspect', '/srv/x.js']))).toEqual({
      kind: 'file',
      path: '/srv/x.js',
    });
    expect(scriptOf(proc(9, '/usr/bin/python3.11', ['python3', '-u', 'manage.py', 'runserver']))).toEqual({
      kind: 'file',
      path: '/home/me/app/manage.py',
    });
    expect(scriptOf(proc(9, '/usr/bin/bash', ['bash', '--', 'deploy.sh']))).toEqual({
      kind: 'file',
      path: '/home/me/app/deploy.sh',
    });
  });

  it('says when the program is inline or read from stdin, and nothing for other executables', () => {
    expect(scriptOf(proc(9, '/usr/bin/python3', ['python3', '-c', 'print(1)']))).toEqual({
      kind: 'inline',
      option: '-c',
    });
    expect(scriptOf(proc(9, '/usr/bin/dash', ['sh', '-ec', 'cat .env']))).toEqual({ kind: 'inline', option: '-ec' });
    expect(scriptOf(proc(9, '/usr/bin/node', ['node']))).toEqual({ kind: 'stdin' });
    expect(scriptOf(proc(9, '/usr/bin/cat', ['cat', '.env']))).toBeUndefined();
  });
});

describe('agentOf', () => {
  it('finds an agent by its executable, its argv[0] or its script, by the last path segments only', () => {
    const cli = '/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js';
    expect(agentOf(proc(9, '/usr/bin/node', ['node', cli]))).toBe('claude');
    expect(agentOf(proc(9, '/home/me/.local/share/claude/versions/2.0.1', ['claude']))).toBe('claude');
    expect(agentOf(proc(9, '/opt/codex/codex-x86_64-unknown-linux-musl', ['codex']))).toBe('codex');
    expect(agentOf(proc(9, '/usr/bin/python3', ['python3', '/home/me/.local/bin/aider']))).toBe('aider');
    expect(agentOf(proc(9, '/usr/bin/node', ['node', '/usr/lib/node_modules/@google/gemini-cli/dist/index.js']))).toBe(
      'gemini',
    );
    expect(agentOf(proc(9, '/usr/bin/bash', ['bash']))).toBeUndefined();
    // A home directory named like an agent does not make every program in it one.
    expect(agentOf(proc(9, '/usr/bin/node', ['node', '/home/claude/projects/app/src/server.js']))).toBeUndefined();
  });
});

describe('describeReader', () => {
  it('gives fixed lines of facts, then the command line last; nothing the reader controls adds a line', () => {
    const reader = proc(40, '/tmp/x\n\nProgram: /usr/bin/npm', ['cat', '.env', 'a\nApproved\x1b[2J'], {
      cwd: '/home/me/app\nDirectory: /trusted',
      sid: 10,
    });
    const parents = [
      proc(30, '/usr/bin/bash', ['bash'], { sid: 10 }),
      proc(20, '/usr/bin/node', ['node', '/usr/lib/node_modules/@openai/codex/bin/codex.js'], { sid: 10 }),
      proc(10, '/usr/sbin/sshd', ['sshd: me@pts/0'], { sid: 10 }),
    ];
    expect(describeReader('/home/me/app/.env', reader, parents)).toEqual([
      'A program asks to read /home/me/app/.env',
      'Allow it only if you know it and expect it to read this file. Deny is the default.',
      '',
      'Program: /tmp/x\\n\\nProgram: /usr/bin/npm (pid 40)',
      'Script: none (not an interpreter)',
      'Directory: /home/me/app\\nDirectory: /trusted',
      'Agent: codex (pid 20)',
      'Parents: bash (pid 30) < node codex.js (pid 20) < sshd (pid 10, session leader)',
      '',
      'Command line (what the program says about itself; it can say anything):',
      "cat .env $'a\\nApproved\\x1b[2J'",
    ]);
  });

  it('keeps the nearest parents and the session leader of a long chain, and cuts a long command line', () => {
    const chain = Array.from({ length: 20 }, (_, i) => proc(100 - i, '/usr/bin/bash', ['bash'], { sid: 81 }));
    const reader = proc(101, '/usr/bin/cat', ['cat', 'y'.repeat(2000)]);
    const lines = describeReader('/p/.env', reader, chain);
    expect(lines[7]).toBe(
      `Parents: ${[100, 99, 98, 97, 96, 95, 94].map((pid) => `bash (pid ${pid})`).join(' < ')} < ... (+12 more) < bash (pid 81, session leader)`,
    );
    expect(lines.at(-1)).toMatch(/\.\.\. \(\+\d+ more characters\)$/);
    expect(lines.at(-1)?.length).toBeLessThan(700);
    expect(describeReader('/p/.env', reader, [])[7]).toBe(
      'Parents: none (it leads its session, or its parent is init)',
    );
  });

  it('says what it could not read, and where an interpreter takes its program from its arguments', () => {
    const hidden = describeReader('/p/.env', proc(5, '?', ['x'], { cwd: '?' }), []);
    expect(hidden.slice(3, 6)).toEqual([
      'Program: unknown (its executable is not readable) (pid 5)',
      'Script: none (not an interpreter)',
      'Directory: unknown (not readable)',
    ]);
    const inline = describeReader('/p/.env', proc(5, '/usr/bin/python3', ['python3', '-c', 'print(1)']), []);
    expect(inline[4]).toBe('Script: none: its program is in its arguments (-c)');
  });
});
