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
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
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

const root = path.join(__dirname, "..");

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
