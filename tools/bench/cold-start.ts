/**
 * Cold start of the deployed bundle against an SDK-only anchor: a tiny entry that imports and
 * constructs the AWS SDK clients the function uses and nothing else, bundled by the same
 * lib/bundle.ts pipeline (its `bundleOptions`, its source map). Each measurement is a fresh Node
 * process that loads one bundle with a dynamic `import()` (ES module, as Lambda's Node.js
 * runtimes load `index.mjs`), and reports the wall time and the CPU time the import took. Every
 * load, the anchor's as the bundle's, runs on the Node.js of the function's runtime
 * (tools/common/lambda-node.ts), not on the machine's. The bench runs
 * the cases alternately, round after round, so that the machine's slow spells hit them alike.
 * Also: which packages the bundle carries beyond the anchor (esbuild's metafile), to see where a
 * cold start's time goes.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { buildSync } from "esbuild";
import {
  bundleFileName,
  bundleOptions,
  bundleReplication,
  functionRuntimeEnvironment,
  lambdaRuntime,
  replicationEntry,
} from "../../lib/bundle";
import { isRecord } from "../common/guards";
import { lambdaNode } from "../common/lambda-node";
import { root } from "./commands";

/** An AWS SDK client: its package and its class. */
export interface AnchorClient {
  readonly module: string;
  readonly className: string;
}

/** The AWS SDK clients the replication function uses (the bench checks the bundle for them). */
export const ANCHOR_CLIENTS: readonly AnchorClient[] = [
  { module: "@aws-sdk/client-s3", className: "S3Client" },
  { module: "@aws-sdk/client-dynamodb", className: "DynamoDBClient" },
  { module: "@aws-sdk/client-sqs", className: "SQSClient" },
  { module: "@aws-sdk/client-secrets-manager", className: "SecretsManagerClient" },
];

/** The anchor's entry module: import each client and construct it, nothing else. */
export function anchorEntrySource(clients: readonly AnchorClient[]): string {
  if (clients.length === 0) throw new Error("the anchor needs at least one client");
  return [
    "// The cold-start anchor, written by `npm run bench`: the AWS SDK clients the replication",
    "// function uses, imported and constructed, and nothing else.",
    ...clients.map(({ module, className }) => `import { ${className} } from "${module}";`),
    "",
    "export const clients = [",
    ...clients.map(({ className }) => `  new ${className}({}),`),
    "];",
    "",
  ].join("\n");
}

/** What a bundle's files are attributed to when they are the project's own. */
export const OWN_CODE = "(own code)";

/** The package an input file of a bundle belongs to (the innermost node_modules one). */
export function packageOf(input: string): string {
  const parts = input.split(/[\\/]/);
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return OWN_CODE;
  const name = parts[at + 1] ?? "";
  return name.startsWith("@") ? `${name}/${parts[at + 2] ?? ""}` : name;
}

/** The AWS SDK client packages among a bundle's input files, sorted. */
export function sdkClientPackages(inputs: Iterable<string>): string[] {
  const found = new Set<string>();
  for (const input of inputs) {
    const name = packageOf(input);
    if (name.startsWith("@aws-sdk/client-")) found.add(name);
  }
  return [...found].sort();
}

/** Bytes a bundle's output holds per package, from esbuild's metafile inputs. */
export function bytesByPackage(
  inputs: Readonly<Record<string, { readonly bytesInOutput: number }>>,
): Map<string, number> {
  const bytes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(inputs)) {
    const name = packageOf(input);
    bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
  }
  return bytes;
}

/** Per package, the bytes a bundle holds beyond the anchor's (more only), largest first. */
export function bytesBeyond(
  bundle: ReadonlyMap<string, number>,
  anchor: ReadonlyMap<string, number>,
): { readonly name: string; readonly bytes: number }[] {
  return [...bundle]
    .map(([name, bytes]) => ({ name, bytes: bytes - (anchor.get(name) ?? 0) }))
    .filter((entry) => entry.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}

/** esbuild's metafile inputs of the bundle of `entry`, with the deployed options. */
export function bundleInputs(entry: string): Record<string, { bytesInOutput: number }> {
  const result = buildSync({
    entryPoints: [entry],
    ...bundleOptions,
    absWorkingDir: root,
    outfile: path.join(root, bundleFileName),
    metafile: true,
    write: false,
  });
  const output = Object.entries(result.metafile.outputs).find(([file]) => !file.endsWith(".map"));
  if (output === undefined) throw new Error(`esbuild wrote no bundle for ${entry}`);
  return output[1].inputs;
}

/** The bundles the cold-start part times (the deployed one is dist/replication/index.mjs). */
export interface ColdStartBundles {
  /** The anchor's entry module (in the repository, so that its imports resolve). */
  readonly anchorEntry: string;
  /** The anchor, built exactly as the deployed bundle is. */
  readonly anchor: string;
  readonly anchorWithoutMap: string;
  readonly bundleWithoutMap: string;
  /** An experiment: the deployed bundle with a map of every dependency too (esbuild's own). */
  readonly bundleWithWholeMap: string;
}

/** Writes the anchor's entry and the bundles to build/bench/cold-start. */
export function buildColdStartBundles(): ColdStartBundles {
  const dir = path.join(root, "build", "bench", "cold-start");
  mkdirSync(dir, { recursive: true });
  const anchorEntry = path.join(dir, "anchor-entry.ts");
  writeFileSync(anchorEntry, anchorEntrySource(ANCHOR_CLIENTS));
  const write = (name: string, code: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, code);
    return file;
  };
  return {
    anchorEntry,
    anchor: write("anchor.mjs", bundleReplication(anchorEntry)),
    anchorWithoutMap: write(
      "anchor-without-map.mjs",
      bundleReplication(anchorEntry, { sourcemap: false }),
    ),
    bundleWithoutMap: write(
      "bundle-without-map.mjs",
      bundleReplication(replicationEntry, { sourcemap: false }),
    ),
    bundleWithWholeMap: write(
      "bundle-whole-map.mjs",
      bundleReplication(replicationEntry, { sourcemap: "inline" }),
    ),
  };
}

/**
 * The environment contract the handler reads at load (it throws without it). Nothing is called:
 * loading only reads it and builds what the module builds.
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
};

/** The NODE_OPTIONS the function is deployed with. */
export const deployedNodeOptions = functionRuntimeEnvironment.NODE_OPTIONS;

/** One cold load: the time `import()` of the bundle took in a fresh Node process. */
export interface ColdLoad {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Run by `node -e` with the bundle's path: import it, print the wall and CPU time it took. */
const COLD_LOAD_SCRIPT =
  "const cpu=process.cpuUsage();const start=process.hrtime.bigint();" +
  "import(require('node:url').pathToFileURL(process.argv[1]).href).then(()=>{" +
  "const used=process.cpuUsage(cpu);process.stdout.write(JSON.stringify({" +
  "wallMs:Number(process.hrtime.bigint()-start)/1e6,cpuMs:(used.user+used.system)/1e3}))})";

/** Reads the child's report; throws on anything else. */
export function parseColdLoad(output: string): ColdLoad {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    parsed = undefined;
  }
  if (
    isRecord(parsed) &&
    typeof parsed.wallMs === "number" &&
    typeof parsed.cpuMs === "number" &&
    parsed.wallMs > 0 &&
    parsed.cpuMs >= 0
  ) {
    return { wallMs: parsed.wallMs, cpuMs: parsed.cpuMs };
  }
  throw new Error(`not a cold load measurement: ${JSON.stringify(output.slice(0, 200))}`);
}

/**
 * Loads `file` in a fresh process of the function runtime's Node.js (with `nodeOptions` as
 * NODE_OPTIONS, or none).
 */
export function coldLoad(file: string, nodeOptions?: string): ColdLoad {
  const env: NodeJS.ProcessEnv = { ...process.env, ...handlerEnvironment };
  Reflect.deleteProperty(env, "NODE_OPTIONS");
  if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
  const node = lambdaNode(lambdaRuntime).executable;
  const output = execFileSync(node, ["-e", COLD_LOAD_SCRIPT, path.resolve(file)], {
    cwd: root,
    env,
    encoding: "utf8",
    // A failed load throws with the child's stderr in its message.
    stdio: ["ignore", "pipe", "pipe"],
  });
  return parseColdLoad(output);
}

/** A bundle loaded a given way. */
export interface ColdLoadCase {
  readonly name: string;
  readonly file: string;
  readonly nodeOptions?: string;
}

/**
 * `rounds` rounds, each loading every case once in the given order (after one unrecorded round
 * that warms the file cache); the samples of each case by name, in round order.
 */
export function alternateColdLoads(
  cases: readonly ColdLoadCase[],
  rounds: number,
  load: (file: string, nodeOptions?: string) => ColdLoad = coldLoad,
): Map<string, ColdLoad[]> {
  const samples = new Map<string, ColdLoad[]>(cases.map((entry) => [entry.name, []]));
  for (let round = -1; round < rounds; round++) {
    for (const entry of cases) {
      const sample = load(entry.file, entry.nodeOptions);
      if (round >= 0) samples.get(entry.name)?.push(sample);
    }
  }
  return samples;
}
