// Jest: @swc/jest transpiles only (type-checking is `tsc --noEmit`, run once by `npm test`).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest"] },
  // @pulumi/pulumi loads typescript and @npmcli/arborist at import for closure serialization, which
  // the program never uses: stubbed, every suite that imports the program loads ~10 MB less.
  moduleNameMapper: {
    "^typescript$": "<rootDir>/test/support/closure-serializer-stub.ts",
    "^@npmcli/arborist$": "<rootDir>/test/support/closure-serializer-stub.ts",
  },
  moduleFileExtensions: ["ts", "js", "json"],
  collectCoverageFrom: [
    "index.ts",
    "lib/**/*.ts",
    "tools/offline/**/*.ts",
    "tools/ops/**/*.ts",
    "tools/common/cli-args.ts",
  ],
  coverageReporters: ["text-summary", "lcov"],
  coverageThreshold: {
    global: { statements: 95, branches: 95, functions: 95, lines: 95 },
  },
  // Readable output: no SDK warning that Node 20 support ends (jest runs on the machine's Node.js,
  // 20 here; the bundle runs on its runtime's Node.js 24, tools/common/lambda-node.ts), no INFO
  // lines of replication code run in-process.
  setupFiles: ["<rootDir>/test/support/jest-setup.ts"],
  // The offline plans of every stack, planned once per run and shared by the suites.
  globalSetup: "<rootDir>/test/support/global-setup.ts",
  // The longest suites first, with or without jest's cache of durations (a fresh clone has none).
  testSequencer: "<rootDir>/test/support/sequencer.js",
  testTimeout: 60000,
  // One worker per core. Four (tried because many suites wait on loopback I/O) cost more CPU for
  // no time once the suite became CPU-bound. 2026-12-08 on this 2-core machine, `npm test` from a
  // fresh clone: 219 s and 362 CPU-s with two workers, 220 s and 395 CPU-s with four; the type
  // check and lint beside jest on two workers took 228 s and 423 CPU-s.
  maxWorkers: 2,
};
