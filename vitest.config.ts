import { defineConfig } from 'vitest/config';

/**
 * Pure code, no daemon, no reader, no timing: these files run in parallel (`npm run test:unit`, a few seconds).
 * Everything else is an integration file (a real daemon, real FIFOs, real readers).
 */
const UNIT = [
  'test/core/**/*.test.ts',
  'test/daemon/readers/approvals.test.ts',
  'test/daemon/readers/audit.test.ts',
  'test/daemon/mounts/heal/mount-healer.test.ts',
  'test/daemon/mounts/mount.test.ts',
  'test/daemon/mounts/reference-leases.test.ts',
  'test/native/**/*.test.ts',
  'test/run/locate.test.ts',
  'test/run/masked-output.test.ts',
  'test/secrets/**/*.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: UNIT, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: UNIT,
          // One file at a time, after the unit files: each starts real daemons and readers, and two at once on a
          // 2-core machine only make each other slow. No test in them asserts a duration (that is `npm run bench`).
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
