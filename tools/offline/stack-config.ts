/**
 * Reads a Pulumi project (Pulumi.yaml) and one stack's config (Pulumi.<stack>.yaml) the way the
 * Pulumi CLI hands config to a program: keys as `namespace:key`, every value a string, lists
 * and maps as JSON.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { isRecord } from "../common/guards";

/** The project directory: the repository root (two levels above tools/offline). */
export const defaultProjectDir = path.resolve(__dirname, "..", "..");

/** What Pulumi.yaml says about the program. */
export interface ProjectFile {
  readonly name: string;
  /** Absolute path of the program's entry module: `main`, or `index.ts` in a `main` directory. */
  readonly main: string;
  readonly runtime: string;
}

/** One stack's config as the program receives it. */
export interface StackConfigFile {
  readonly project: ProjectFile;
  readonly stack: string;
  /** The stack file's path. */
  readonly file: string;
  /** Config keyed `namespace:key`; values are strings, structured values JSON. */
  readonly values: Record<string, string>;
}

function readYaml(file: string, what: string): unknown {
  if (!fs.existsSync(file)) {
    throw new Error(`${what} not found: ${file}`);
  }
  return parse(fs.readFileSync(file, "utf8")) as unknown;
}

/** Reads Pulumi.yaml and resolves `main` to the entry module. */
export function loadProject(projectDir: string = defaultProjectDir): ProjectFile {
  const file = path.join(projectDir, "Pulumi.yaml");
  const doc = readYaml(file, "Pulumi project file");
  if (!isRecord(doc) || typeof doc.name !== "string") {
    throw new Error(`${file} has no project name`);
  }
  const runtime = isRecord(doc.runtime) ? doc.runtime.name : doc.runtime;
  const mainSetting = typeof doc.main === "string" ? doc.main : ".";
  let main = path.resolve(projectDir, mainSetting);
  if (fs.existsSync(main) && fs.statSync(main).isDirectory()) {
    main = path.join(main, "index.ts");
  }
  return { name: doc.name, main, runtime: typeof runtime === "string" ? runtime : "" };
}

function toConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * Reads `Pulumi.<stack>.yaml`. Keys without a namespace get the project's, as Pulumi does.
 * Secrets (`secure:` values) cannot be decrypted offline and are rejected with a clear error, or
 * left out with `skipSecrets` (a reader that needs only some plain keys, such as the region).
 */
export function loadStackConfig(
  stack: string,
  projectDir: string = defaultProjectDir,
  options: { readonly skipSecrets?: boolean } = {},
): StackConfigFile {
  const project = loadProject(projectDir);
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  const doc = readYaml(file, `Stack file for stack "${stack}"`);
  const config = isRecord(doc) && isRecord(doc.config) ? doc.config : {};
  const values: Record<string, string> = {};
  for (const [rawKey, value] of Object.entries(config)) {
    const key = rawKey.includes(":") ? rawKey : `${project.name}:${rawKey}`;
    if (isRecord(value) && "secure" in value) {
      if (options.skipSecrets === true) continue;
      throw new Error(`${file}: ${key} is a secret; offline runs cannot decrypt secrets`);
    }
    values[key] = toConfigString(value);
  }
  return { project, stack, file, values };
}
