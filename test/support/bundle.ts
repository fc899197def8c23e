/**
 * Loads the built replication bundle (the bytes the program deploys) in an isolated module
 * registry, configured only through environment variables, as Lambda would load it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { bundleReplication } from "../../lib/bundle";

export interface BundleModule {
  handler: (event: unknown, context?: unknown) => Promise<unknown>;
}

let built: string | undefined;

/** Bundles lib/replication once per test process and returns the file path. */
export function builtBundle(): string {
  if (built === undefined) {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "replication-bundle-")), "index.js");
    writeFileSync(file, bundleReplication());
    built = file;
  }
  return built;
}

/** Sets `env` on process.env and returns a function restoring the previous values. */
export function setEnvironment(env: Record<string, string | undefined>): () => void {
  const previous = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
  };
  apply(env);
  return () => {
    apply(previous);
  };
}

/** Loads a fresh copy of the bundle; the caller has set the environment contract. */
export async function loadBundle(): Promise<BundleModule> {
  const file = builtBundle();
  let loaded: BundleModule | undefined;
  await jest.isolateModulesAsync(async () => {
    loaded = (await import(file)) as BundleModule;
  });
  if (loaded === undefined) throw new Error(`bundle ${file} did not load`);
  return loaded;
}
