import { describe, expect, it } from 'vitest';
import { isDangerousName, refusedNames } from '../../src/core/dangerous-env.js';

describe('dangerous environment names', () => {
  it('covers loaders, runtimes and shells, by name and by prefix', () => {
    for (const name of ['LD_PRELOAD', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES', 'NODE_OPTIONS', 'PYTHONPATH', 'BASH_ENV']) {
      expect(isDangerousName(name), name).toBe(true);
    }
    for (const name of ['API_KEY', 'DATABASE_URL', 'NODE_ENV', 'LD', 'PYTHONUNBUFFERED', 'OLD_PRELOAD']) {
      expect(isDangerousName(name), name).toBe(false);
    }
  });

  it('refuses each dangerous name once, in order, unless allowed by name', () => {
    expect(refusedNames(['A', 'NODE_OPTIONS', 'LD_PRELOAD', 'NODE_OPTIONS'], [])).toEqual([
      'NODE_OPTIONS',
      'LD_PRELOAD',
    ]);
    expect(refusedNames(['NODE_OPTIONS', 'LD_PRELOAD'], ['LD_PRELOAD'])).toEqual(['NODE_OPTIONS']);
  });
});
