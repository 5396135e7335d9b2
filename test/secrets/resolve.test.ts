import { expect, it } from 'vitest';
import { parseTemplate } from '../../src/core/template.js';
import { resolveEntries, wipeItems } from '../../src/secrets/resolve.js';

it('records which bytes of each value came from references (what `envmount run` masks)', () => {
  const entries = parseTemplate(
    'URL="postgres://app:{{ envmount://PW }}@db/{{ envmount://DB }}"\nMODE=production\nKEY=envmount://PW\n',
    't',
  );
  const values: Record<string, string> = { PW: 'pa55word', DB: 'main' };
  const { items, secretRanges } = resolveEntries(entries, {
    lookup: (ref) => (ref.scheme === 'envmount' ? Buffer.from(values[ref.name] ?? '') : { problem: 'no' }),
    environmentNames: () => [],
  });
  const url = items[0];
  expect(url && 'value' in url ? url.value.toString() : undefined).toBe('postgres://app:pa55word@db/main');
  expect(secretRanges.get('URL')).toEqual([
    [15, 23],
    [27, 31],
  ]);
  expect(secretRanges.get('MODE')).toEqual([]);
  expect(secretRanges.get('KEY')).toEqual([[0, 8]]);
  wipeItems(items);
  expect(url && 'value' in url ? url.value.every((b) => b === 0) : false).toBe(true);
});
