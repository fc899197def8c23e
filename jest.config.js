// Jest: @swc/jest transpiles only (type-checking is `tsc --noEmit`, run once by `npm test`).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest"] },
  moduleFileExtensions: ["ts", "js", "json"],
  collectCoverageFrom: ["index.ts", "lib/**/*.ts"],
  coverageReporters: ["text-summary", "lcov"],
  coverageThreshold: {
    global: { statements: 95, branches: 95, functions: 95, lines: 95 },
  },
  testTimeout: 60000,
};
