import { parse as dotenvParse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { parseDotenv } from '../../src/core/dotenv-parse.js';
import { dotenvStyle, renderDotenv } from '../../src/core/render.js';
import { HARD_VALUES as SHARED_HARD_VALUES } from '../helpers/values.js';

const HARD_VALUES: Record<string, string> = { ...SHARED_HARD_VALUES, EMPTY: '' };
const style = (value: string) => dotenvStyle(Buffer.from(value));

describe('renderDotenv', () => {
  it('writes values the dotenv package reads back byte-exact, and refuses the one no quoting keeps inert', () => {
    const items = Object.entries(HARD_VALUES).map(([key, value]) => ({ key, value: Buffer.from(value) }));
    const { content, refused } = renderDotenv(items);
    expect(refused.map((r) => r.key)).toEqual(['BOTH']);
    const { BOTH: _, ...served } = HARD_VALUES;
    expect(dotenvParse(content)).toEqual(served);
    expect(parseDotenv(content).map(({ key, value }) => [key, value.toString()])).toEqual(Object.entries(served));
  });

  it('chooses the quoting from the bytes', () => {
    expect(style('plain')).toBe('single');
    expect(style('a\nb\n')).toBe('single');
    expect(style("it's")).toBe('double');
    expect(style("it's\nfine\n")).toBe('double');
    // Lines direnv would load as variables: written on one line.
    expect(style('x\nINJECTED=1')).toBe('double-escaped');
    expect(style("it's\nexport X=1")).toBe('double-escaped');
    expect(style('x\n# comment\n  \nA: b')).toBe('double-escaped');
  });

  it('refuses what no quoting carries safely, saying why without the value', () => {
    expect(style("it's $HOME")).toEqual({ refuse: expect.stringContaining("holds ' with") });
    expect(style("it's `x`")).toEqual({ refuse: expect.stringContaining("holds ' with") });
    expect(style('it\'s "x"')).toEqual({ refuse: expect.stringContaining("holds ' with") });
    expect(style('C:\\dir\\')).toEqual({ refuse: expect.stringContaining('ends in a backslash') });
    expect(style('a\0b')).toEqual({ refuse: expect.stringContaining('NUL') });
    expect(style('x\nINJECTED=$1')).toEqual({ refuse: expect.stringContaining('direnv') });
  });

  it('names refused values and writes them, and problems, as one comment line each', () => {
    const { content, refused } = renderDotenv([
      { key: 'ALL', value: Buffer.from('\' ` "\nNODE_OPTIONS=x') },
      { key: 'GONE', problem: 'envmount://GONE is not set;\nrun it\u2028X=1' },
      { key: 'bad\nNAME', value: Buffer.from('x') },
    ]);
    expect(refused.map((r) => r.key)).toEqual(['ALL', 'bad\nNAME']);
    expect(content.toString()).toBe(
      '# ALL cannot be served safely as dotenv: it holds \' with ", $ or a backtick: no quoting keeps it one inert value for both bash and node\n' +
        '# GONE is not available: envmount://GONE is not set; run it X=1\n' +
        '# (a variable whose name is not a valid KEY) cannot be served safely as dotenv: its name is not a valid KEY\n',
    );
  });
});
