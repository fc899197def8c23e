/** lib/bundle.ts: the deployed bundle is deterministic; overrides serve experiments only. */
import { bundleReplication, replicationEntry } from "../lib/bundle";

describe("bundleReplication", () => {
  const deployed = bundleReplication();

  it("is deterministic and starts from lib/replication/handler.ts", () => {
    expect(bundleReplication(replicationEntry)).toBe(deployed);
    expect(replicationEntry).toMatch(/lib[\\/]replication[\\/]handler\.ts$/);
  });

  it("applies esbuild overrides on top of the deployed options, and stays one CommonJS file", () => {
    const readable = bundleReplication(replicationEntry, { minify: false });
    expect(readable).not.toBe(deployed);
    expect(readable.length).toBeGreaterThan(deployed.length);
    expect(readable).toContain("module.exports");
  });
});
