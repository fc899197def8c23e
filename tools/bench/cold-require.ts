/**
 * Cold `require` time of a module, measured in a fresh Node process each run (nothing cached),
 * and the unbundled `tsc` output of the replication source to compare the bundle against.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { bundleReplication, replicationEntry } from "../../lib/bundle";

const root = path.join(__dirname, "..", "..");

/**
 * The environment contract the handler reads at load (it throws without it). Nothing is called:
 * requiring only builds the clients.
 */
export const handlerEnvironment: Readonly<Record<string, string>> = {
  REGION: "eu-west-1",
  AWS_REGION: "eu-west-1",
  SOURCE_ENVIRONMENT: "prod",
  SOURCE_BUCKET: "bench-source",
  SOURCE_TABLE: "bench-source-table",
  TARGETS: JSON.stringify([{ environment: "dev", bucket: "bench-dev", table: "bench-dev" }]),
  DLQ_URL: "http://127.0.0.1:9/000000000000/bench-dlq",
  POWERTOOLS_LOG_LEVEL: "SILENT",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

/** Milliseconds that `require(file)` takes in a new Node process (with the handler's env). */
export function coldRequireMs(file: string): number {
  const script =
    "const t=process.hrtime.bigint();require(process.argv[1]);" +
    "process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))";
  const out = execFileSync(process.execPath, ["-e", script, path.resolve(file)], {
    cwd: root,
    env: { ...process.env, ...handlerEnvironment },
    encoding: "utf8",
  });
  return Number(out);
}

/**
 * Compiles lib/replication with tsc (CommonJS, no bundling) into build/bench-unbundled, inside the
 * repository so its imports resolve from node_modules as the unbundled code would, and returns
 * the path of the compiled handler.
 */
export function compileUnbundled(): string {
  const outDir = path.join(root, "build", "bench-unbundled");
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  execFileSync(
    process.execPath,
    [
      path.join(root, "node_modules", "typescript", "bin", "tsc"),
      path.join(root, "lib", "replication", "handler.ts"),
      "--outDir",
      outDir,
      "--rootDir",
      path.join(root, "lib", "replication"),
      "--module",
      "node16",
      "--moduleResolution",
      "node16",
      "--target",
      "ES2022",
      "--esModuleInterop",
      "--skipLibCheck",
    ],
    { cwd: root, stdio: "inherit" },
  );
  return path.join(outDir, "handler.js");
}

/**
 * An experiment, not what is deployed: lib/bundle.ts's esbuild options plus
 * `mainFields: ["module", "main"]`, so that esbuild takes the packages' ES module builds and
 * tree-shakes them (the default for platform node prefers their CommonJS builds). Written to
 * build/bench-variants/module-fields.js; returns its path.
 */
export function bundleWithModuleFields(): string {
  const code = bundleReplication(replicationEntry, { mainFields: ["module", "main"] });
  const file = path.join(root, "build", "bench-variants", "module-fields.js");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, code);
  return file;
}
