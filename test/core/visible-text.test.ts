import { describe, expect, it } from 'vitest';
import { commandLine, quoteArg, truncate, visible } from '../../src/core/visible-text.js';

describe('visible', () => {
  it('escapes what moves the cursor, ends a line, reorders or mimics text, and the backslash', () => {
    expect(visible('a\nb\r\tc')).toBe('a\\nb\\r\\tc');
    expect(visible('\x1b[2J\x00\x7f\x85')).toBe('\\x1b[2J\\x00\\x7f\\u0085');
    expect(visible('evil\u202etxt.exe\u200b')).toBe('evil\\u202etxt.exe\\u200b');
    // A Cyrillic a in "cat", and a character outside the BMP.
    expect(visible('/usr/bin/c\u0430t \u{1f600}')).toBe('/usr/bin/c\\u0430t \\U0001f600');
    // A literal backslash-n cannot pass for an escaped newline.
    expect(visible('a\\nb')).toBe('a\\\\nb');
    expect(visible('plain <b>markup</b> & "quotes"')).toBe('plain <b>markup</b> & "quotes"');
  });
});

describe('truncate', () => {
  it('cuts at the limit with a marker saying how much is left out; short text unchanged', () => {
    expect(truncate('abcdef', 6)).toBe('abcdef');
    expect(truncate('abcdefgh', 3)).toBe('abc... (+5 more characters)');
  });
});

describe('quoteArg and commandLine', () => {
  it('quotes like a shell would need, with ANSI-C quoting for hidden characters', () => {
    expect(quoteArg('.env')).toBe('.env');
    expect(quoteArg('')).toBe("''");
    expect(quoteArg('a b')).toBe("'a b'");
    expect(quoteArg("it's")).toBe("'it'\\''s'");
    expect(quoteArg("a'\nb")).toBe("$'a\\'\\nb'");
    expect(quoteArg('<b>x</b>')).toBe("'<b>x</b>'");
  });

  it('joins the quoted arguments on one line and cuts it with a marker', () => {
    expect(commandLine(['cat', '.env', 'x\ny'], 100)).toBe("cat .env $'x\\ny'");
    const long = commandLine(['echo', 'x'.repeat(1000)], 50);
    expect(long).toMatch(/^echo x{45}\.\.\. \(\+955 more characters\)$/);
    expect(long).not.toContain('\n');
  });
});
