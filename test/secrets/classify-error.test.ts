/** The one table of 1Password errors: every example reads as its own entry, and no name can change a reading. */
import { describe, expect, it } from 'vitest';
import { blankNames, classify, exampleOf, opMessage, quotedNames } from '../../src/secrets/classify-error.js';
import { OP_ERRORS, SDK_ERRORS } from '../../src/secrets/onepassword-errors.js';

describe('1Password error table', () => {
  it.each([...SDK_ERRORS.map((e) => ['sdk', e] as const), ...OP_ERRORS.map((e) => ['op', e] as const)])(
    '%s: %s reads as itself and names where it was seen',
    (table, entry) => {
      expect(classify(table === 'sdk' ? SDK_ERRORS : OP_ERRORS, exampleOf(entry))?.id).toBe(entry.id);
      expect(entry.source.length).toBeGreaterThan(10);
    },
  );

  it('reads op messages by their fixed words only: names that look like other messages change nothing', () => {
    for (const name of ['locked', 'sign in', 'You are not currently signed in', 'network is unreachable', '(429)']) {
      const message = `could not resolve item UUID for item "${name}": "${name}" isn't an item in the "${name}" vault`;
      expect(classify(OP_ERRORS, message)?.id).toBe('op-no-item');
    }
    expect(blankNames('a "locked-box" b "dev" c')).toBe('a "" b "" c');
    expect(quotedNames('a "locked-box" b "dev" c')).toEqual(['locked-box', 'dev']);
  });

  it("cuts op's [ERROR] date time prefix", () => {
    expect(opMessage('[ERROR] 2026/01/01 00:00:00 Invalid session token\n')).toBe('Invalid session token');
    expect(classify(OP_ERRORS, opMessage('[ERROR] 2026/01/01 00:00:00 Invalid session token\n'))?.kind).toBe('auth');
  });

  it('leaves what it does not know unclassified (the callers fail the whole call)', () => {
    expect(classify(OP_ERRORS, 'something new went wrong')).toBeUndefined();
    expect(classify(SDK_ERRORS, 'something new went wrong')).toBeUndefined();
  });
});
