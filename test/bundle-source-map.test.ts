/**
 * lib/bundle.ts source maps: the deployed bundle carries an inline map of the function's own
 * sources only, and with NODE_OPTIONS=--enable-source-maps (as deployed) a stack trace from the
 * bundle names lib/replication/*.ts files, on the Node.js of the function's runtime.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { decode, encode } from "@jridgewell/sourcemap-codec";
import {
  bundleReplication,
  functionRuntimeEnvironment,
  isOwnSource,
  keepSources,
  withInlineSourceMap,
  type SourceMapV3,
} from "../lib/bundle";
import { lambdaNode } from "../tools/common/lambda-node";

const run = promisify(execFile);

function inlineMapOf(code: string): SourceMapV3 {
  const found = /\n\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\n$/.exec(
    code,
  );
  if (found?.[1] === undefined) throw new Error("no inline source map at the end of the code");
  return JSON.parse(Buffer.from(found[1], "base64").toString("utf8")) as SourceMapV3;
}

describe("isOwnSource", () => {
  it("tells the project's sources from its dependencies'", () => {
    expect(isOwnSource("lib/replication/handler.ts")).toBe(true);
    expect(isOwnSource("build/bench/anchor/entry.ts")).toBe(true);
    expect(isOwnSource("node_modules/@aws-sdk/client-s3/dist-es/S3Client.js")).toBe(false);
    expect(isOwnSource("..\\node_modules\\zod\\v4\\core\\core.js")).toBe(false);
    expect(isOwnSource("lib/node_modules_notes.ts")).toBe(true);
  });
});

describe("keepSources", () => {
  const map: SourceMapV3 = {
    version: 3,
    sources: ["lib/a.ts", "node_modules/dep/index.js", "lib/b.ts"],
    names: ["foo", "bar", "baz"],
    mappings: encode([
      [
        [0, 0, 0, 0, 0],
        [10, 1, 5, 5, 1],
        [20, 1, 6, 0],
        [30, 2, 1, 1, 2],
      ],
      [
        [0, 1, 0, 0],
        [5, 0, 3, 3],
        [9, 2, 4, 4],
        // Unmapped already (a generated column only): stays unmapped.
        [12],
        [15, 2, 5, 0],
      ],
    ]),
  };

  it("keeps the accepted sources' mappings and names, renumbered, and ends each kept run", () => {
    const kept = keepSources(map, isOwnSource);

    expect(kept.sources).toEqual(["lib/a.ts", "lib/b.ts"]);
    expect(kept.names).toEqual(["foo", "baz"]);
    expect(decode(kept.mappings)).toEqual([
      // The dependency's code after foo is unmapped, not reported as lib/a.ts.
      [[0, 0, 0, 0, 0], [10], [30, 1, 1, 1, 1]],
      // A run of dropped code at a line's start is cut off from the line before.
      [[0], [5, 0, 3, 3], [9, 1, 4, 4], [12], [15, 1, 5, 0]],
    ]);
  });

  it("keeps everything when every source is accepted, and nothing when none is", () => {
    expect(keepSources(map, () => true)).toEqual({ ...map, mappings: map.mappings });
    expect(keepSources(map, () => false)).toEqual({
      version: 3,
      sources: [],
      names: [],
      mappings: ";",
    });
  });
});

describe("withInlineSourceMap", () => {
  it("appends the map as a base64 data URL comment on its own line", () => {
    const map: SourceMapV3 = { version: 3, sources: ["lib/a.ts"], names: [], mappings: "AAAA" };

    expect(inlineMapOf(withInlineSourceMap("export{};", map))).toEqual(map);
    expect(withInlineSourceMap("x;\n", map)).toMatch(/^x;\n\/\/# sourceMappingURL=data:/);
  });
});

describe("the deployed bundle's source map", () => {
  const code = bundleReplication();
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "bundle-map-"));
    writeFileSync(path.join(dir, "index.mjs"), code);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("maps only to the function's own sources, without their text", () => {
    const map = inlineMapOf(code);

    expect(map.sources.length).toBeGreaterThan(5);
    for (const source of map.sources) expect(source).toMatch(/^lib\/replication\/[\w-]+\.ts$/);
    expect(map.sources).toContain("lib/replication/handler.ts");
    expect(map).not.toHaveProperty("sourcesContent");
  });

  /** The stack of the error the bundle throws at load without its environment contract. */
  async function loadErrorStack(env: NodeJS.ProcessEnv): Promise<string> {
    const script =
      "import(require('node:url').pathToFileURL(process.argv[1]).href)" +
      ".then(() => process.stdout.write('loaded'), (e) => process.stdout.write(e.stack))";
    const { stdout } = await run(
      lambdaNode().executable,
      ["-e", script, path.join(dir, "index.mjs")],
      {
        env: { PATH: process.env.PATH, ...env },
      },
    );
    return stdout;
  }

  it("gives stack traces at lib/replication/*.ts lines with the deployed NODE_OPTIONS", async () => {
    const stack = await loadErrorStack({ ...functionRuntimeEnvironment });

    expect(stack).toMatch(/^ContractError: Invalid replication environment/);
    const frames = stack.split("\n").filter((line) => line.trimStart().startsWith("at "));
    expect(frames[0]).toMatch(/^\s+at readContract \(.*lib\/replication\/contract\.ts:\d+:\d+\)$/);
    expect(frames[1]).toMatch(/lib\/replication\/handler\.ts:\d+:\d+\)$/);
  });

  it("without source maps enabled, the same frames point into index.mjs", async () => {
    const stack = await loadErrorStack({});

    expect(stack).toMatch(/^ContractError: /);
    expect(stack).not.toMatch(/\.ts:\d+/);
    expect(stack).toMatch(/index\.mjs:\d+:\d+/);
  });
});
