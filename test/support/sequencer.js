// Jest test sequencer: the longest suites start first, also in a fresh clone. Jest's own order
// uses the durations it recorded in its cache, and without a cache (every CI run) it orders by
// file size, which started the 60 s load test near the end and left one worker running it alone.
// Here a suite's duration is the cached one, else the estimate below, else none (those run after,
// largest file first). The estimates are what `npm run jest` measured here for its slowest
// suites; a stale one only costs time, never a result.
const Sequencer = require("@jest/test-sequencer").default;
const path = require("node:path");

/**
 * Seconds each suite took in a run of the whole gate on this machine (two cores, measured with
 * four workers; only their order matters, and it holds for two).
 */
const ESTIMATES = {
  "test/replication/load.test.ts": 61,
  "test/ops/resync-live.test.ts": 35,
  "test/simulation/simulation.test.ts": 33,
  "test/replication/integration-dead-letters.test.ts": 23,
  "test/ops/resync.test.ts": 20,
  "test/replication/masking-proof-emulators.test.ts": 19,
  "test/ops/redrive-cli.test.ts": 18,
  "test/sandbox/sandbox.test.ts": 18,
  "test/program/accounts-regions.test.ts": 16,
  "test/offline/consistency.test.ts": 16,
  "test/program/failures-and-variants.test.ts": 15,
  "test/ops/resync-cli.test.ts": 13,
  "test/offline/plan-cli.test.ts": 10,
};

class SlowestFirst extends Sequencer {
  sort(tests) {
    const size = (test) => test.context.hasteFS.getSize(test.path) ?? 0;
    const seconds = (test) => {
      const measured = this.time(test);
      if (measured !== undefined) return measured / 1000;
      return ESTIMATES[path.relative(test.context.config.rootDir, test.path)] ?? 0;
    };
    const keyed = tests.map((test) => ({
      test,
      failed: this.hasFailed(test),
      seconds: seconds(test),
      size: size(test),
    }));
    keyed.sort(
      (a, b) => Number(b.failed) - Number(a.failed) || b.seconds - a.seconds || b.size - a.size,
    );
    return keyed.map(({ test }) => test);
  }
}

module.exports = SlowestFirst;
