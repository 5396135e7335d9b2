import { describe, expect, it } from 'vitest';
import { BULK_NAME_PATTERNS, bulkReaderName, namedByRule } from '../../src/core/bulk-readers.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { buildPolicy } from '../../src/core/policy-edit.js';

const facts = (exe: string, ...argv: string[]) => ({ exe, argv: argv.length ? argv : [exe], cwd: '/p' });

describe('bulk readers', () => {
  it('names copiers, archivers, sync and backup tools by executable or argv[0]', () => {
    for (const name of ['git', 'tar', 'rsync', 'zip', 'cp', 'docker', 'buildkitd', 'rg', 'restic', 'borg'])
      expect(bulkReaderName(facts(`/usr/bin/${name}`))).toBe(name);
    expect(bulkReaderName(facts('/usr/lib/git-core/git', 'git', 'add', '-A'))).toBe('git');
  });

  it('names grep only when it recurses', () => {
    expect(bulkReaderName(facts('/usr/bin/grep', 'grep', 'TOKEN', '.env'))).toBeUndefined();
    expect(bulkReaderName(facts('/usr/bin/grep', 'grep', '-rn', 'TOKEN', '.'))).toBe('grep -r');
    expect(bulkReaderName(facts('/usr/bin/grep', 'grep', '--recursive', 'TOKEN'))).toBe('grep -r');
    expect(bulkReaderName(facts('/usr/bin/grep', 'grep', '--', '-r', 'x'))).toBeUndefined();
    for (const args of [['-d', 'recurse'], ['-nd', 'recurse'], ['-drecurse'], ['--directories=recurse']].concat([
      ['--directories', 'recurse'],
      ['--dir=recurse'],
      ['--recurs'],
      ['--dereference'],
    ]))
      expect(bulkReaderName(facts('/usr/bin/grep', 'grep', ...args, 'TOKEN', '.'))).toBe('grep -r');
    expect(bulkReaderName(facts('/usr/bin/grep', 'grep', '-d', 'skip', 'TOKEN', '.env'))).toBeUndefined();
    expect(bulkReaderName(facts('/usr/bin/grep', 'grep', '--directories=read', 'TOKEN', '.env'))).toBeUndefined();
  });

  it('names the tools an interpreter runs to pack, publish or upload a tree, by their script', () => {
    const npm = facts('/usr/bin/node', 'node', '/usr/lib/node_modules/npm/bin/npm-cli.js', 'pack');
    expect(bulkReaderName(npm)).toBe('node npm-cli.js');
    expect(bulkReaderName(facts('/usr/bin/node', 'node', '/p/.yarn/releases/yarn-4.1.0.cjs', 'pack'))).toBe(
      'node yarn-4.1.0.cjs',
    );
    expect(bulkReaderName(facts('/usr/bin/python3.11', 'python3', '/usr/bin/pip3.11', 'install', '.'))).toBe(
      'python3.11 pip3.11',
    );
    expect(bulkReaderName(facts('/usr/bin/node', 'npm pack --pack-destination /tmp/x'))).toBe('node npm');
    expect(bulkReaderName(facts('/usr/bin/node', 'node', 'server.js'))).toBeUndefined();
    expect(bulkReaderName(facts('/usr/bin/cat', 'npm', '.env'))).toBeUndefined();
    expect(namedByRule(buildPolicy(DEFAULT_POLICY, { allow: [`script:${npm.argv[1]}`] }), npm)).toBe(true);
  });

  it('names busybox running a bulk applet by its own name, and python running an archiving module', () => {
    expect(bulkReaderName(facts('/usr/bin/busybox', 'busybox', 'tar', 'cf', '-', '.'))).toBe('busybox tar');
    expect(bulkReaderName(facts('/usr/bin/busybox', 'busybox', 'grep', '-r', 'KEY', '.'))).toBe('busybox grep -r');
    expect(bulkReaderName(facts('/usr/bin/busybox', 'busybox', 'grep', 'KEY', '.env'))).toBeUndefined();
    expect(bulkReaderName(facts('/usr/bin/busybox', 'busybox', 'cat', '.env'))).toBeUndefined();
    expect(bulkReaderName(facts('/usr/bin/python3', 'python3', '-m', 'tarfile', '-c', 'o.tar', '.'))).toBe(
      'python3 -m tarfile',
    );
    expect(bulkReaderName(facts('/usr/bin/python3.11', 'python3', '-B', '-m', 'zipfile', '-c', 'o.zip', '.'))).toBe(
      'python3.11 -m zipfile',
    );
    expect(bulkReaderName(facts('/usr/bin/python3', 'python3', '-m', 'http.server'))).toBeUndefined();
    expect(bulkReaderName(facts('/usr/bin/python3', 'python3', 'app.py', '-m', 'tarfile'))).toBeUndefined();
  });

  it('leaves loaders and shells alone', () => {
    for (const exe of ['/usr/bin/node', '/usr/bin/python3', '/usr/bin/bash', '/usr/bin/cat', '/usr/bin/dd'])
      expect(bulkReaderName(facts(exe))).toBeUndefined();
  });

  it('an exe: or argv: allow rule names a bulk reader; any, ancestors and deny rules do not', () => {
    const tar = facts('/usr/bin/tar', 'tar', 'cf', '-', '.');
    expect(namedByRule(DEFAULT_POLICY, tar)).toBe(false);
    expect(namedByRule(buildPolicy(DEFAULT_POLICY, { allow: ['any'] }), tar)).toBe(false);
    expect(namedByRule(buildPolicy(DEFAULT_POLICY, { allow: ['ancestor:bash'] }), tar)).toBe(false);
    expect(namedByRule(buildPolicy(DEFAULT_POLICY, { deny: ['tar'] }), tar)).toBe(false);
    expect(namedByRule(buildPolicy(DEFAULT_POLICY, { allow: ['tar'] }), tar)).toBe(true);
    expect(namedByRule(buildPolicy(DEFAULT_POLICY, { allow: ['exe:/usr/bin/tar'] }), tar)).toBe(true);
    expect(namedByRule(buildPolicy(DEFAULT_POLICY, { allow: ['argv:tar cf *'] }), tar)).toBe(true);
  });

  it('has a hand-up pattern for every name it finds (the FUSE session thread serves the rest at once)', () => {
    // fnmatch(3) as native/fuse-handup.c applies it: `*`, and `[...]` sets.
    const fnmatch = (pattern: string, name: string) =>
      new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(name);
    const named = (name: string) => BULK_NAME_PATTERNS.some((p) => fnmatch(p, name));
    const bulk = [
      facts('/usr/bin/git'),
      facts('/usr/bin/grep', 'grep', '-r', 'x', '.'),
      facts('/usr/bin/node', 'node', '/usr/lib/node_modules/npm/bin/npm-cli.js', 'pack'),
      facts('/usr/bin/node', 'npm pack'),
      facts('/usr/bin/node', 'node', '/p/.yarn/releases/yarn-4.1.0.cjs'),
      facts('/usr/bin/python3', 'python3', '/usr/bin/pip3.11', 'install', '.'),
      facts('/usr/bin/node', 'node', 'node_modules/.bin/wrangler', 'deploy'),
      facts('/usr/bin/busybox', 'busybox', 'tar', 'cf', '-', '.'),
      facts('/usr/bin/python3', 'python3', '-m', 'tarfile', '-c', 'o.tar', '.'),
    ];
    for (const f of bulk) {
      expect(bulkReaderName(f)).toBeDefined();
      const words = [f.exe, ...f.argv, (f.argv[0] ?? '').split(' ')[0] ?? ''];
      expect(
        words.some((w) => named(w.slice(w.lastIndexOf('/') + 1))),
        f.argv.join(' '),
      ).toBe(true);
    }
    expect(named('node') || named('cat') || named('server.js')).toBe(false);
  });
});
