/**
 * lib/bundle.ts: the deployed bundle is one deterministic ES module, built once per source (kept
 * under the hash of its sources); overrides serve experiments only.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  bundleOptions,
  bundleReplication,
  bundleSourceHash,
  hashFiles,
  lambdaRuntime,
  replicationEntry,
  runtimeNodeMajor,
} from "../lib/bundle";

let cacheDir: string;
beforeAll(() => {
  cacheDir = mkdtempSync(path.join(tmpdir(), "bundle-cache-"));
});
afterAll(() => {
  rmSync(cacheDir, { recursive: true, force: true });
});

describe("the runtime", () => {
  it("is Lambda's Node.js 24, and the bundle targets the Node.js the runtime runs", () => {
    expect(lambdaRuntime).toBe("nodejs24.x");
    expect(bundleOptions.target).toBe(`node${runtimeNodeMajor(lambdaRuntime)}`);
    expect(bundleOptions.target).toBe("node24");
  });

  it("reads the Node.js major of a Node.js runtime identifier and refuses any other", () => {
    expect(runtimeNodeMajor("nodejs22.x")).toBe(22);
    expect(runtimeNodeMajor("nodejs24.x")).toBe(24);
    expect(() => runtimeNodeMajor("python3.13")).toThrow(
      /^runtime = "python3\.13" \(a Node\.js runtime: nodejs<major>\.x\)$/,
    );
    expect(() => runtimeNodeMajor("nodejs24")).toThrow(/runtime = "nodejs24"/);
  });
});

describe("bundleReplication", () => {
  it("builds one ES module from lib/replication/handler.ts, exporting handler", () => {
    const code = bundleReplication(replicationEntry, {}, cacheDir);

    expect(replicationEntry).toMatch(/lib[\\/]replication[\\/]handler\.ts$/);
    expect(code).toMatch(/export\s*\{[^}]*as handler\s*\}/);
    expect(code).not.toContain("module.exports");
    // CommonJS inside the bundle gets a require made for the module.
    expect(code.startsWith('import { createRequire as __createRequire } from "node:module";')).toBe(
      true,
    );
  });

  it("keeps the bundle under the hash of its sources and serves it from there", () => {
    const file = path.join(cacheDir, `${bundleSourceHash()}.mjs`);
    const built = bundleReplication(replicationEntry, {}, cacheDir);
    expect(readdirSync(cacheDir)).toEqual([path.basename(file)]);
    expect(readFileSync(file, "utf8")).toBe(built);

    // What is in the cache is what is served (esbuild is not run again).
    writeFileSync(file, "// cached");
    expect(bundleReplication(replicationEntry, {}, cacheDir)).toBe("// cached");
    rmSync(file);
    expect(bundleReplication(replicationEntry, {}, cacheDir)).toBe(built);
  });

  it("hashes the sources, so that every change of a file's content or name changes the hash", () => {
    expect(bundleSourceHash()).toMatch(/^[0-9a-f]{32}$/);
    expect(bundleSourceHash()).toBe(bundleSourceHash());
    const dir = mkdtempSync(path.join(tmpdir(), "bundle-hash-"));
    try {
      const a = path.join(dir, "a.ts");
      const b = path.join(dir, "b.ts");
      writeFileSync(a, "export const a = 1;");
      writeFileSync(b, "export const b = 1;");
      const before = hashFiles([a, b], dir);
      writeFileSync(b, "export const b = 2;");
      const edited = hashFiles([a, b], dir);
      expect(edited).not.toBe(before);
      expect(hashFiles([b, a], dir)).not.toBe(edited);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("applies esbuild overrides on top of the deployed options, never cached", () => {
    const deployed = bundleReplication(replicationEntry, {}, cacheDir);
    const readable = bundleReplication(replicationEntry, { minify: false }, cacheDir);

    expect(readable).not.toBe(deployed);
    expect(readable.length).toBeGreaterThan(deployed.length);
    expect(readdirSync(cacheDir)).toHaveLength(1);
  });
});
