/**
 * The Node.js that runs the replication function's code outside AWS: the Lambda host's child
 * process (tools/emulators/lambda-host.ts, so the emulator tests, the deployment simulation and
 * `npm start`) and the cold-start benchmark load the built bundle on the Node.js major of the
 * function's runtime (`lambdaRuntime` in lib/bundle.ts), never on the machine's. tsc, eslint, jest
 * and the npm scripts keep running on the machine's Node.js.
 *
 * That Node.js is the npm registry's `node-<platform>-<arch>` package (the Node.js binary itself,
 * as `bin/node` in its tarball, no install script), pinned by tools/lambda-node/package.json and
 * its package-lock.json and installed there by the root package's postinstall
 * (`npm run install-lambda-node`). It is kept out of the root node_modules on purpose: npm links a
 * dependency's `bin` into node_modules/.bin, which npm scripts put first on PATH, so a `node` there
 * would run tsc, eslint and jest on it too.
 *
 * Nothing falls back to another Node.js: a platform without a pinned package, a package not
 * installed or a binary of another major is an error naming the package, the file and the fix.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { lambdaRuntime, runtimeNodeMajor } from "../../lib/bundle";
import { isRecord } from "./guards";

/** Where the runtime's Node.js is pinned and installed. */
export const lambdaNodeDir = path.join(__dirname, "..", "lambda-node");

const root = path.join(__dirname, "..", "..");

/** The runtime's Node.js cannot be had here; the message names what is missing and the fix. */
export class LambdaNodeError extends Error {
  override readonly name = "LambdaNodeError";
}

/** The npm package that ships Node.js for a platform, as the registry names them. */
export function nodePackageFor(platform: string, arch: string): string {
  return `node-${platform}-${arch}`;
}

/** The Node.js a runtime's code runs on here. */
export interface LambdaNode {
  readonly runtime: string;
  readonly executable: string;
  /** As `node --version` prints it: `v24.22.3`. */
  readonly version: string;
}

export interface LambdaNodeOptions {
  /** @default tools/lambda-node */
  readonly dir?: string;
  /** @default process.platform */
  readonly platform?: string;
  /** @default process.arch */
  readonly arch?: string;
}

/** The packages tools/lambda-node/package.json pins, by name. */
function pinnedPackages(dir: string): Record<string, string> {
  const manifest: unknown = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
  const pinned = isRecord(manifest) ? manifest.optionalDependencies : undefined;
  if (!isRecord(pinned)) return {};
  return Object.fromEntries(
    Object.entries(pinned).flatMap(([name, version]) =>
      typeof version === "string" ? [[name, version]] : [],
    ),
  );
}

/** `node --version` of each executable asked about, once per process. */
const versions = new Map<string, string>();

function versionOf(executable: string): string {
  let version = versions.get(executable);
  if (version === undefined) {
    version = execFileSync(executable, ["--version"], { encoding: "utf8" }).trim();
    versions.set(executable, version);
  }
  return version;
}

const shown = (file: string): string => path.relative(root, file) || file;

/**
 * The Node.js that runs `runtime`'s code here, checked to be of the runtime's major (by running
 * it with `--version`, once per process). Throws a `LambdaNodeError` otherwise.
 */
export function lambdaNode(
  runtime: string = lambdaRuntime,
  options: LambdaNodeOptions = {},
): LambdaNode {
  const major = runtimeNodeMajor(runtime);
  const dir = options.dir ?? lambdaNodeDir;
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const name = nodePackageFor(platform, arch);
  const manifest = shown(path.join(dir, "package.json"));
  const pinned = pinnedPackages(dir);
  const version = pinned[name];
  if (version === undefined) {
    const listed = Object.keys(pinned).join(", ") || "nothing";
    throw new LambdaNodeError(
      `No Node.js ${major} for ${platform}-${arch}: ${manifest} pins ${listed}. The tests and ` +
        `benchmarks that run the replication bundle need the Node.js of its runtime ${runtime} ` +
        `and never fall back to another one; add "${name}": "<${major}.x version>" to its ` +
        `optionalDependencies (npm install --prefix tools/lambda-node updates its lockfile).`,
    );
  }
  const executable = path.join(dir, "node_modules", name, "bin", "node");
  if (!existsSync(executable)) {
    throw new LambdaNodeError(
      `${name} ${version} is not installed: ${shown(executable)} does not exist. npm ci ` +
        `installs it (the postinstall script); run npm run install-lambda-node if install ` +
        `scripts were skipped.`,
    );
  }
  const found = versionOf(executable);
  if (found.split(".")[0] !== `v${major}`) {
    throw new LambdaNodeError(
      `runtime ${runtime} runs Node.js ${major}, but ${shown(executable)} is ${found}: the ` +
        `runtime's Node.js is the ${name} that ${manifest} pins (npm install --prefix ` +
        `tools/lambda-node updates its lockfile).`,
    );
  }
  return { runtime, executable, version: found };
}
