// The adapter from plain rules to @pulumi/policy: one mandatory policy per rule, violations
// reported through the engine's callback, stack resources reduced to URNs and lazy props.
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
} from "@pulumi/policy";
import { TYPES } from "../../policy/baseline";
import { policies, resourcePolicy, stackPolicy, toPlannedResource } from "../../policy/policies";
import { RESOURCE_RULES, STACK_RULES } from "../../policy/rule-set";
import { s3BucketBaselineAttached } from "../../policy/rules/s3";
import { requiredTags } from "../../policy/rules/tags";

const options = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

function noConfig(): never {
  throw new Error("the baseline's policies take no config");
}

function notApplicable(reason?: string): never {
  throw new Error(reason ?? "not applicable");
}

function resourceArgs(type: string, props: Record<string, unknown>): ResourceValidationArgs {
  return {
    type,
    props,
    urn: `urn:pulumi:dev::data-pipeline::${type}::r`,
    name: "r",
    opts: options,
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: noConfig,
    notApplicable,
  };
}

function policyResource(
  type: string,
  name: string,
  props: Record<string, unknown>,
  propertyDependencies: Record<string, PolicyResource[]> = {},
): PolicyResource {
  return {
    type,
    name,
    urn: `urn:pulumi:dev::data-pipeline::${type}::${name}`,
    props,
    opts: options,
    dependencies: [],
    propertyDependencies,
    isType: () => false,
    asType: () => undefined,
  };
}

/** Runs every validation of a resource policy, as the engine does. */
async function validate(
  policy: ResourceValidationPolicy,
  args: ResourceValidationArgs,
  report: ReportViolation,
): Promise<void> {
  const validations = policy.validateResource ?? [];
  for (const validation of Array.isArray(validations) ? validations : [validations]) {
    await validation(args, report);
  }
}

function recorder(): { report: ReportViolation; calls: [string, string | undefined][] } {
  const calls: [string, string | undefined][] = [];
  return { report: (message, urn) => calls.push([message, urn]), calls };
}

describe("policies", () => {
  it("has one mandatory policy per rule, under the rule's name and description", () => {
    const rules = [...RESOURCE_RULES, ...STACK_RULES];
    expect(policies.map((p) => [p.name, p.description, p.enforcementLevel])).toEqual(
      rules.map((r) => [r.name, r.description, "mandatory"]),
    );
  });

  it("reports every message of a resource rule, and nothing for a compliant resource", async () => {
    // Prepare
    const policy = resourcePolicy(requiredTags);
    const bad = recorder();
    const good = recorder();
    const tags = { Environment: "dev", Project: "data-pipeline", ManagedBy: "pulumi" };

    // Act
    await validate(policy, resourceArgs(TYPES.queue, { tags: {} }), bad.report);
    await validate(policy, resourceArgs(TYPES.queue, { tags }), good.report);

    // Assess
    expect(bad.calls).toEqual([
      ["tags.Environment = undefined (required, non-empty)", undefined],
      ["tags.Project = undefined (required, non-empty)", undefined],
      ["tags.ManagedBy = undefined (required, non-empty)", undefined],
    ]);
    expect(good.calls).toEqual([]);
  });

  it("reports a stack finding against the resource it is about", async () => {
    // Prepare: a bucket whose versioning refers to it by dependency only
    const bucket = policyResource(TYPES.bucket, "b", { bucket: "data" });
    const versioning = policyResource(TYPES.bucketVersioning, "v", {}, { bucket: [bucket] });
    const args: StackValidationArgs = {
      resources: [bucket, versioning],
      stackTags: new Map(),
      getConfig: noConfig,
      notApplicable,
    };
    const { report, calls } = recorder();

    // Act
    await stackPolicy(s3BucketBaselineAttached).validateStack(args, report);

    // Assess: versioning counted through the dependency, the rest missing
    expect(calls).toEqual([
      [
        'bucket "data" has no BucketPublicAccessBlock, BucketPolicy, BucketLifecycleConfiguration, BucketServerSideEncryptionConfiguration',
        bucket.urn,
      ],
    ]);
  });

  it("reduces an engine resource to URNs per property, keeping its props object", () => {
    const bucket = policyResource(TYPES.bucket, "b", { bucket: "data" });
    const child = policyResource(TYPES.bucketPolicy, "p", { policy: "{}" }, { bucket: [bucket] });
    expect(toPlannedResource(child)).toEqual({
      urn: child.urn,
      type: TYPES.bucketPolicy,
      name: "p",
      props: child.props,
      propertyDependencies: { bucket: [bucket.urn] },
    });
    expect(toPlannedResource(child).props).toBe(child.props);
  });
});
