import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'firmware-protocol/test/**/*.test.ts'],
    // Safety nets against a hung run, not timing assertions: verdicts are simulated time (docs/decisions.md D22),
    // and a machine shared with other work stretches wall time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // two cores: more workers only add contention
    maxWorkers: 2,
  },
});
