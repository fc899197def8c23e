/**
 * Bundles the replication function (lib/replication) with esbuild into one ES module. The Pulumi
 * program calls this every time it runs, so the deployed code can never be staler than the
 * source; `npm run build` writes the same bytes to dist/replication/index.mjs.
 *
 * ES module output from the packages' ES module builds (`mainFields`), so that esbuild
 * tree-shakes them: the function's cold start pays for what it uses. Lambda's Node.js runtimes
 * run a `.mjs` handler as an ES module ("specifying the type as module in the function's
 * package.json file, or by using the .mjs file extension",
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html).
 *
 * Stack traces stay readable: the bundle carries an inline source map of the function's own
 * sources only (lib/replication/*.ts, no source text), and the function runs with
 * `NODE_OPTIONS=--enable-source-maps` (`functionRuntimeEnvironment`). Node.js reads a source map
 * when it loads the module, at a cost that grows with the map
 * (https://nodejs.org/api/cli.html#--enable-source-maps; "--enable-source-maps is unnecessarily
 * slow with large source files", https://github.com/nodejs/node/issues/41541): a map of every
 * bundled dependency (about 1 MB) added a quarter to the cold load, so the dependencies' mappings
 * are dropped (esbuild cannot leave them out itself,
 * https://github.com/evanw/esbuild/issues/1685). `npm run bench` measures what the map costs.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { decode, encode, type SourceMapSegment } from "@jridgewell/sourcemap-codec";
import { buildSync, type BuildOptions } from "esbuild";

/** The handler module that the bundle starts from. */
export const replicationEntry = path.join(__dirname, "replication", "handler.ts");

/**
 * The Lambda runtime the function is deployed on; the bundle's esbuild target follows it
 * (`bundleOptions.target`), and so does the Node.js that runs the bundle in the tests and the
 * benchmarks (tools/common/lambda-node.ts). `nodejs24.x`: Node.js 24 on Amazon Linux 2023,
 * deprecated on Apr 30, 2028 (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).
 *
 * What Node.js 24 changes for this function, checked:
 * - Lambda's Node.js 24 runtime has no callback-based handlers: a handler that takes a third
 *   argument fails the Init phase with `Runtime.CallbackHandlerDeprecated`
 *   (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html; `errorOnDeprecatedCallback`
 *   in https://github.com/aws/aws-lambda-nodejs-runtime-interface-client), and the context's
 *   `callbackWaitsForEmptyEventLoop` concerns callback handlers only
 *   (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html). The handler is
 *   `async (event, context)`; of the context it reads `getRemainingTimeInMillis`, and Powertools
 *   the function's name, version, ARN, memory and the request id.
 * - Node.js 24.0.0 (https://nodejs.org/en/blog/release/v24.0.0) runtime-deprecates `url.parse()`
 *   (DEP0169), `SlowBuffer` (DEP0030), the `fs.F_OK` family (DEP0176), zlib classes called
 *   without `new` (DEP0184) and arguments to a child process run with `shell` (DEP0190), and
 *   removes `tls.createSecurePair`, `dirent.path` and `OutgoingMessage` `_headers`
 *   (https://nodejs.org/api/deprecations.html). Neither the function's code nor what the bundle
 *   carries of the AWS SDK, Powertools and zod uses any of them; a runtime deprecation would
 *   print a warning to stderr, and the emulator tests run the bundle on Node.js 24 and require
 *   its stderr to stay empty (test/replication/integration-regions-metrics.test.ts).
 *   `AsyncLocalStorage` (which Powertools' invoke store uses) now runs on `AsyncContextFrame`,
 *   with the same API.
 * - The AWS SDK for JavaScript v3 warns on Node.js below 22 that its releases after the first week
 *   of January 2027 need Node.js 22 or newer (`emitWarningIfUnsupportedVersion`, @aws-sdk/core):
 *   on Node.js 24, nothing.
 */
export const lambdaRuntime = "nodejs24.x";

/** The Node.js major a Lambda runtime runs: `nodejs24.x` runs Node.js 24. */
export function runtimeNodeMajor(runtime: string): number {
  const found = /^nodejs(\d+)\.x$/.exec(runtime);
  if (found?.[1] === undefined) {
    throw new Error(`runtime = "${runtime}" (a Node.js runtime: nodejs<major>.x)`);
  }
  return Number(found[1]);
}

/** The bundle's file name in the deployment package. */
export const bundleFileName = "index.mjs";

/** The handler setting for the function: file `index.mjs`, export `handler`. */
export const lambdaHandler = "index.handler";

/**
 * CommonJS code inside an ES module bundle may still `require` Node's built-ins; ES modules have
 * no `require`, so the bundle makes one (esbuild's documented answer for this case).
 */
const requireShim =
  'import { createRequire as __createRequire } from "node:module";' +
  "const require = __createRequire(import.meta.url);";

/**
 * The esbuild options of the deployed bundle. The source map comes out as a separate output
 * (`external`, without the sources' text); `bundleReplication` keeps the function's own part of
 * it and inlines that.
 */
export const bundleOptions: Readonly<BuildOptions> = {
  bundle: true,
  platform: "node",
  target: `node${runtimeNodeMajor(lambdaRuntime)}`,
  format: "esm",
  mainFields: ["module", "main"],
  banner: { js: requireShim },
  minify: true,
  legalComments: "none",
  sourcemap: "external",
  sourcesContent: false,
  logLevel: "silent",
};

/**
 * Variables the function runs with because of how it is bundled (beside its contract): Node.js
 * applies the bundle's source map to stack traces.
 */
export const functionRuntimeEnvironment: Readonly<Record<string, string>> = {
  NODE_OPTIONS: "--enable-source-maps",
};

const root = path.join(__dirname, "..");

/** A source map (https://tc39.es/ecma426/), as esbuild writes it. */
export interface SourceMapV3 {
  readonly version: number;
  readonly sources: readonly string[];
  readonly names: readonly string[];
  readonly mappings: string;
}

/** Whether a source is the project's own (not a dependency's). */
export function isOwnSource(source: string): boolean {
  return !source.split(/[\\/]/).includes("node_modules");
}

/**
 * The part of a source map that maps back to the sources `keep` accepts: the other sources, their
 * names and their mappings are dropped. Where dropped code follows kept code, a segment with a
 * generated column only ("unmapped") ends the kept mapping, so that a stack frame in a dependency
 * is not reported at the last line of the function's own code before it.
 */
export function keepSources(map: SourceMapV3, keep: (source: string) => boolean): SourceMapV3 {
  const sources: string[] = [];
  // Each source's index in the kept map, or undefined when it is dropped.
  const sourceIndex = map.sources.map((source) => {
    if (!keep(source)) return undefined;
    sources.push(source);
    return sources.length - 1;
  });
  const names: string[] = [];
  const nameIndex = new Map<number, number>();
  const nameOf = (index: number): number => {
    let kept = nameIndex.get(index);
    if (kept === undefined) {
      kept = names.length;
      names.push(map.names[index] ?? "");
      nameIndex.set(index, kept);
    }
    return kept;
  };
  let mapped = false;
  const lines = decode(map.mappings).map((line) => {
    const kept: SourceMapSegment[] = [];
    for (const segment of line) {
      const source = segment.length === 1 ? undefined : sourceIndex[segment[1]];
      if (segment.length === 1 || source === undefined) {
        if (mapped) kept.push([segment[0]]);
        mapped = false;
        continue;
      }
      const [column, , sourceLine, sourceColumn] = segment;
      kept.push(
        segment.length === 4
          ? [column, source, sourceLine, sourceColumn]
          : [column, source, sourceLine, sourceColumn, nameOf(segment[4])],
      );
      mapped = true;
    }
    return kept;
  });
  return { version: map.version, sources, names, mappings: encode(lines) };
}

/** `code` with `map` inline, as a base64 `data:` URL in a `sourceMappingURL` comment. */
export function withInlineSourceMap(code: string, map: SourceMapV3): string {
  const data = Buffer.from(JSON.stringify(map)).toString("base64");
  const separator = code.endsWith("\n") ? "" : "\n";
  return `${code}${separator}//# sourceMappingURL=data:application/json;base64,${data}\n`;
}

/** Where built bundles are kept, by the hash of what they are built from. */
export const defaultCacheDir = path.join(root, "node_modules", ".cache", "replication-bundle");

function sourcesOf(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => {
      const file = path.join(directory, entry.name);
      if (entry.isDirectory()) return sourcesOf(file);
      return entry.name.endsWith(".ts") ? [file] : [];
    })
    .sort();
}

/**
 * The hash of everything the deployed bundle is built from: the function's sources, this file
 * (the esbuild options) and the lockfile (the exact dependencies).
 */
export function bundleSourceHash(): string {
  return hashFiles(
    [
      ...sourcesOf(path.dirname(replicationEntry)),
      __filename,
      path.join(root, "package-lock.json"),
    ],
    root,
  );
}

/** A hash of the files' paths (relative to `base`) and contents. */
export function hashFiles(files: readonly string[], base: string): string {
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(path.relative(base, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex").slice(0, 32);
}

function build(entry: string, overrides: Readonly<BuildOptions>): string {
  const result = buildSync({
    entryPoints: [entry],
    ...bundleOptions,
    absWorkingDir: root,
    // Never written (write: false): it names the outputs and makes the map's sources relative to
    // the repository root (`lib/replication/handler.ts`).
    outfile: path.join(root, bundleFileName),
    ...overrides,
    write: false,
  });
  const output = result.outputFiles.find((file) => !file.path.endsWith(".map"));
  if (output === undefined) {
    throw new Error(`esbuild produced no output for ${entry}`);
  }
  const map = result.outputFiles.find((file) => file.path.endsWith(".map"));
  if (map === undefined) return output.text;
  return withInlineSourceMap(
    output.text,
    keepSources(JSON.parse(map.text) as SourceMapV3, isOwnSource),
  );
}

/**
 * Returns the bundled replication function as one ES module. Deterministic for a given source,
 * and built once per source: the deployed bundle is kept in `cacheDir` under the hash of its
 * sources (a program run, a test or a tool that finds it there skips esbuild). `overrides` is
 * for experiments (the benchmark's), never cached; what the program deploys uses none.
 */
export function bundleReplication(
  entry: string = replicationEntry,
  overrides: Readonly<BuildOptions> = {},
  cacheDir: string = defaultCacheDir,
): string {
  if (entry !== replicationEntry || Object.keys(overrides).length > 0) {
    return build(entry, overrides);
  }
  const cached = path.join(cacheDir, `${bundleSourceHash()}.mjs`);
  try {
    return readFileSync(cached, "utf8");
  } catch {
    // not built yet from these sources
  }
  const code = build(entry, overrides);
  try {
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${cached}.${process.pid}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, cached);
  } catch {
    // a read-only tree: the bundle is still right, only not kept
  }
  return code;
}
