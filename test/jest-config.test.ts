/**
 * The jest configuration's stub of the closure serializer's packages (jest.config.js
 * moduleNameMapper, test/support/closure-serializer-stub.ts): what @pulumi/pulumi loads in the
 * suites is the stub, which answers any use with an error that says why.
 */
import * as pulumi from "@pulumi/pulumi";

const STUB_MESSAGE = /a package the jest suites stub out .*remove the stub from jest.config.js/;

/** A module as the suites' registry resolves it (the mapper applies; the real one otherwise). */
const load = (name: string): object => jest.requireActual<object>(name);

test("typescript, as @pulumi/pulumi's shim loads it, is the stub in the suites", () => {
  const shim = load("@pulumi/pulumi/typescript-shim");
  expect(() => {
    Reflect.get(shim, "createSourceFile");
  }).toThrow(STUB_MESSAGE);
});

test("@npmcli/arborist is the stub in the suites", () => {
  expect(() => {
    Reflect.get(load("@npmcli/arborist"), "Arborist");
  }).toThrow(/"Arborist" was asked of a package/);
});

test("the stub answers what loaders probe as absent, so importing @pulumi/pulumi works", () => {
  expect(typeof pulumi.ComponentResource).toBe("function");
  const shim = load("@pulumi/pulumi/typescript-shim");
  expect(Reflect.get(shim, "__esModule")).toBeUndefined();
  expect(Reflect.get(shim, Symbol.toStringTag)).toBeUndefined();
});

describe("the test sequencer (test/support/sequencer.js)", () => {
  interface FakeTest {
    readonly path: string;
    readonly context: {
      readonly config: { readonly rootDir: string; readonly cache: boolean };
      readonly hasteFS: { getSize(file: string): number };
    };
  }
  interface Sequencer {
    sort(tests: FakeTest[]): FakeTest[];
    time(test: FakeTest): number | undefined;
    hasFailed(test: FakeTest): boolean;
  }
  type SequencerClass = new (options: object) => Sequencer;
  const rootDir = "/repo";
  const sizes: Record<string, number> = {
    "/repo/test/big.test.ts": 9000,
    "/repo/test/small.test.ts": 100,
    "/repo/test/replication/load.test.ts": 500,
    "/repo/test/ops/resync-live.test.ts": 400,
  };
  // No cache: what a fresh clone has.
  const context = {
    config: { rootDir, cache: false },
    hasteFS: { getSize: (file: string) => sizes[file] ?? 0 },
  };
  const make = (file: string): FakeTest => ({ path: `${rootDir}/${file}`, context });
  const Slowest = jest.requireActual<SequencerClass>("./support/sequencer.js");
  const names = (tests: FakeTest[]) => tests.map((test) => test.path.replace(`${rootDir}/`, ""));

  it("starts the suites known to be slow first without a cache, then the largest files", () => {
    const tests = ["test/small.test.ts", "test/big.test.ts", "test/ops/resync-live.test.ts"]
      .concat("test/replication/load.test.ts")
      .map(make);
    expect(names(new Slowest({}).sort(tests))).toEqual([
      "test/replication/load.test.ts",
      "test/ops/resync-live.test.ts",
      "test/big.test.ts",
      "test/small.test.ts",
    ]);
  });

  it("prefers the durations jest measured, and failed suites go first", () => {
    // What jest's cache holds after a run (TestSequencer's time and hasFailed read it).
    const measured: Record<string, readonly [milliseconds: number, failed: boolean]> = {
      "/repo/test/small.test.ts": [120_000, false],
      "/repo/test/big.test.ts": [1_000, true],
      "/repo/test/replication/load.test.ts": [5_000, false],
    };
    class Cached extends Slowest {
      override time(test: FakeTest): number | undefined {
        return measured[test.path]?.[0];
      }
      override hasFailed(test: FakeTest): boolean {
        return measured[test.path]?.[1] ?? false;
      }
    }
    const tests = ["test/small.test.ts", "test/big.test.ts", "test/replication/load.test.ts"].map(
      make,
    );
    expect(names(new Cached({}).sort(tests))).toEqual([
      "test/big.test.ts",
      "test/small.test.ts",
      "test/replication/load.test.ts",
    ]);
  });
});
