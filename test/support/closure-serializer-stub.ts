/**
 * Stands, in the jest suites only, for the two packages @pulumi/pulumi loads at import for its
 * closure serializer (`typescript`, through its typescript-shim, and `@npmcli/arborist`, through
 * runtime/closure): about 10 MB of JavaScript, two thirds of what a suite that imports the program
 * loads, compiled again by every suite (jest gives each suite its own module registry). The
 * program never serializes a closure (the function's code is an esbuild bundle, lib/bundle.ts),
 * so nothing calls them; if something ever does, it fails with this message instead of running
 * against a stub. Mapped in jest.config.js (moduleNameMapper); tested in test/jest-config.test.ts.
 */
const message = (property: string) =>
  `"${property}" was asked of a package the jest suites stub out (typescript or @npmcli/arborist, ` +
  "which @pulumi/pulumi loads for closure serialization): the program should not serialize " +
  "closures; if it must, remove the stub from jest.config.js";

const stub: object = new Proxy(
  {},
  {
    get(_target, property) {
      // What module loaders and interop helpers probe on any module: answered as absent.
      if (typeof property === "symbol" || property === "__esModule" || property === "then") {
        return undefined;
      }
      throw new Error(message(property));
    },
  },
);

export = stub;
