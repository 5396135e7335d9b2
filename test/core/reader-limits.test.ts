import { expect, it } from 'vitest';
import { readerLimits } from '../../src/core/reader-limits.js';

it('names the readers that would change a value, and none for a plain one', () => {
  expect(readerLimits(Buffer.from('plain value #1'))).toBeUndefined();
  expect(readerLimits(Buffer.from('costs $ 5'))).toBeUndefined();
  expect(readerLimits(Buffer.from('$HOME/x'))).toContain('Vite, Next, dotenvx and python-dotenv may expand');
  expect(readerLimits(Buffer.from('x\nINJECTED=1'))).toContain('bash reads its line breaks as `\\n`');
  expect(readerLimits(Buffer.from('a\nb'))).toContain('direnv');
  expect(readerLimits(Buffer.from('a\rb'))).toContain('node drops its CR');
  expect(readerLimits(Buffer.from('C:\\dir'))).toContain('python-dotenv decodes its backslashes');
  expect(readerLimits(Buffer.from("it's C:\\dir"))).toContain('bash, node and the dotenv package may decode');
  // Refused values are named by the renderer, not here.
  expect(readerLimits(Buffer.from("it's `x`"))).toBeUndefined();
});
