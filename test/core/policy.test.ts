import { describe, expect, it } from 'vitest';
import { withoutLocation } from '../../src/core/argv-location.js';
import {
  DEFAULT_POLICY,
  decide,
  describePolicy,
  globToRegExp,
  needsNoDecision,
  type ReaderFacts,
} from '../../src/core/policy.js';
import { buildPolicy, parseRule } from '../../src/core/policy-edit.js';

const node: ReaderFacts = {
  exe: '/usr/local/bin/node',
  argv: ['node', 'server.js', '--port', '3000'],
  ancestors: [
    { exe: '/usr/local/bin/node', argv: ['npm', 'run', 'dev'] },
    { exe: '/usr/bin/bash', argv: ['-bash'] },
  ],
};
const cat: ReaderFacts = {
  exe: '/usr/bin/cat',
  argv: ['cat', '.env'],
  ancestors: [{ exe: '/usr/bin/bash', argv: ['bash'] }],
};

describe('policy', () => {
  it('parses rule kinds', () => {
    expect(parseRule('node', 'allow')).toEqual({ effect: 'allow', kind: 'exe', pattern: 'node' });
    expect(parseRule('exe:/usr/bin/*', 'deny')).toEqual({ effect: 'deny', kind: 'exe', pattern: '/usr/bin/*' });
    expect(parseRule('argv:*vite*', 'allow')).toMatchObject({ kind: 'argv', pattern: '*vite*' });
    expect(parseRule('ancestor:*npm run dev*', 'allow')).toMatchObject({ kind: 'ancestor' });
    expect(() => parseRule('argv:', 'allow')).toThrow(/empty pattern/);
  });

  it('matches basenames, full paths, command lines and ancestors', () => {
    const p = (allow: string[]) => buildPolicy({ fallback: 'deny', rules: [] }, { allow });
    expect(decide(p(['node']), node).verdict).toBe('allow');
    expect(decide(p(['node']), cat).verdict).toBe('deny');
    expect(decide(p(['exe:/usr/local/bin/node']), node).verdict).toBe('allow');
    expect(decide(p(['exe:/usr/bin/node']), node).verdict).toBe('deny');
    expect(decide(p(['argv:node server.js *']), node).verdict).toBe('allow');
    expect(decide(p(['ancestor:*npm run dev*']), node).verdict).toBe('allow');
    expect(decide(p(['ancestor:*npm run dev*']), cat).verdict).toBe('deny');
    expect(decide(p(['ancestor:bash']), cat).verdict).toBe('allow');
  });

  it('lets deny win and falls back to ask by default', () => {
    const policy = buildPolicy(DEFAULT_POLICY, { allow: ['node', 'cat*'], deny: ['cat'] });
    expect(decide(policy, cat)).toMatchObject({ verdict: 'deny', rule: { effect: 'deny', pattern: 'cat' } });
    // The same rule both ways is refused: the allow could never apply.
    expect(() => buildPolicy(DEFAULT_POLICY, { allow: ['cat'], deny: ['cat'] })).toThrow(/contradicts "allow exe:cat"/);
    expect(decide(policy, node).verdict).toBe('allow');
    expect(decide(DEFAULT_POLICY, node)).toEqual({ verdict: 'ask', rule: undefined });
  });

  it('treats any as the fallback and knows when no decision is needed', () => {
    const any = buildPolicy(DEFAULT_POLICY, { allow: ['any'] });
    expect(any).toEqual({ fallback: 'allow', rules: [] });
    // Readers started by an agent are still asked about (--agents ask, the default): every read is decided.
    expect(needsNoDecision(any)).toBe(false);
    expect(needsNoDecision({ ...any, agents: 'rules' })).toBe(true);
    expect(needsNoDecision(buildPolicy({ ...any, agents: 'rules' }, { deny: ['cat'] }))).toBe(false);
    expect(needsNoDecision(DEFAULT_POLICY)).toBe(false);
    expect(describePolicy(any)).toContain('any reader');
    expect(describePolicy(buildPolicy(DEFAULT_POLICY, { allow: ['node'] }))).toBe('allow exe:node; otherwise ask');
  });

  it('globs only * and ?, everything else literal', () => {
    expect(globToRegExp('a.b*').test('a.bcd')).toBe(true);
    expect(globToRegExp('a.b*').test('axbcd')).toBe(false);
    expect(globToRegExp('(x)?').test('(x)1')).toBe(true);
  });
});

describe('argv rules and the mount’s own location (issue 14, class 7)', () => {
  const home = '/home/me';
  const dir = `${home}/my-vite-app`;
  const location = { dir, files: [`${dir}/.env`, `${dir}/.env.op`] };
  const vite = buildPolicy({ fallback: 'deny', rules: [] }, { allow: ['argv:*vite*'] });
  const reader = (argv: string[], cwd: string, ancestors: ReaderFacts['ancestors'] = []): ReaderFacts => ({
    exe: `/usr/bin/${argv[0]}`,
    argv,
    cwd,
    ancestors,
  });

  it('naming the mount, its template or its directory does not make an argv rule match', () => {
    const refused: Array<[string[], string]> = [
      [['cat', `${dir}/.env`], home],
      [['cat', 'my-vite-app/.env'], home],
      [['cat', '../my-vite-app/.env'], `${home}/other`],
      [['cat', './my-vite-app/../my-vite-app/.env.op'], home],
      [['python3', '-c', `print(open('${dir}/.env').read())`], '/tmp'],
      [['python3', '-c', "print(open('my-vite-app/.env').read())"], home],
      [['node', `--env-file=${dir}/.env`, '-e', '1'], '/'],
      [['ls', dir], '/'],
      [['tar', 'cf', '-', 'my-vite-app'], home],
    ];
    for (const [argv, cwd] of refused) {
      expect(decide(vite, reader(argv, cwd), location).verdict, argv.join(' ')).toBe('deny');
      // Without the location (the old matching) each of these was allowed.
      expect(decide(vite, reader(argv, cwd)).verdict, argv.join(' ')).toBe('allow');
    }
  });

  it('the program the rule is for still matches, wherever it is spelled', () => {
    const allowed: Array<[string[], string]> = [
      [['node', `${dir}/node_modules/.bin/vite`, '--port', '3000'], dir],
      [['node', 'node_modules/.bin/vite'], dir],
      [['node', 'my-vite-app/node_modules/.bin/vite'], home],
      [['npx', 'vite', 'build'], dir],
      [['cat', `${home}/my-vite-app-old/.env`], home], // another directory, not the mount's
    ];
    for (const [argv, cwd] of allowed) {
      expect(decide(vite, reader(argv, cwd), location).verdict, argv.join(' ')).toBe('allow');
    }
  });

  it('exact argv rules keep working with the location taken out, and ancestors get the same treatment', () => {
    const exact = buildPolicy({ fallback: 'deny', rules: [] }, { allow: ['argv:node server.js --port 3000'] });
    expect(decide(exact, reader(['node', 'server.js', '--port', '3000'], dir), location).verdict).toBe('allow');
    const parent = buildPolicy({ fallback: 'deny', rules: [] }, { allow: ['ancestor:*vite*'] });
    const shell = { exe: '/usr/bin/bash', argv: ['bash', '-c', `cat ${dir}/.env`], cwd: home };
    expect(decide(parent, reader(['cat', `${dir}/.env`], home, [shell]), location).verdict).toBe('deny');
    const dev = { exe: '/usr/bin/node', argv: ['node', `${dir}/node_modules/.bin/vite`], cwd: dir };
    expect(decide(parent, reader(['node', 'child.js'], dir, [dev]), location).verdict).toBe('allow');
  });

  it('shows what a rule matches: the location as {mount} and {mount-dir}', () => {
    const argv = ['cat', `${dir}/.env`, `${dir}/src/x.ts`, 'my-vite-app', `${dir}x`, `${dir}.bak/y`];
    expect(withoutLocation(argv, home, location)).toEqual([
      'cat',
      '{mount}',
      '{mount-dir}/src/x.ts',
      '{mount-dir}',
      `${dir}x`,
      `${dir}.bak/y`,
    ]);
    // An unreadable working directory ("?"): only absolute spellings are recognised.
    expect(withoutLocation(['cat', '.env', `${dir}/.env`], '?', location)).toEqual(['cat', '.env', '{mount}']);
  });
});
