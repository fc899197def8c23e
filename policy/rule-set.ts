// The whole baseline as plain rules, and one entry point to check a set of resources (an
// offline plan, a test fixture) against all of them without the policy engine.
import { cloudwatchAlarmHasAction } from "./rules/cloudwatch";
import {
  dynamodbEncrypted,
  dynamodbPointInTimeRecovery,
  dynamodbProdDeletionProtection,
  secretEncryptedWithOwnKey,
  secretWithoutResourcePolicy,
  snsEncrypted,
  sqsEncrypted,
} from "./rules/data-stores";
import { iamRoleTrustsServicesOnly } from "./rules/iam";
import {
  crossAccountGrantNarrowed,
  dynamodbSharedTableOwnKey,
  resourcePolicyNotPublic,
} from "./rules/grants";
import {
  lambdaNoReservedEnvironment,
  lambdaPermissionScoped,
  lambdaSupportedRuntime,
  lambdaTimeoutBounded,
} from "./rules/lambda";
import {
  s3BucketBaselineAttached,
  s3Encrypted,
  s3LifecycleConfigured,
  s3PublicAccessBlocked,
  s3TlsOnly,
  s3VersioningEnabled,
} from "./rules/s3";
import { requiredTags } from "./rules/tags";
import type { PlannedResource, Props, ResourceRule, StackRule, Violation } from "./types";

export const RESOURCE_RULES: readonly ResourceRule[] = [
  s3PublicAccessBlocked,
  s3TlsOnly,
  s3VersioningEnabled,
  s3LifecycleConfigured,
  s3Encrypted,
  dynamodbEncrypted,
  dynamodbPointInTimeRecovery,
  dynamodbProdDeletionProtection,
  sqsEncrypted,
  snsEncrypted,
  secretEncryptedWithOwnKey,
  secretWithoutResourcePolicy,
  lambdaSupportedRuntime,
  lambdaNoReservedEnvironment,
  lambdaTimeoutBounded,
  lambdaPermissionScoped,
  iamRoleTrustsServicesOnly,
  cloudwatchAlarmHasAction,
  requiredTags,
  resourcePolicyNotPublic,
  crossAccountGrantNarrowed,
];

export const STACK_RULES: readonly StackRule[] = [
  s3BucketBaselineAttached,
  dynamodbSharedTableOwnKey,
];

/** Every violation of every rule over `resources`, resource rules first, in resource order. */
export function checkResources(resources: readonly PlannedResource[]): Violation[] {
  const perResource = resources.flatMap((resource) =>
    RESOURCE_RULES.flatMap((rule) =>
      rule
        .validate(resource.type, resource.props)
        .map((message) => ({ policy: rule.name, urn: resource.urn, message })),
    ),
  );
  const perStack = STACK_RULES.flatMap((rule) =>
    rule.validate(resources).map((finding) => ({ policy: rule.name, ...finding })),
  );
  return [...perResource, ...perStack];
}

/** One resource of an offline plan (`npm run plan -- --json`, or the plan runner in memory). */
export interface PlanResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string | undefined;
  /** Inputs, fully resolved. */
  readonly inputs: Props;
  /** The id the mocks assigned (a bucket's id is its name, as in AWS). */
  readonly id?: string | undefined;
  /** Whether the resource class is taggable (has `tagsAll`), when the plan knows it. */
  readonly taggable?: boolean | undefined;
}

/**
 * Every violation over the resources of an offline plan. Inputs stand in for props; a resource
 * the plan marks taggable gets an empty `tagsAll`, the signal the engine gives for taggable
 * resources, so the tag rule covers types the baseline does not list.
 */
export function checkPlan(plan: { readonly resources: readonly PlanResource[] }): Violation[] {
  return checkResources(
    plan.resources.map(({ urn, type, name, inputs, id, taggable }) => ({
      urn,
      type,
      name,
      props: taggable === true && !("tagsAll" in inputs) ? { ...inputs, tagsAll: {} } : inputs,
      ...(id === undefined ? {} : { id }),
    })),
  );
}
