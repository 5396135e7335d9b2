import { parse as dotenvParse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { parseDotenv } from '../../src/core/dotenv-parse.js';
import { quoteStyle, renderDotenv } from '../../src/core/render.js';

const HARD_VALUES: Record<string, string> = {
  SPACES: '  two  spaces  ',
  DQUOTE: 'say "hi"',
  SQUOTE: "it's",
  HASH: 'a #not a comment#',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is what this value tests
  DOLLAR: '$HOME ${USER} $',
  BACKSLASH: 'C:\\path\\n\\\\x',
  NEWLINES: 'line1\nline2\n',
  UNICODE: 'héllo ✓ 日本 🙂',
  BOTH: "it's `tick`",
  EQUALS: 'a=b==',
  EMPTY: '',
};

describe('renderDotenv', () => {
  it('writes values the dotenv package reads back byte-exact', () => {
    const items = Object.entries(HARD_VALUES).map(([key, value]) => ({ key, value: Buffer.from(value) }));
    const { content, unrepresentable } = renderDotenv(items);
    expect(unrepresentable).toEqual([]);
    expect(dotenvParse(content)).toEqual(HARD_VALUES);
    expect(parseDotenv(content).map(({ key, value }) => [key, value.toString()])).toEqual(Object.entries(HARD_VALUES));
  });

  it('chooses the quote style from the bytes', () => {
    expect(quoteStyle(Buffer.from('plain'))).toBe('single');
    expect(quoteStyle(Buffer.from("it's"))).toBe('backtick');
    expect(quoteStyle(Buffer.from("it's `x`"))).toBe('double');
    expect(quoteStyle(Buffer.from('it\'s `x` "y"'))).toBe('lossy');
    expect(quoteStyle(Buffer.from('a\rb'))).toBe('lossy');
  });

  it('reports unrepresentable values by name and writes problems as comments', () => {
    const { content, unrepresentable } = renderDotenv([
      { key: 'ALL', value: Buffer.from('\' ` "') },
      { key: 'GONE', problem: 'envmount://GONE is not set;\nrun it' },
    ]);
    expect(unrepresentable).toEqual(['ALL']);
    expect(content.toString()).toContain('# GONE is not available: envmount://GONE is not set; run it\n');
  });
});
