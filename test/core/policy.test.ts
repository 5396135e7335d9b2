import { describe, expect, it } from 'vitest';
import {
  buildPolicy,
  DEFAULT_POLICY,
  decide,
  describePolicy,
  globToRegExp,
  needsNoDecision,
  parseRule,
  type ReaderFacts,
} from '../../src/core/policy.js';

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
    const policy = buildPolicy(DEFAULT_POLICY, { allow: ['node', 'cat'], deny: ['cat'] });
    expect(decide(policy, cat)).toMatchObject({ verdict: 'deny', rule: { effect: 'deny', pattern: 'cat' } });
    expect(decide(policy, node).verdict).toBe('allow');
    expect(decide(DEFAULT_POLICY, node)).toEqual({ verdict: 'ask', rule: undefined });
  });

  it('treats any as the fallback and knows when no decision is needed', () => {
    const any = buildPolicy(DEFAULT_POLICY, { allow: ['any'] });
    expect(any).toEqual({ fallback: 'allow', rules: [] });
    expect(needsNoDecision(any)).toBe(true);
    expect(needsNoDecision(buildPolicy(any, { deny: ['cat'] }))).toBe(false);
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
