/** The json, shell and yaml shapes: values byte-exact, checked against real parsers (JSON.parse, bash). */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderFormat } from '../../src/core/render-formats.js';
import { HARD_VALUES } from '../helpers/values.js';

const items = (values: Record<string, string>) =>
  Object.entries(values).map(([key, value]) => ({ key, value: Buffer.from(value) }));

describe('json', () => {
  it('is an object of the values, byte-exact, for any Unicode string', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), fc.string({ unit: 'binary' })),
        (values) => {
          const { content, refused } = renderFormat('json', items(values));
          expect(refused).toEqual([]);
          expect(JSON.parse(content.toString('utf8'))).toEqual(values);
        },
      ),
    );
  });

  it('leaves out a variable with no value (JSON has no comments) and a non-UTF-8 value, named', () => {
    const { content, refused } = renderFormat('json', [
      { key: 'A', value: Buffer.from('x') },
      { key: 'GONE', problem: 'not set' },
      { key: 'BIN', value: Buffer.from([0xff, 0xfe]) },
    ]);
    expect(Object.keys(JSON.parse(content.toString('utf8')))).toEqual(['A']);
    expect(refused).toEqual([{ key: 'BIN', reason: expect.stringContaining('not UTF-8') }]);
    expect(renderFormat('json', []).content.toString()).toBe('{}\n');
  });
});

describe('shell', () => {
  it('export lines that bash reads back byte-exact', () => {
    const { content } = renderFormat('shell', items(HARD_VALUES));
    const script = `set -e; eval "$(cat)"; for k in ${Object.keys(HARD_VALUES).join(' ')}; do printf '%s\\0' "\${!k}"; done`;
    const out = execFileSync('bash', ['-c', script], { input: content });
    expect(out.toString('utf8').split('\0').slice(0, -1)).toEqual(Object.values(HARD_VALUES));
  });

  it('comments a variable with no value, and refuses keys that are not shell names and NUL', () => {
    const { content, refused } = renderFormat('shell', [
      { key: 'GONE', problem: 'not set' },
      { key: 'a.b', value: Buffer.from('x') },
      { key: 'NUL', value: Buffer.from('a\0b') },
    ]);
    expect(content.toString()).toBe(
      '# GONE is not available: not set\n' +
        '# a.b cannot be served safely as shell: its name is not a shell variable name\n' +
        '# NUL cannot be served safely as shell: it holds a NUL byte, which no environment variable can carry\n',
    );
    expect(refused.map((r) => r.key)).toEqual(['a.b', 'NUL']);
  });
});

describe('yaml', () => {
  it('a mapping of double-quoted strings with escapes', () => {
    const { content } = renderFormat('yaml', items({ A: 'say "hi"\n\\', true: 'x' }));
    expect(content.toString()).toBe('"A": "say \\"hi\\"\\n\\\\"\n"true": "x"\n');
  });
});
