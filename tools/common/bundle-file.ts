/**
 * The built replication bundle for the sandbox and the benchmarks: `ensureBundle` writes
 * dist/replication/index.js (as `npm run build` does) when it is missing or differs from what the
 * current source bundles to, so a fresh clone works right after `npm ci`; `loadHandler` loads a
 * fresh copy of it in this process with an environment contract, as Lambda would.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { bundleReplication } from "../../lib/bundle";

/** Where `npm run build` writes the bundle. */
export const bundleFile = path.join(__dirname, "..", "..", "dist", "replication", "index.js");

export type ReplicationHandler = (event: unknown) => Promise<unknown>;

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

/**
 * Sets `env` on process.env, loads a fresh copy of the bundle (it reads its environment at
 * load) and returns its handler. The variables stay set: the SDK reads endpoint variables
 * lazily, so keep them until the handler is no longer used, then call `restore`.
 */
export function loadHandler(
  env: Readonly<Record<string, string>>,
  file: string = bundleFile,
): { handler: ReplicationHandler; restore: () => void } {
  const previous = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  const nodeRequire = createRequire(__filename);
  const resolved = nodeRequire.resolve(file);
  Reflect.deleteProperty(nodeRequire.cache, resolved);
  const loaded = nodeRequire(resolved) as { handler?: unknown };
  Reflect.deleteProperty(nodeRequire.cache, resolved);
  const { handler } = loaded;
  if (typeof handler !== "function") throw new Error(`${file} exports no handler function`);
  return {
    handler: handler as ReplicationHandler,
    restore: () => {
      for (const [name, value] of Object.entries(previous)) {
        if (value === undefined) Reflect.deleteProperty(process.env, name);
        else process.env[name] = value;
      }
    },
  };
}
