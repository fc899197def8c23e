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
