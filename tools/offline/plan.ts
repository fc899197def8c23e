/**
 * The in-process plan runner: runs the real program (Pulumi.yaml `main`) for one stack under the
 * offline mocks, with that stack's real config, and returns every resource with resolved inputs
 * and the stack outputs. Usable from jest (pass a `load` that uses `jest.isolateModules`) and
 * from a plain tsx script (the default `load` drops the project's own modules from the require
 * cache, so several stacks can run one after another in one process).
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { allowedAccountIdsKey, partitionOf, pinnedAccountId } from "../../lib/accounts";
import {
  createMocks,
  offlineAccountId,
  type PlainRecord,
  type PlannedCall,
  type PlannedResource,
} from "./mocks";
import { defaultProjectDir, loadStackConfig } from "./stack-config";

/** Loads the program's entry module afresh and returns its exports. */
export type ModuleLoader = (file: string) => unknown;

export interface PlanOptions {
  /** Directory with Pulumi.yaml and the stack files. Default: this repository. */
  readonly projectDir?: string;
  /** Outputs of the stacks the program references, by stack name or `org/project/stack`. */
  readonly stackOutputs?: Readonly<Record<string, PlainRecord>>;
  /**
   * The account the stack runs in. Default: the first entry of the stack file's
   * `aws:allowedAccountIds` (the account the AWS provider pins), else 123456789012.
   */
  readonly accountId?: string;
  /** Default: `organization` (what a self-managed backend reports). */
  readonly organization?: string;
  /** Run as `pulumi preview` (true) or `pulumi up` (false, default). */
  readonly preview?: boolean;
  /** Config values laid over the stack file's (`namespace:key`); `undefined` removes a key. */
  readonly config?: Readonly<Record<string, string | undefined>>;
  /** How to load the entry module afresh. Default: `requireFresh`. */
  readonly load?: ModuleLoader;
}

export interface StackPlan {
  readonly stack: string;
  readonly project: string;
  readonly resources: PlannedResource[];
  readonly calls: PlannedCall[];
  /** The stack outputs, resolved; outputs that are undefined are left out, as Pulumi does. */
  readonly outputs: PlainRecord;
}

/**
 * Requires `file` with Node's own require (tsx's hooks load TypeScript) after dropping every
 * module of the project, and of the program's own directory when `main` points elsewhere (outside
 * node_modules), from the require cache, so the program runs again; libraries (and Pulumi's
 * runtime state) stay loaded.
 */
export function requireFresh(file: string, projectDir: string = defaultProjectDir): unknown {
  const nodeRequire = createRequire(__filename);
  const roots = [projectDir, path.dirname(file)].map((dir) => path.resolve(dir) + path.sep);
  for (const cached of Object.keys(nodeRequire.cache)) {
    const ours = roots.some((root) => cached.startsWith(root));
    if (ours && !cached.includes(`${path.sep}node_modules${path.sep}`)) {
      Reflect.deleteProperty(nodeRequire.cache, cached);
    }
  }
  return nodeRequire(file) as unknown;
}

/** The program failed; carries what was registered before it did. */
export class StackPlanError extends Error {
  constructor(
    readonly stackName: string,
    readonly resources: PlannedResource[],
    options: { cause: unknown },
  ) {
    super(options.cause instanceof Error ? options.cause.message : String(options.cause), options);
    this.name = "StackPlanError";
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * Resolves promises nested in deserialized inputs (assets and archives keep their contents in
 * promises) into plain data: `{ __pulumiArchive, assets: { "index.mjs": { __pulumiAsset, text } } }`.
 */
export async function resolveDeep(value: unknown): Promise<unknown> {
  const settled = isThenable(value) ? await value : value;
  if (Array.isArray(settled)) {
    return Promise.all(settled.map(resolveDeep));
  }
  if (typeof settled === "object" && settled !== null) {
    const entries = await Promise.all(
      Object.entries(settled).map(async ([k, v]) => [k, await resolveDeep(v)] as const),
    );
    return Object.fromEntries(entries);
  }
  return settled;
}

async function resolvedResources(resources: PlannedResource[]): Promise<PlannedResource[]> {
  return Promise.all(
    resources.map(async (r) => ({ ...r, inputs: (await resolveDeep(r.inputs)) as PlainRecord })),
  );
}

function definedOutputs(value: unknown): PlainRecord {
  const outputs: PlainRecord = {};
  if (typeof value === "object" && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (v !== undefined && key !== "__esModule") outputs[key] = v;
    }
  }
  return outputs;
}

/**
 * The account a stack runs in offline: the one given, else the account its stack file pins (first
 * entry of `aws:allowedAccountIds`, as the AWS provider checks credentials against it), else the
 * default offline account.
 */
export function stackAccountId(
  values: Readonly<Record<string, string | undefined>>,
  given?: string,
): string {
  return given ?? pinnedAccountId(values[allowedAccountIdsKey]) ?? offlineAccountId;
}

/** Plans one stack: sets mocks and config, runs the program as the Pulumi language host does. */
export async function planStack(stack: string, options: PlanOptions = {}): Promise<StackPlan> {
  const projectDir = options.projectDir ?? defaultProjectDir;
  const file = loadStackConfig(stack, projectDir);
  const values: Record<string, string> = { ...file.values };
  for (const [key, value] of Object.entries(options.config ?? {})) {
    if (value === undefined) {
      Reflect.deleteProperty(values, key);
    } else {
      values[key] = value;
    }
  }
  const project = file.project.name;
  const region = values["aws:region"] ?? "us-east-1";
  const offline = createMocks({
    project,
    stack,
    accountId: stackAccountId(values, options.accountId),
    region,
    partition: partitionOf(region).name,
    stackOutputs: options.stackOutputs ?? {},
  });
  await pulumi.runtime.setMocks(
    offline.mocks,
    project,
    stack,
    options.preview ?? false,
    options.organization ?? "organization",
  );
  pulumi.runtime.setAllConfig(values);
  const load = options.load ?? ((entry: string) => requireFresh(entry, projectDir));

  // A failing apply or registration surfaces, as under the real language host, as an unhandled
  // rejection: end the run with it. A failing program also rejects promises derived from its
  // outputs that nobody awaits; those are collected here instead of ending the process. Like the
  // language host, the runner owns the process's unhandled-rejection handling while the program
  // runs. (Under jest, `process` is a sandbox copy that never hears of these rejections and jest
  // fails the test on them: run programs that fail inside an apply in a child process.)
  let failRun: (reason: unknown) => void = () => undefined;
  const strayFailure = new Promise<never>((_resolve, reject) => {
    failRun = reject;
  });
  strayFailure.catch(() => undefined);
  const onRejection = (reason: unknown): void => {
    failRun(reason);
  };
  const host = process;
  const previous = host.listeners("unhandledRejection");
  host.removeAllListeners("unhandledRejection");
  host.on("unhandledRejection", onRejection);
  try {
    // A program that throws while loading (config validation) fails here, synchronously, so
    // the stack's own outputs never reject.
    let loadFailure: { error: unknown } | undefined;
    const outputs = await Promise.race([
      pulumi.runtime.runInPulumiStack(() => {
        pulumi.runtime.registerStackTransformation(offline.transformation);
        try {
          return Promise.resolve(load(file.project.main));
        } catch (error: unknown) {
          loadFailure = { error };
          return Promise.resolve(undefined);
        }
      }),
      strayFailure,
    ]);
    if (loadFailure !== undefined) throw loadFailure.error;
    await Promise.race([pulumi.runtime.disconnect(), strayFailure]);
    return {
      stack,
      project,
      resources: await resolvedResources(offline.resources()),
      calls: offline.calls(),
      outputs: definedOutputs(outputs),
    };
  } catch (error: unknown) {
    // Let the rejections the failure leaves behind arrive while they are still collected.
    await new Promise((resolve) => setTimeout(resolve, 50));
    throw new StackPlanError(stack, offline.resources(), { cause: error });
  } finally {
    host.off("unhandledRejection", onRejection);
    for (const listener of previous) {
      host.on("unhandledRejection", listener);
    }
  }
}
