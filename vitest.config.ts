import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files that set the suite's length (quiet 2-core machine: ~265, ~125 and ~60 s; every other file ≤ 36 s).
 * They start first, one per worker, whatever the cache says: the suite then lasts about as long as the longest of
 * them or half the sum of all files, whichever is more. Without a duration cache vitest starts the largest files
 * first, and store-under-faults could start minutes late and end the run alone (docs/decisions.md D54).
 */
const LONG_FIRST = ['test/e2e/store-under-faults.test.ts', 'test/e2e/crash-during-repricing.test.ts', 'test/e2e/crash-mid-update.test.ts'];

class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONG_FIRST.findIndex((p) => f.moduleId.endsWith(p));
      return i < 0 ? LONG_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keep vitest's order (failed first, then longest first).
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'firmware-protocol/test/**/*.test.ts'],
    // Safety nets against a hung run, not timing assertions: verdicts are simulated time (docs/decisions.md D22,
    // D53), and a machine shared with other work stretches wall time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // expect.poll waits for a state (a page, a delivery), never for a deadline: its wall limit is a safety net too
    // (vitest's default of 1 s failed on a loaded machine while the page was still rendering, D53).
    expect: { poll: { timeout: 60_000 } },
    pool: 'forks',
    // Two cores: more workers only add contention. The heavy end-to-end files may run side by side: their
    // verdicts are on paced clocks that stand still while their processes wait for a CPU (D22), so sharing the
    // machine stretches their wall time, never their outcome (D54).
    maxWorkers: 2,
    sequence: { sequencer: LongFirstSequencer },
  },
});
