/**
 * Bundles the replication function (lib/replication) with esbuild into one ES module. The Pulumi
 * program calls this every time it runs, so the deployed code can never be staler than the
 * source; `npm run build` writes the same bytes to dist/replication/index.mjs.
 *
 * ES module output from the packages' ES module builds (`mainFields`), so that esbuild
 * tree-shakes them: the function's cold start pays for what it uses. Lambda's Node.js 22 runtime
 * runs a `.mjs` handler as an ES module ("specifying the type as module in the function's
 * package.json file, or by using the .mjs file extension",
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html).
 */
import * as path from "node:path";
import { buildSync, type BuildOptions } from "esbuild";

/** The handler module that the bundle starts from. */
export const replicationEntry = path.join(__dirname, "replication", "handler.ts");

/** The Lambda runtime the bundle targets; the function is deployed on the same one. */
export const lambdaRuntime = "nodejs22.x";

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

/** The esbuild options of the deployed bundle. */
export const bundleOptions: Readonly<BuildOptions> = {
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  mainFields: ["module", "main"],
  banner: { js: requireShim },
  minify: true,
  legalComments: "none",
  logLevel: "silent",
};

/**
 * Returns the bundled replication function as one ES module. Deterministic for a given source.
 * `overrides` is for experiments (the benchmark's); what the program deploys uses none.
 */
export function bundleReplication(
  entry: string = replicationEntry,
  overrides: Readonly<BuildOptions> = {},
): string {
  const result = buildSync({
    entryPoints: [entry],
    ...bundleOptions,
    absWorkingDir: path.join(__dirname, ".."),
    ...overrides,
    write: false,
  });
  const [output] = result.outputFiles;
  if (output === undefined) {
    throw new Error(`esbuild produced no output for ${entry}`);
  }
  return output.text;
}
