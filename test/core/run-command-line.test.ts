/** Code loaded into envmount's node before its script, by name or not (src/core/run-command-line.ts). */
import { describe, expect, it } from 'vitest';
import { preloadsOf, runCommandOf } from '../../src/core/run-command-line.js';

describe('preloadsOf', () => {
  it('finds options that load code without naming it, in the arguments and in NODE_OPTIONS', () => {
    for (const option of ['--env-file=x.env', '--env-file', '--env-file-if-exists=x', '--snapshot-blob'])
      expect(preloadsOf([option], undefined)).toEqual([option]);
    expect(preloadsOf([], '--openssl-config=/tmp/x.cnf --max-old-space-size=100')).toEqual([
      '--openssl-config=/tmp/x.cnf',
    ]);
    expect(preloadsOf(['--require', 'x'], undefined)).toEqual(['--require']);
  });

  it('leaves options that load no code alone', () => {
    expect(preloadsOf(['--max-old-space-size=100', '--no-warnings', '--enable-source-maps'], undefined)).toEqual([]);
  });
});

describe('runCommandOf', () => {
  it('finds the command after run and its options', () => {
    expect(runCommandOf(['run', '--env-file', 'a.env', '--', 'node', 'x.js'])).toEqual(['node', 'x.js']);
    expect(runCommandOf(['status'])).toBeUndefined();
  });
});
