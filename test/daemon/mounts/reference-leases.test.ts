import { expect, it } from 'vitest';
import { ReferenceLeases } from '../../../src/daemon/mounts/reference-leases.js';

it('keeps references and Environments until their lease ends; a new run extends it', () => {
  let now = 1000;
  const leases = new ReferenceLeases(() => now);
  leases.add(['op://v/a/f'], ['env1'], 100);
  now = 1050;
  leases.add(['op://v/b/f'], [], 100);
  expect(leases.current()).toEqual({ references: ['op://v/a/f', 'op://v/b/f'], environments: ['env1'] });
  now = 1100;
  expect(leases.current()).toEqual({ references: ['op://v/b/f'], environments: [] });
  leases.add(['op://v/b/f'], [], 100);
  now = 1199;
  expect(leases.current().references).toEqual(['op://v/b/f']);
  now = 1200;
  expect(leases.current().references).toEqual([]);
});
