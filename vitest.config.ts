import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // One file at a time: the integration files run real daemons and readers whose timing the tests assert (one
    // whole copy per reader, identification of readers released together); on the 2-core machines CI runs on, two
    // files in parallel starve the mount threads often enough to break them (measured: 1 run in 10 under load).
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
