import { describe, expect, it } from 'vitest';
import { parseTemplate, referencesOf } from '../../src/core/template.js';

const parse = (text: string) => parseTemplate(text, 'proj/.env.op');

describe('parseTemplate', () => {
  it('reads literals, references, comments, export and quoting', () => {
    const entries = parse(
      [
        '# a comment',
        '',
        'export PLAIN=hello world # trailing comment',
        'REF=envmount://API_KEY',
        'OP=op://Dev/Item/field',
        "SINGLE='envmount://not-a-ref # kept'",
        'DOUBLE="line1\\nline2 \\"q\\""',
        'URL=postgres://user@localhost/db',
        'MIXED="postgres://app:{{ envmount://DB_PASS }}@db:5432/app"',
        'MULTI="first',
        'second"',
        'EMPTY=',
      ].join('\n'),
    );
    const byKey = Object.fromEntries(entries.map((e) => [e.key, e]));
    expect(byKey.PLAIN?.parts).toEqual([{ kind: 'text', text: 'hello world' }]);
    expect(byKey.REF?.parts).toMatchObject([{ kind: 'ref', ref: { scheme: 'envmount', name: 'API_KEY' } }]);
    expect(byKey.OP?.parts).toMatchObject([{ kind: 'ref', ref: { scheme: 'op', field: 'field' } }]);
    expect(byKey.SINGLE?.parts).toEqual([{ kind: 'text', text: 'envmount://not-a-ref # kept' }]);
    expect(byKey.DOUBLE?.parts).toEqual([{ kind: 'text', text: 'line1\nline2 "q"' }]);
    expect(byKey.URL?.parts).toEqual([{ kind: 'text', text: 'postgres://user@localhost/db' }]);
    expect(byKey.MIXED?.parts).toMatchObject([
      { kind: 'text', text: 'postgres://app:' },
      { kind: 'ref', ref: { name: 'DB_PASS' } },
      { kind: 'text', text: '@db:5432/app' },
    ]);
    expect(byKey.MULTI?.parts).toEqual([{ kind: 'text', text: 'first\nsecond' }]);
    expect(byKey.EMPTY?.parts).toEqual([{ kind: 'text', text: '' }]);
    expect(byKey.MULTI?.line).toBe(10);
    expect(byKey.EMPTY?.line).toBe(12);
    expect(referencesOf(entries).map((r) => r.raw)).toEqual([
      'envmount://API_KEY',
      'op://Dev/Item/field',
      'envmount://DB_PASS',
    ]);
  });

  it.each([
    ['A=1\nthis is not a line\n', /proj\/\.env\.op:2: expected KEY=value/],
    ['1BAD=x', /proj\/\.env\.op:1: "1BAD" is not a valid variable name/],
    ['A=1\nB="never closed\n\n', /proj\/\.env\.op:2: the value opened with " is never closed/],
    ['A=0p://v/i/f', /proj\/\.env\.op:1: .*did you mean op:\/\//],
    ['A=op://v/i', /proj\/\.env\.op:1: Invalid reference/],
    ['A="x {{ https://example.com }}"', /:1: .*Inside \{\{ \}\} only op:\/\/ and envmount:\/\//],
    ['A="x {{ envmount://X"', /:1: "\{\{" is never closed/],
    ['A=1\nA=2', /:2: A is already defined on line 1/],
    ["A='x' junk", /:1: unexpected text after the closing '/],
  ])('names file and line for %j', (text, message) => {
    expect(() => parse(text)).toThrow(message);
  });

  it('handles CRLF files', () => {
    expect(parse('A=1\r\nB=2\r\n').map((e) => e.key)).toEqual(['A', 'B']);
  });
});
