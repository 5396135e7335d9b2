/** Who a reader is: an interpreter with its script (resolved against its cwd), or inline code; else its executable. */
import { describe, expect, it } from 'vitest';
import { identityOf, isInlineCode, scriptOf } from '../../src/core/reader-identity.js';
import { narrowestRule } from '../../src/core/refusal-advice.js';

const at = (exe: string, argv: string[], cwd = '/app') => ({ exe, argv, cwd });
const location = { dir: '/app', files: ['/app/.env'] };

describe('scriptOf', () => {
  it.each([
    [at('/usr/bin/node', ['node', 'server.js']), '/app/server.js'],
    [at('/usr/bin/node', ['node', '--require', './x.js', 'server.js']), '/app/server.js'],
    [at('/usr/bin/node', ['node', '/srv/node_modules/.bin/vite', 'dev']), '/srv/node_modules/.bin/vite'],
    [at('/usr/bin/python3.12', ['python3', '-u', 'app/main.py']), '/app/app/main.py'],
    [at('/usr/bin/bash', ['bash', './deploy.sh', '-c', 'x']), '/app/deploy.sh'],
    [at('/usr/local/bin/deno', ['deno', 'run', 'main.ts']), '/app/main.ts'],
    [at('/usr/local/bin/bun', ['bun', 'index.ts']), '/app/index.ts'],
    [at('/usr/bin/ruby', ['ruby', '-r', 'json', 'app.rb']), '/app/app.rb'],
    [at('/usr/bin/fish', ['fish', 'x.fish']), '/app/x.fish'],
    [at('/usr/bin/perl', ['perl', '-pi.e', 'x.pl']), '/app/x.pl'],
    [at('/usr/bin/python3', ['python3', '-Wignore', 'app.py', '-c', 'x']), '/app/app.py'],
    [at('/usr/bin/node', ['node', '--inspect', 'app.js']), '/app/app.js'],
    [at('/usr/bin/bash', ['bash', '-eu', 'deploy.sh']), '/app/deploy.sh'],
  ])('%o runs %s', (facts, path) => {
    expect(scriptOf(facts)).toEqual({ kind: 'file', path });
  });

  it.each([
    at('/usr/bin/node', ['node', '-e', 'code']),
    at('/usr/bin/node', ['node', '--eval=code']),
    at('/usr/bin/node', ['node', '-p', 'code']),
    at('/usr/bin/python3', ['python3', '-c', 'code']),
    at('/usr/bin/python3', ['python3', '-m', 'http.server']),
    at('/usr/bin/perl', ['perl', '-E', 'code']),
    at('/usr/bin/php', ['php', '-r', 'code']),
    at('/usr/bin/bash', ['bash', '-c', 'cat .env']),
    at('/usr/bin/sh', ['sh', '-ec', 'cat .env']),
    at('/usr/local/bin/deno', ['deno', 'eval', 'code']),
    // Option clusters and node's options with a separate value (test/security/inline-code-disguise.test.ts).
    at('/usr/bin/node', ['node', '-pe', 'code']),
    at('/usr/bin/node', ['node', '--title', '/app/server.js', '-e', 'code']),
    at('/usr/bin/node', ['node', '--future-option', '/app/server.js', '--eval=code']),
    at('/usr/bin/python3', ['python3', '-Ic', 'code']),
    at('/usr/bin/python3', ['python3', '-cimport os']),
    at('/usr/bin/python3', ['python3', '-Bm', 'http.server']),
    at('/usr/bin/perl', ['perl', '-lne', 'code']),
    at('/usr/bin/ruby', ['ruby', '-ne', 'code']),
    at('/usr/bin/bash', ['bash', '-euo', 'pipefail', '-c', 'cat .env']),
  ])('%o is inline code', (facts) => {
    expect(scriptOf(facts)?.kind).toBe('inline');
    expect(isInlineCode(facts)).toBe(true);
    expect(narrowestRule({ ...facts, ancestors: [] }, location)).toBeUndefined();
  });

  it('a REPL or a program on stdin is inline code too; a non-interpreter has no script', () => {
    expect(scriptOf(at('/usr/bin/node', ['node']))).toEqual({ kind: 'stdin' });
    expect(scriptOf(at('/usr/bin/bash', ['bash', '-s']))).toEqual({ kind: 'stdin' });
    expect(scriptOf(at('/usr/bin/python3', ['python3', '-']))).toEqual({ kind: 'stdin' });
    expect(scriptOf(at('/usr/bin/cat', ['cat', '.env']))).toBeUndefined();
  });
});

describe('identityOf and narrowestRule', () => {
  it('names the interpreter with its script, or the inline code, or the executable', () => {
    expect(identityOf(at('/usr/bin/node', ['node', 'server.js']))).toBe('/usr/bin/node /app/server.js');
    expect(identityOf(at('/usr/bin/python3', ['python3', '-c', 'x']))).toBe('/usr/bin/python3 (inline code: -c)');
    expect(identityOf(at('/usr/bin/cat', ['cat', '.env']))).toBe('/usr/bin/cat');
  });

  it('the narrowest rule: interpreter + script, or executable + arguments (the mount taken out); never bare', () => {
    const rule = (exe: string, argv: string[]) => narrowestRule({ ...at(exe, argv), ancestors: [] }, location);
    expect(rule('/usr/bin/node', ['node', 'server.js'])).toEqual({
      effect: 'allow',
      kind: 'script',
      pattern: '/app/server.js',
      exe: '/usr/bin/node',
    });
    expect(rule('/usr/bin/cat', ['cat', '.env'])).toEqual({
      effect: 'allow',
      kind: 'argv',
      pattern: 'cat {mount}',
      exe: '/usr/bin/cat',
    });
    expect(rule('/usr/bin/grep', ['grep', '-r', '*', '.'])).toMatchObject({ pattern: 'grep -r ? {mount-dir}' });
  });
});
