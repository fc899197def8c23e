/**
 * The built replication bundle on disk, for `npm run build`, the sandbox, the benchmarks and the
 * tests: `ensureBundle` writes dist/replication/index.mjs when it is missing or differs from what
 * the current source bundles to (so a fresh clone works right after `npm ci`); `importHandler`
 * loads a fresh copy of it into this process with an environment contract, as Lambda would.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { bundleFileName, bundleReplication } from "../../lib/bundle";

/** Where `npm run build` writes the bundle. */
export const bundleFile = path.join(__dirname, "..", "..", "dist", "replication", bundleFileName);

export type ReplicationHandler = (event: unknown, context?: unknown) => Promise<unknown>;

/** Writes the bundle if missing or stale; says which. */
export function ensureBundle(file: string = bundleFile): {
  file: string;
  bytes: number;
  status: "built" | "rebuilt" | "up to date";
} {
  const code = bundleReplication();
  const bytes = Buffer.byteLength(code);
  if (existsSync(file)) {
    if (readFileSync(file, "utf8") === code) return { file, bytes, status: "up to date" };
  }
  const status = existsSync(file) ? "rebuilt" : "built";
  mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, code);
  renameSync(partial, file);
  return { file, bytes, status };
}

let loads = 0;

/**
 * Sets `env` on process.env, imports a fresh copy of the bundle (it reads its environment when it
 * loads; a query string makes Node load the module again) and returns its handler. The variables
 * stay set: the SDK reads endpoint variables lazily, so keep them until the handler is no longer
 * used, then call `restore`. In-process, for the sandbox and the benchmarks; jest suites run the
 * bundle in a child process (tools/emulators/lambda-host.ts).
 */
export async function importHandler(
  env: Readonly<Record<string, string>>,
  file: string = bundleFile,
): Promise<{ handler: ReplicationHandler; restore: () => void }> {
  const previous = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const restore = (): void => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
  };
  Object.assign(process.env, env);
  try {
    loads += 1;
    const url = `${pathToFileURL(path.resolve(file)).href}?load=${loads}`;
    const loaded = (await import(url)) as { handler?: unknown };
    const { handler } = loaded;
    if (typeof handler !== "function") throw new Error(`${file} exports no handler function`);
    return { handler: handler as ReplicationHandler, restore };
  } catch (error: unknown) {
    restore();
    throw error;
  }
}
