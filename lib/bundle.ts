/**
 * Bundles the replication Lambda (lib/replication) with esbuild. The Pulumi program calls this
 * every time it runs, so the deployed code can never be staler than the source; `npm run build`
 * writes the same bytes to dist/replication/index.js.
 */
import * as path from "node:path";
import { buildSync, type BuildOptions } from "esbuild";

/** The handler module that the bundle starts from. */
export const replicationEntry = path.join(__dirname, "replication", "handler.ts");

/** The Lambda runtime the bundle targets; the function is deployed on the same one. */
export const lambdaRuntime = "nodejs22.x";

/** The handler setting for the function: file `index.js`, export `handler`. */
export const lambdaHandler = "index.handler";

/**
 * Returns the bundled replication Lambda as one CommonJS file. Deterministic for a given source.
 * `overrides` is for experiments (the benchmark's); what the program deploys uses none.
 */
export function bundleReplication(
  entry: string = replicationEntry,
  overrides: Readonly<BuildOptions> = {},
): string {
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
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
