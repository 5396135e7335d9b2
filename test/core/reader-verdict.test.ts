/**
 * The reader verdict's table (core/reader-verdict.ts): facts and policy in, outcome out. Every rule kind, deny
 * winning over allow and grants, grants, collisions, unidentified readers, and readers started by a coding agent
 * under each `--agents` setting.
 */
import { describe, expect, it } from 'vitest';
import type { Policy, ReaderFacts } from '../../src/core/policy.js';
import { buildPolicy } from '../../src/core/policy-edit.js';
import { type Outcome, type VerdictReader, verdict } from '../../src/core/reader-verdict.js';

const DIR = '/home/me/app';
const location = { dir: DIR, files: [`${DIR}/.env`, `${DIR}/.env.op`] };
const shell: ReaderFacts = { exe: '/usr/bin/bash', argv: ['-bash'], cwd: DIR, ancestors: [] };
const facts = (exe: string, argv: string[], over: Partial<ReaderFacts> = {}): ReaderFacts => ({
  exe,
  argv,
  cwd: DIR,
  ancestors: [shell],
  ...over,
});
const cat = facts('/usr/bin/cat', ['cat', '.env']);
const server = facts('/usr/bin/node', ['node', 'server.js']);
const vite = facts('/usr/bin/node', ['node', `${DIR}/node_modules/.bin/vite`, 'dev']);
const inline = facts('/usr/bin/node', ['node', '-e', 'require("fs").readFileSync(".env")']);
const python = facts('/usr/bin/python3', ['python3', '-c', 'print(open(".env").read())']);
const underNpm = facts('/usr/bin/cat', ['cat', '.env'], {
  ancestors: [facts('/usr/bin/node', ['npm', 'run', 'dev']), shell],
});
const agent = (f: ReaderFacts, name = 'claude'): ReaderFacts => ({ ...f, agent: name });
const blind = facts('?', []);

function policy(allow: string[], deny: string[] = [], over: Partial<Policy> = {}): Policy {
  return { ...buildPolicy({ fallback: 'ask', rules: [] }, { allow, deny }, DIR), ...over };
}
const judge = (p: Policy, readers: (ReaderFacts | VerdictReader)[]): Outcome =>
  verdict(
    { dir: DIR, policy: p, location },
    readers.map((r) => ('facts' in r ? r : { facts: r, granted: false })),
  );
const kind = (p: Policy, reader: ReaderFacts | VerdictReader) => judge(p, [reader]).kind;

describe('verdict', () => {
  it('matches every rule kind', () => {
    expect(kind(policy(['cat']), cat)).toBe('serve');
    expect(kind(policy(['exe:/usr/bin/c?t']), cat)).toBe('serve');
    expect(kind(policy(['argv:cat {mount}']), cat)).toBe('serve');
    expect(kind(policy(['ancestor:npm run *']), underNpm)).toBe('serve');
    expect(kind(policy(['ancestor:npm run *']), cat)).toBe('ask');
    expect(kind(policy(['script:./server.js']), server)).toBe('serve');
    expect(kind(policy(['script:*/node_modules/.bin/vite']), vite)).toBe('serve');
    expect(kind(policy(['script:server.js']), server)).toBe('serve');
    expect(kind(policy(['exe:/usr/bin/node script:./server.js']), server)).toBe('serve');
    expect(kind(policy(['exe:/usr/bin/deno script:./server.js']), server)).toBe('ask');
    expect(kind(policy(['exe:/usr/bin/cat argv:cat {mount}']), cat)).toBe('serve');
  });

  it('a script: rule never matches inline code, stdin or another script', () => {
    const p = policy(['script:*']);
    expect(kind(p, inline)).toBe('ask');
    expect(kind(p, python)).toBe('ask');
    expect(kind(p, facts('/usr/bin/node', ['node']))).toBe('ask');
    expect(kind(policy(['script:./server.js']), vite)).toBe('ask');
    expect(kind(p, cat)).toBe('ask');
  });

  it('deny wins over allow rules, over --otherwise allow and over a grant, naming the rule and its removal', () => {
    for (const p of [policy(['node', 'cat*'], ['cat']), policy([], ['cat'], { fallback: 'allow' })]) {
      const out = judge(p, [{ facts: cat, granted: true }]);
      expect(out).toMatchObject({ kind: 'refuse', decision: 'denied', basis: 'deny exe:cat' });
      expect(out.kind === 'refuse' && out.why).toContain('"deny exe:cat"');
      expect(out.kind === 'refuse' && out.fix).toContain("--remove 'deny cat'");
    }
  });

  it('falls back to ask, allow or deny; deny names --otherwise and advises the narrowest allow', () => {
    expect(kind(policy([]), cat)).toBe('ask');
    expect(kind(policy([], [], { fallback: 'allow' }), cat)).toBe('serve');
    const out = judge(policy([], [], { fallback: 'deny' }), [server]);
    expect(out).toMatchObject({ kind: 'refuse', decision: 'denied', basis: 'otherwise deny' });
    expect(out.kind === 'refuse' && out.fix).toBe(
      `\`envmount policy ${DIR} --allow 'exe:/usr/bin/node script:${DIR}/server.js'\``,
    );
  });

  it('a grant serves a reader the rules would ask about', () => {
    expect(judge(policy([]), [{ facts: cat, granted: true }])).toMatchObject({ kind: 'serve' });
  });

  it('an unidentified reader is refused whatever the policy says, and no reader at all too', () => {
    for (const p of [policy(['exe:*']), policy([], [], { fallback: 'allow' })]) {
      expect(judge(p, [{ facts: blind, granted: true }])).toMatchObject({ kind: 'refuse', decision: 'unidentified' });
    }
    expect(judge(policy([]), [])).toMatchObject({ kind: 'refuse', decision: 'unidentified', reader: undefined });
  });

  it('collisions: all allowed share; one denied refuses all; one asked refuses as a collision', () => {
    const p = policy(['cat', 'node']);
    expect(judge(p, [cat, server])).toMatchObject({ kind: 'serve' });
    expect(judge(policy(['node'], ['cat']), [server, cat])).toMatchObject({
      kind: 'refuse',
      decision: 'collision',
      reader: 1,
      collision: true,
    });
    expect(judge(policy(['node']), [server, cat])).toMatchObject({ kind: 'refuse', decision: 'collision' });
  });

  describe('readers started by a coding agent', () => {
    const broad = [policy(['node', 'cat', 'python3']), policy(['exe:*']), policy([], [], { fallback: 'allow' })];

    it('--agents ask (the default): never served by a broad rule or --otherwise allow, always asked', () => {
      for (const p of broad) {
        for (const f of [cat, server, inline, python]) expect(kind(p, agent(f))).toBe('ask');
      }
      expect(kind(policy(['ancestor:*']), agent(cat))).toBe('ask');
    });

    it('--agents ask: a script: rule or a grant serves its app; deny rules and --otherwise deny still refuse', () => {
      expect(kind(policy(['exe:/usr/bin/node script:./server.js']), agent(server))).toBe('serve');
      expect(kind(policy(['script:./server.js']), agent(inline))).toBe('ask');
      expect(judge(policy([]), [{ facts: agent(cat), granted: true }])).toMatchObject({ kind: 'serve' });
      expect(kind(policy(['script:./server.js'], ['node']), agent(server))).toBe('refuse');
      expect(kind(policy([], [], { fallback: 'deny' }), agent(cat))).toBe('refuse');
    });

    it('--agents deny: refused, naming the agent, with advice that asks about them again', () => {
      const p = policy(['script:./server.js'], [], { agents: 'deny', fallback: 'allow' });
      const out = judge(p, [agent(server, 'codex')]);
      expect(out).toMatchObject({ kind: 'refuse', decision: 'denied', basis: 'agents deny (codex)' });
      expect(out.kind === 'refuse' && out.why).toContain('started by codex');
      expect(out.kind === 'refuse' && out.fix).toContain('--agents ask');
      expect(kind(p, server)).toBe('serve');
    });

    it('--agents rules: judged as any reader', () => {
      const p = policy(['node', 'cat'], [], { agents: 'rules' });
      expect(kind(p, agent(cat))).toBe('serve');
      expect(kind(p, agent(inline))).toBe('serve');
      expect(kind(policy([], [], { agents: 'rules' }), agent(cat))).toBe('ask');
    });
  });
});
