/**
 * The stacks the PR preview workflow runs (.github/workflows/preview.yml), derived from the
 * project's stack files, so that an environment is a stack file and one line in the replicating
 * stack's `replicationTargets`, in CI too: each stack with its region (`aws:region`) and the
 * repository variable holding the role to assume in its account (`AWS_ROLE_ARN_<STACK>`, the
 * workflow falling back to the shared `AWS_ROLE_ARN`). Two waves: the stacks that replicate into
 * others read the others' outputs through stack references, so they come second.
 */
import { projectName } from "../../lib/config";
import { discoverStacks } from "./plan-report";
import { defaultProjectDir, loadStackConfig } from "./stack-config";

/** One stack of the preview matrix. */
export interface PreviewStack {
  readonly stack: string;
  /** The stack file's `aws:region`: where its credentials are used. */
  readonly region: string;
  /** The repository variable with the role to assume in the stack's account. */
  readonly roleVariable: string;
}

/** The preview matrix in its two waves. */
export interface PreviewStacks {
  /** Every stack, targets first. */
  readonly stacks: readonly PreviewStack[];
  /** Stacks that replicate into no other stack: previewed first. */
  readonly targets: readonly PreviewStack[];
  /** Stacks that list `replicationTargets`: previewed once the targets are. */
  readonly replicating: readonly PreviewStack[];
}

/** The project's stacks cannot be laid out for the preview; `problems` lists every reason. */
export class PreviewStacksError extends Error {
  override readonly name = "PreviewStacksError";

  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}

/**
 * The repository variable naming the role of a stack: `AWS_ROLE_ARN_` and the stack name upper
 * cased, every character GitHub does not allow in a variable name (letters, digits, `_`) as `_`.
 */
export function roleVariable(stack: string): string {
  return `AWS_ROLE_ARN_${stack.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}`;
}

function replicationTargets(values: Readonly<Record<string, string>>): string[] {
  const raw = values[`${projectName}:replicationTargets`];
  if (raw === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === "string") : [];
  } catch {
    // An invalid list is the program's to report, in that stack's preview.
    return [];
  }
}

/**
 * Reads every stack file of the project into the two waves; throws one `PreviewStacksError`
 * naming every stack without a region, every replication target without a stack file, every
 * stack that both replicates and is replicated into (a third wave), and every two stacks that
 * would share a role variable.
 */
export function previewStacks(projectDir: string = defaultProjectDir): PreviewStacks {
  const names = discoverStacks(projectDir);
  const problems: string[] = [];
  if (names.length === 0) problems.push(`no stack files (Pulumi.<stack>.yaml) in ${projectDir}`);
  const stacks = names.map((stack) => {
    let values: Readonly<Record<string, string>> | undefined;
    try {
      // Secrets are the Pulumi CLI's to decrypt in the preview; only plain keys are read here.
      values = loadStackConfig(stack, projectDir, { skipSecrets: true }).values;
    } catch (error: unknown) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
    const region = values?.["aws:region"] ?? "";
    if (values !== undefined && region === "") {
      problems.push(`Pulumi.${stack}.yaml: aws:region is not set`);
    }
    return {
      stack,
      region,
      roleVariable: roleVariable(stack),
      targets: replicationTargets(values ?? {}),
    };
  });
  const targetNames = new Set(stacks.flatMap((s) => s.targets));
  for (const { stack, targets } of stacks) {
    for (const target of targets.filter((t) => !names.includes(t))) {
      problems.push(`Pulumi.${stack}.yaml replicates into "${target}", which has no stack file`);
    }
    if (targets.length > 0 && targetNames.has(stack)) {
      problems.push(
        `"${stack}" both replicates and is replicated into: the preview runs two waves ` +
          "(targets, then the stacks that replicate into them)",
      );
    }
  }
  const byVariable = new Map<string, string[]>();
  for (const { stack, roleVariable: variable } of stacks) {
    byVariable.set(variable, [...(byVariable.get(variable) ?? []), stack]);
  }
  for (const [variable, sharing] of byVariable) {
    if (sharing.length > 1) {
      problems.push(
        `stacks ${sharing.map((s) => `"${s}"`).join(", ")} share the variable ${variable}`,
      );
    }
  }
  if (problems.length > 0) throw new PreviewStacksError(problems);
  const entry = ({
    stack,
    region,
    roleVariable: variable,
  }: (typeof stacks)[number]): PreviewStack => ({
    stack,
    region,
    roleVariable: variable,
  });
  const targets = stacks.filter((s) => s.targets.length === 0).map(entry);
  const replicating = stacks.filter((s) => s.targets.length > 0).map(entry);
  return { stacks: [...targets, ...replicating], targets, replicating };
}

/** The `key=value` lines the workflow appends to `$GITHUB_OUTPUT` (values as compact JSON). */
export function githubOutputLines(preview: PreviewStacks): string {
  return (
    [
      `stacks=${JSON.stringify(preview.stacks)}`,
      `targets=${JSON.stringify(preview.targets)}`,
      `replicating=${JSON.stringify(preview.replicating)}`,
    ].join("\n") + "\n"
  );
}
