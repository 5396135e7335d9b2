/** Changing a policy: unknown kinds are usage errors, contradictions refused, deny-wins warned, one rule removed. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { applyPolicyOptions, parseRule, removeRule } from '../../src/core/policy-edit.js';

describe('policy edits', () => {
  it('an unknown kind or a mistyped any is a usage error that lists the kinds', () => {
    expect(() => parseRule('ancestors:*npm*', 'deny')).toThrow(
      /unknown kind "ancestors:".*exe:GLOB, argv:GLOB, ancestor:GLOB, script:GLOB/,
    );
    expect(() => parseRule('ANY', 'allow')).toThrow(/write any in lower case/);
    expect(parseRule('script:./server.js', 'allow', '/app')).toEqual({
      effect: 'allow',
      kind: 'script',
      pattern: '/app/server.js',
    });
    expect(parseRule('exe:/usr/bin/node script:./s.js', 'allow', '/app')).toEqual({
      effect: 'allow',
      kind: 'script',
      pattern: '/app/s.js',
      exe: '/usr/bin/node',
    });
  });

  it('refuses a rule that contradicts a stored one and warns when a deny wins over a new allow', () => {
    const base = applyPolicyOptions(DEFAULT_POLICY, { deny: ['cat', 'exe:*'] });
    expect(() => applyPolicyOptions(base, { allow: ['cat'] })).toThrow(
      /contradicts "deny exe:cat".*--remove 'deny cat'/,
    );
    const warnings: string[] = [];
    applyPolicyOptions(base, { allow: ['node'] }, undefined, warnings);
    expect(warnings).toEqual(['"deny exe:*" wins over "allow exe:node": deny rules win, so that allow never applies']);
  });

  it('removes one rule, by its listed text or its bare text; an unknown one is a usage error', () => {
    const base = applyPolicyOptions(DEFAULT_POLICY, {
      allow: ['node'],
      deny: ['cat'],
      otherwise: 'deny',
      agents: 'rules',
    });
    expect(removeRule(base, 'deny exe:cat').rules).toEqual([{ effect: 'allow', kind: 'exe', pattern: 'node' }]);
    expect(removeRule(base, 'cat').rules).toHaveLength(1);
    expect(removeRule(base, 'deny cat')).toMatchObject({ fallback: 'deny', agents: 'rules' });
    expect(() => removeRule(base, 'allow cat')).toThrow(
      /No rule "allow cat" on this mount. Its rules: "allow node", "deny cat"/,
    );
  });
});
