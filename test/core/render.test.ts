import { parse as dotenvParse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { parseDotenv } from '../../src/core/dotenv-parse.js';
import { quoteStyle, renderDotenv } from '../../src/core/render.js';
import { HARD_VALUES as SHARED_HARD_VALUES } from '../helpers/values.js';

const HARD_VALUES: Record<string, string> = { ...SHARED_HARD_VALUES, EMPTY: '' };

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
    expect(quoteStyle(Buffer.from("it's"))).toBe('double-plain');
    expect(quoteStyle(Buffer.from("it's $HOME"))).toBe('backtick');
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
