import { describe, expect, it } from 'vitest';
import { agentNameOf, agentOf, clientNameOf, pruneAgents, registerAgent } from '../../../src/daemon/readers/agents.js';

const proc = (exe: string, argv: string[], pid = 9, startTime = 1) => ({ pid, startTime, exe, argv, cwd: '/home/me' });

describe('agentNameOf', () => {
  it('names agents by executable, argv[0] or script', () => {
    expect(agentNameOf(proc('/home/me/.local/bin/cursor-agent', ['cursor-agent']))).toBe('cursor-agent');
    expect(agentNameOf(proc('/usr/share/cursor/cursor', ['/usr/share/cursor/cursor']))).toBe('cursor');
    expect(agentNameOf(proc('/home/me/.opencode/bin/opencode', ['opencode']))).toBe('opencode');
    expect(agentNameOf(proc('/usr/local/bin/goose', ['goose', 'session']))).toBe('goose');
    expect(agentNameOf(proc('/usr/bin/node', ['node', '/usr/lib/node_modules/@github/copilot/index.js']))).toBe(
      'copilot',
    );
    expect(agentNameOf(proc('/usr/bin/node', ['node', 'node_modules/@anthropic-ai/claude-code/cli.js']))).toBe(
      'claude',
    );
  });

  it('does not name inline code, options or ordinary programs', () => {
    expect(agentNameOf(proc('/usr/bin/node', ['node', '-e', 'claude']))).toBeUndefined();
    expect(agentNameOf(proc('/usr/bin/cat', ['cat', 'claude.txt']))).toBeUndefined();
    expect(agentNameOf(proc('/usr/bin/node', ['node', '/srv/app/server.js']))).toBeUndefined();
  });
});

describe('registered agents', () => {
  it('a registered process is an agent while it is the same process (same start time)', () => {
    registerAgent({ pid: 4242, startTime: 7 }, 'harness.js');
    expect(agentOf(proc('/usr/bin/node', ['node', 'harness.js'], 4242, 7))).toBe('harness.js');
    expect(agentOf(proc('/usr/bin/node', ['node', 'harness.js'], 4242, 8))).toBeUndefined();
    pruneAgents(() => false);
    expect(agentOf(proc('/usr/bin/node', ['node', 'harness.js'], 4242, 7))).toBeUndefined();
  });

  it('an unrecognised client is called by its script or executable', () => {
    expect(clientNameOf(proc('/usr/bin/node', ['node', '/opt/tools/harness.js']))).toBe('harness.js');
    expect(clientNameOf(proc('/opt/zed/zed', ['zed']))).toBe('zed');
  });
});
