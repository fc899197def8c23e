/**
 * The PR preview's stacks from the stack files (tools/offline/preview-stacks.ts): two waves,
 * each stack's region and role variable, every problem at once; and the npm script's output and
 * exit codes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  githubOutputLines,
  previewStacks,
  PreviewStacksError,
  roleVariable,
} from "../../tools/offline/preview-stacks";
import { PREVIEW_STACKS_USAGE, previewStacksCommand } from "../../tools/offline/commands";
import { captureIo } from "../support/command-io";
import { runScript } from "../support/run-script";

const root = path.resolve(__dirname, "..", "..");
let dir: string;

function project(files: Record<string, string>): string {
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: data-pipeline\nruntime: nodejs\n");
  for (const [stack, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
  }
  return dir;
}

function problems(projectDir: string): readonly string[] {
  try {
    previewStacks(projectDir);
  } catch (error: unknown) {
    if (error instanceof PreviewStacksError) return error.problems;
    throw error;
  }
  return [];
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "preview-stacks-"));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("roleVariable", () => {
  it.each([
    ["dev", "AWS_ROLE_ARN_DEV"],
    ["pr-42", "AWS_ROLE_ARN_PR_42"],
    ["eu.prod", "AWS_ROLE_ARN_EU_PROD"],
  ])("names %s's variable %s", (stack, variable) => {
    expect(roleVariable(stack)).toBe(variable);
  });
});

describe("previewStacks", () => {
  it("puts the stacks that replicate after the others, each with its region", () => {
    const preview = previewStacks(
      project({
        prod: "config:\n  aws:region: eu-west-1\n  data-pipeline:replicationTargets: [dev, qa]\n",
        dev: "config:\n  aws:region: us-east-1\n",
        qa: "config:\n  aws:region: eu-west-1\n  data-pipeline:replicationTargets: not a list\n",
      }),
    );

    expect(preview.targets.map((s) => s.stack)).toEqual(["dev", "qa"]);
    expect(preview.replicating).toEqual([
      { stack: "prod", region: "eu-west-1", roleVariable: "AWS_ROLE_ARN_PROD" },
    ]);
    expect(preview.stacks.map((s) => s.stack)).toEqual(["dev", "qa", "prod"]);
    expect(githubOutputLines(preview).split("\n")).toEqual([
      `stacks=${JSON.stringify(preview.stacks)}`,
      `targets=${JSON.stringify(preview.targets)}`,
      `replicating=${JSON.stringify(preview.replicating)}`,
      "",
    ]);
  });

  it("names every problem at once", () => {
    expect(
      problems(
        project({
          prod: "config:\n  aws:region: eu-west-1\n  data-pipeline:replicationTargets: [staging, gone]\n",
          staging: "config:\n  data-pipeline:replicationTargets: [dev]\n",
          dev: "config:\n  aws:region: eu-west-1\n",
          "pr-1": "config:\n  aws:region: eu-west-1\n",
          pr_1: "config:\n  aws:region: eu-west-1\n",
          broken: "config: [unclosed\n",
        }),
      ),
    ).toEqual([
      expect.stringMatching(/flow sequence|Unexpected|Missing|unclosed|end of/i) as string,
      "Pulumi.staging.yaml: aws:region is not set",
      'Pulumi.prod.yaml replicates into "gone", which has no stack file',
      '"staging" both replicates and is replicated into: the preview runs two waves (targets, then the stacks that replicate into them)',
      'stacks "pr-1", "pr_1" share the variable AWS_ROLE_ARN_PR_1',
    ]);
  });

  it("lists a stack whose file holds secrets (the CLI decrypts them in the preview)", () => {
    const preview = previewStacks(
      project({ vault: "config:\n  aws:region: eu-west-1\n  aws:secretKey:\n    secure: AAAA\n" }),
    );

    expect(preview.targets).toEqual([
      { stack: "vault", region: "eu-west-1", roleVariable: "AWS_ROLE_ARN_VAULT" },
    ]);
  });

  it("refuses a project without stack files", () => {
    expect(problems(project({}))).toEqual([`no stack files (Pulumi.<stack>.yaml) in ${dir}`]);
  });

  it("lays out this repository's stacks: dev and staging, then prod", () => {
    const preview = previewStacks(root);

    expect(preview.targets.map((s) => s.stack)).toEqual(["dev", "staging"]);
    expect(preview.replicating.map((s) => s.stack)).toEqual(["prod"]);
  });
});

describe("npm run preview-stacks (the real script)", () => {
  it("prints the GitHub output lines and exits 0", async () => {
    const listed = await runScript("preview-stacks", []);

    expect(listed.stdout).toBe(githubOutputLines(previewStacks(root)));
    expect(listed.code).toBe(0);
  }, 30_000);
});

describe("previewStacksCommand (what npm run preview-stacks runs)", () => {
  it("lays out this repository's stacks when given no project", () => {
    const listed = captureIo();

    expect(previewStacksCommand([], listed.io)).toBe(0);
    expect(listed.stdout()).toBe(githubOutputLines(previewStacks(root)));
  });

  it("exits 1 on problems, listing each, and 2 on bad arguments", () => {
    project({ prod: "config:\n  data-pipeline:replicationTargets: [dev]\n" });
    const broken = captureIo();
    const bad = captureIo();

    expect(previewStacksCommand(["--project-dir", dir], broken.io)).toBe(1);
    expect(previewStacksCommand(["--stack", "x"], bad.io)).toBe(2);

    expect(broken.stderr()).toContain(
      "Cannot lay out the stacks for the preview:\n  - Pulumi.prod.yaml: aws:region is not set",
    );
    expect(broken.stderr()).toContain(
      'Pulumi.prod.yaml replicates into "dev", which has no stack file',
    );
    expect(broken.stdout()).toBe("");
    expect(bad.stderr()).toBe(
      `unknown option "--stack"; unexpected argument "x"\n${PREVIEW_STACKS_USAGE}\n`,
    );
  });
});
