// Every baseline rule: silent on compliant stacks of all three environments, and reporting a
// deliberately bad resource (only that rule, only that resource, naming the key and value).
import { TYPES } from "../../policy/baseline";
import { checkPlan, checkResources, RESOURCE_RULES, STACK_RULES } from "../../policy/rule-set";
import {
  lambdaNoReservedEnvironment,
  lambdaPermissionScoped,
  lambdaTimeoutBounded,
} from "../../policy/rules/lambda";
import { dynamodbProdDeletionProtection } from "../../policy/rules/data-stores";
import {
  refersToBucket,
  s3BucketBaselineAttached,
  s3Encrypted,
  s3PublicAccessBlocked,
  s3TlsOnly,
} from "../../policy/rules/s3";
import { iamRoleTrustsServicesOnly } from "../../policy/rules/iam";
import { isTaggable, requiredTags } from "../../policy/rules/tags";
import type { PlannedResource, Props } from "../../policy/types";
import {
  bucketNameFor,
  compliantStack,
  tlsOnlyPolicy,
  urnOf,
  without,
  withProps,
  type Environment,
} from "./fixtures";

const environments: readonly Environment[] = ["dev", "staging", "prod"];

/** An asymmetric matcher typed as the string it stands for. */
const matching = (pattern: RegExp): string => expect.stringMatching(pattern) as string;

interface BadCase {
  readonly rule: string;
  readonly environment: Environment;
  /** Logical name suffix of the resource made bad (`pipeline-<name>`). */
  readonly name: string;
  readonly bad: (resources: readonly PlannedResource[]) => PlannedResource[];
  readonly message: RegExp;
}

const set =
  (name: string, patch: Props) =>
  (resources: readonly PlannedResource[]): PlannedResource[] =>
    withProps(resources, name, (props) => ({ ...props, ...patch }));

/** The environment's TLS-only bucket policy plus one more statement. */
const withBucketStatement =
  (environment: Environment, statement: Props) =>
  (resources: readonly PlannedResource[]): PlannedResource[] => {
    const policy = tlsOnlyPolicy(bucketNameFor(environment));
    const statements = policy.Statement as Props[];
    return set("bucket-policy", {
      policy: JSON.stringify({ ...policy, Statement: [...statements, statement] }),
    })(resources);
  };

const badCases: readonly BadCase[] = [
  {
    rule: "s3-public-access-blocked",
    environment: "prod",
    name: "bucket-public-access",
    bad: set("bucket-public-access", { blockPublicPolicy: false }),
    message: /^blockPublicPolicy = false \(must be true\)$/,
  },
  {
    rule: "s3-tls-only",
    environment: "dev",
    name: "bucket-policy",
    bad: set("bucket-policy", {
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::123456789012:role/reader" },
            Action: "s3:GetObject",
            Resource: "*",
          },
        ],
      }),
    }),
    message: /^policy of bucket "data-pipeline-dev-eu-west-1-data" has no statement denying s3:\*/,
  },
  {
    rule: "s3-versioning-enabled",
    environment: "staging",
    name: "bucket-versioning",
    bad: set("bucket-versioning", { versioningConfiguration: { status: "Suspended" } }),
    message: /^versioningConfiguration\.status = "Suspended" \(must be "Enabled"\)$/,
  },
  {
    rule: "s3-lifecycle-configured",
    environment: "dev",
    name: "bucket-lifecycle",
    bad: set("bucket-lifecycle", { rules: [{ id: "off", status: "Disabled" }] }),
    message: /^rules has 1 rule\(s\), none with status "Enabled"$/,
  },
  {
    rule: "s3-encrypted",
    environment: "prod",
    name: "bucket-encryption",
    bad: set("bucket-encryption", { rules: [] }),
    message: /^rules is empty/,
  },
  {
    rule: "dynamodb-encrypted",
    environment: "dev",
    name: "table",
    bad: set("table", { serverSideEncryption: { enabled: false } }),
    message: /^serverSideEncryption\.enabled = false \(must be true\)$/,
  },
  {
    rule: "dynamodb-point-in-time-recovery",
    environment: "staging",
    name: "table",
    bad: set("table", { pointInTimeRecovery: undefined }),
    message: /^pointInTimeRecovery\.enabled = undefined \(must be true\)$/,
  },
  {
    rule: "dynamodb-prod-deletion-protection",
    environment: "prod",
    name: "table",
    bad: set("table", { deletionProtectionEnabled: false }),
    message: /^deletionProtectionEnabled = false \(must be true in prod\)$/,
  },
  {
    rule: "sqs-encrypted",
    environment: "dev",
    name: "dlq",
    bad: set("dlq", { sqsManagedSseEnabled: false }),
    message: /^sqsManagedSseEnabled = false and kmsMasterKeyId = undefined/,
  },
  {
    rule: "sns-encrypted",
    environment: "prod",
    name: "replication-failed",
    bad: set("replication-failed", { kmsMasterKeyId: "" }),
    message: /^kmsMasterKeyId = "" \(must name a KMS key\)$/,
  },
  {
    rule: "secret-encrypted-with-own-key",
    environment: "prod",
    name: "masking-secret",
    bad: set("masking-secret", { kmsKeyId: undefined }),
    message: /^kmsKeyId = undefined \(must name a customer managed KMS key\)$/,
  },
  {
    rule: "secret-without-resource-policy",
    environment: "prod",
    name: "masking-secret-policy",
    bad: (resources) => [
      ...resources,
      {
        urn: urnOf("prod", TYPES.secretPolicy, "pipeline-masking-secret-policy"),
        type: TYPES.secretPolicy,
        name: "pipeline-masking-secret-policy",
        props: {
          secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:m",
          policy: "{}",
        },
      },
    ],
    message:
      /^secretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:m" \(a resource policy could let another account/,
  },
  {
    rule: "lambda-supported-runtime",
    environment: "prod",
    name: "replication",
    bad: set("replication", { runtime: "nodejs18.x" }),
    message: /^runtime = "nodejs18\.x" \(one of nodejs22\.x, nodejs24\.x\)$/,
  },
  {
    rule: "lambda-no-reserved-environment",
    environment: "prod",
    name: "replication",
    bad: set("replication", { environment: { variables: { AWS_REGION: "eu-west-1", A: "b" } } }),
    message: /^environment\.variables\.AWS_REGION = "eu-west-1" \(reserved by Lambda\)$/,
  },
  {
    rule: "lambda-timeout-bounded",
    environment: "prod",
    name: "replication",
    bad: set("replication", { timeout: 900 }),
    message: /^timeout = 900 \(1 to 300 seconds\)$/,
  },
  {
    rule: "lambda-permission-scoped",
    environment: "prod",
    name: "replication-invoke",
    bad: set("replication-invoke", { sourceArn: undefined }),
    message: /^sourceArn = undefined \(must name the invoking resource\)$/,
  },
  {
    rule: "iam-role-trusts-services-only",
    environment: "prod",
    name: "replication-role",
    bad: set("replication-role", {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::111122223333:root" },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    }),
    message:
      /^assumeRolePolicy\.Statement\[0\]\.Principal = \{"AWS":"arn:aws:iam::111122223333:root"\} \(only named AWS service principals\)$/,
  },
  {
    rule: "cloudwatch-alarm-has-action",
    environment: "dev",
    name: "dlq-depth",
    bad: set("dlq-depth", { alarmActions: [] }),
    message: /^alarmActions = \[\] \(must name at least one action, such as the failure topic\)$/,
  },
  {
    rule: "required-tags",
    environment: "staging",
    name: "dlq",
    bad: set("dlq", { tags: { Environment: "staging", Project: "data-pipeline" } }),
    message: /^tags\.ManagedBy = undefined \(required, non-empty\)$/,
  },
  {
    rule: "resource-policy-not-public",
    environment: "staging",
    name: "bucket-policy",
    bad: withBucketStatement("staging", {
      Effect: "Allow",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: `arn:aws:s3:::${bucketNameFor("staging")}/*`,
    }),
    message: /^policy Statement\[1\] allows principal "\*" \(name the account or role it is for\)$/,
  },
  {
    rule: "cross-account-grant-narrowed",
    environment: "dev",
    name: "bucket-policy",
    bad: withBucketStatement("dev", {
      Sid: "OtherAccountWrites",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::333333333333:root" },
      Action: "s3:PutObject",
      Resource: `arn:aws:s3:::${bucketNameFor("dev")}/*`,
    }),
    message:
      /^policy Statement\[1\] \(OtherAccountWrites\) grants "arn:aws:iam::333333333333:root" without an aws:PrincipalArn condition/,
  },
  {
    rule: "dynamodb-shared-table-own-key",
    environment: "dev",
    name: "table",
    bad: (resources) => [
      ...resources,
      {
        urn: urnOf("dev", TYPES.tableResourcePolicy, "pipeline-table-policy"),
        type: TYPES.tableResourcePolicy,
        name: "pipeline-table-policy",
        props: {
          resourceArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/data-pipeline-dev-items",
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { AWS: "arn:aws:iam::333333333333:root" },
                Action: "dynamodb:PutItem",
                Resource: "arn:aws:dynamodb:eu-west-1:123456789012:table/data-pipeline-dev-items",
                Condition: {
                  ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::333333333333:role/r" },
                },
              },
            ],
          }),
        },
      },
    ],
    message:
      /^table "data-pipeline-dev-items" is shared through a resource policy but serverSideEncryption\.kmsKeyArn = undefined/,
  },
  {
    rule: "s3-bucket-baseline-attached",
    environment: "dev",
    name: "bucket",
    bad: (resources) => without(resources, "bucket-versioning"),
    message: /^bucket "data-pipeline-dev-eu-west-1-data" has no BucketVersioning$/,
  },
];

describe("the baseline over compliant stacks", () => {
  it.each(environments)("reports nothing for %s", (environment) => {
    // Act
    const violations = checkResources(compliantStack(environment));

    // Assess
    expect(violations).toEqual([]);
  });
});

describe("each rule over a deliberately bad resource", () => {
  it("has a bad case for every rule of the pack", () => {
    const ruleNames = [...RESOURCE_RULES, ...STACK_RULES].map((rule) => rule.name).sort();
    expect([...new Set(badCases.map((c) => c.rule))].sort()).toEqual(ruleNames);
  });

  it.each(badCases)("$rule reports $environment pipeline-$name", (badCase) => {
    // Prepare
    const resources = badCase.bad(compliantStack(badCase.environment));
    const target = resources.find((r) => r.name === `pipeline-${badCase.name}`);

    // Act
    const violations = checkResources(resources);

    // Assess: exactly one violation, from this rule, about this resource
    expect(violations).toEqual([
      { policy: badCase.rule, urn: target?.urn, message: matching(badCase.message) },
    ]);
  });

  it.each(RESOURCE_RULES.map((rule) => [rule.name, rule] as const))(
    "%s ignores resources of types it does not govern",
    (_name, rule) => {
      expect(rule.validate("aws:ec2/vpc:Vpc", { cidrBlock: "10.0.0.0/16" })).toEqual([]);
    },
  );
});

describe("s3-public-access-blocked", () => {
  it("names every flag that is not true", () => {
    expect(
      s3PublicAccessBlocked.validate(TYPES.bucketPublicAccessBlock, { blockPublicAcls: true }),
    ).toEqual([
      "blockPublicPolicy = undefined (must be true)",
      "ignorePublicAcls = undefined (must be true)",
      "restrictPublicBuckets = undefined (must be true)",
    ]);
  });
});

describe("s3-tls-only", () => {
  const bucket = bucketNameFor("prod");
  const statement = tlsOnlyPolicy(bucket).Statement as Record<string, unknown>[];
  const deny = statement[0] ?? {};
  const check = (policy: unknown, props: Props = { bucket }): string[] =>
    s3TlsOnly.validate(TYPES.bucketPolicy, { ...props, policy });
  const withStatement = (patch: Record<string, unknown>): unknown => ({
    Version: "2012-10-17",
    Statement: [{ ...deny, ...patch }],
  });

  it("accepts the document as a JSON string or as an object", () => {
    expect(check(JSON.stringify(tlsOnlyPolicy(bucket)))).toEqual([]);
    expect(check(tlsOnlyPolicy(bucket))).toEqual([]);
  });

  it("accepts the equivalent forms IAM allows", () => {
    expect(check(withStatement({ Principal: { AWS: "*" }, Action: ["s3:*"] }))).toEqual([]);
    expect(check(withStatement({ Action: "*" }))).toEqual([]);
    expect(check(withStatement({ Condition: { Bool: { "aws:SecureTransport": false } } }))).toEqual(
      [],
    );
    expect(
      check(
        withStatement({ Resource: [`arn:aws-cn:s3:::${bucket}`, `arn:aws-cn:s3:::${bucket}/*`] }),
      ),
    ).toEqual([]);
  });

  it("accepts any bucket ARN pair when the bucket name is not known", () => {
    expect(check(tlsOnlyPolicy(bucket), {})).toEqual([]);
  });

  it.each([
    ["an Allow effect", { Effect: "Allow" }],
    ["a named principal", { Principal: { AWS: "arn:aws:iam::123456789012:root" } }],
    ["a narrower action", { Action: ["s3:GetObject"] }],
    ["no condition", { Condition: undefined }],
    ["a condition on true", { Condition: { Bool: { "aws:SecureTransport": "true" } } }],
    ["the bucket ARN only", { Resource: `arn:aws:s3:::${bucket}` }],
    ["the objects only", { Resource: [`arn:aws:s3:::${bucket}/*`] }],
    ["another bucket", { Resource: ["arn:aws:s3:::other", "arn:aws:s3:::other/*"] }],
  ])("rejects a deny statement with %s", (_what, patch) => {
    expect(check(withStatement(patch))).toEqual([matching(/has no statement denying s3:\*/)]);
  });

  it("rejects a policy that is not a document, quoting it", () => {
    expect(check("{not json")).toEqual(['policy = "{not json" (not a policy document)']);
    expect(check(42)).toEqual(["policy = 42 (not a policy document)"]);
    expect(check("[1]")).toEqual(['policy = "[1]" (not a policy document)']);
    expect(check({ Version: "2012-10-17", Statement: "nope" })).toEqual([
      matching(/has no statement/),
    ]);
  });
});

describe("s3-encrypted", () => {
  it("names each rule without an accepted algorithm", () => {
    expect(
      s3Encrypted.validate(TYPES.bucketServerSideEncryptionConfiguration, {
        rules: [
          { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } },
          { applyServerSideEncryptionByDefault: { sseAlgorithm: "none" } },
          "junk",
        ],
      }),
    ).toEqual([
      'rules[1].applyServerSideEncryptionByDefault.sseAlgorithm = "none" (one of aws:kms, aws:kms:dsse, AES256)',
      "rules[2].applyServerSideEncryptionByDefault.sseAlgorithm = undefined (one of aws:kms, aws:kms:dsse, AES256)",
    ]);
  });
});

describe("dynamodb-prod-deletion-protection", () => {
  it("lets tables outside prod go without deletion protection", () => {
    const props = { deletionProtectionEnabled: false, tags: { Environment: "dev" } };
    expect(dynamodbProdDeletionProtection.validate(TYPES.table, props)).toEqual([]);
  });

  it("reads the environment from tagsAll (provider default tags) too", () => {
    const props = { tagsAll: { Environment: "prod" } };
    expect(dynamodbProdDeletionProtection.validate(TYPES.table, props)).toEqual([
      "deletionProtectionEnabled = undefined (must be true in prod)",
    ]);
  });
});

describe("sqs-encrypted", () => {
  it("accepts a KMS key instead of SSE-SQS", () => {
    const props = { kmsMasterKeyId: "alias/aws/sqs", tags: {} };
    expect(checkResources([{ urn: "u", type: TYPES.queue, name: "q", props }])).not.toContainEqual(
      expect.objectContaining({ policy: "sqs-encrypted" }),
    );
  });
});

describe("lambda-timeout-bounded", () => {
  it("accepts the Lambda default (no timeout) and the bound itself", () => {
    expect(lambdaTimeoutBounded.validate(TYPES.lambdaFunction, {})).toEqual([]);
    expect(lambdaTimeoutBounded.validate(TYPES.lambdaFunction, { timeout: 300 })).toEqual([]);
  });

  it.each([[301], [0], ["60"]])("rejects timeout %p", (timeout) => {
    expect(lambdaTimeoutBounded.validate(TYPES.lambdaFunction, { timeout })).toEqual([
      `timeout = ${JSON.stringify(timeout)} (1 to 300 seconds)`,
    ]);
  });
});

describe("lambda-no-reserved-environment", () => {
  it("accepts a function without environment variables", () => {
    expect(lambdaNoReservedEnvironment.validate(TYPES.lambdaFunction, {})).toEqual([]);
    expect(lambdaNoReservedEnvironment.validate(TYPES.lambdaFunction, { environment: {} })).toEqual(
      [],
    );
  });

  it("names every reserved key set", () => {
    const variables = { _HANDLER: "x", LAMBDA_TASK_ROOT: "/var/task", MINE: "ok" };
    expect(
      lambdaNoReservedEnvironment.validate(TYPES.lambdaFunction, { environment: { variables } }),
    ).toEqual([
      'environment.variables._HANDLER = "x" (reserved by Lambda)',
      'environment.variables.LAMBDA_TASK_ROOT = "/var/task" (reserved by Lambda)',
    ]);
  });
});

describe("lambda-permission-scoped", () => {
  it("rejects a wildcard principal and a missing source ARN together", () => {
    expect(lambdaPermissionScoped.validate(TYPES.lambdaPermission, { principal: "*" })).toEqual([
      "sourceArn = undefined (must name the invoking resource)",
      'principal = "*" (must name a service or account)',
    ]);
  });
});

describe("required-tags", () => {
  it("treats a known taggable type without any tags as untagged", () => {
    expect(requiredTags.validate(TYPES.lambdaFunction, { runtime: "nodejs22.x" })).toEqual([
      "tags.Environment = undefined (required, non-empty)",
      "tags.Project = undefined (required, non-empty)",
      "tags.ManagedBy = undefined (required, non-empty)",
    ]);
  });

  it("checks any type whose props carry tags, and skips untaggable ones", () => {
    expect(isTaggable("aws:ec2/vpc:Vpc", { tags: {} })).toBe(true);
    expect(isTaggable("aws:ec2/vpc:Vpc", { tagsAll: {} })).toBe(true);
    expect(isTaggable("aws:iam/rolePolicy:RolePolicy", { policy: "{}" })).toBe(false);
    expect(requiredTags.validate("aws:iam/rolePolicy:RolePolicy", { policy: "{}" })).toEqual([]);
  });

  it("accepts tags given by the provider's default tags (tagsAll)", () => {
    const tagsAll = { Environment: "dev", Project: "data-pipeline", ManagedBy: "pulumi" };
    expect(requiredTags.validate(TYPES.queue, { tagsAll })).toEqual([]);
  });

  it("rejects empty and non-string tag values", () => {
    const tags = { Environment: "", Project: 7, ManagedBy: "pulumi" };
    expect(requiredTags.validate(TYPES.queue, { tags })).toEqual([
      'tags.Environment = "" (required, non-empty)',
      "tags.Project = 7 (required, non-empty)",
    ]);
  });
});

describe("s3-bucket-baseline-attached", () => {
  const dev = compliantStack("dev");
  const bucket = dev.find((r) => r.type === TYPES.bucket);
  const versioning = dev.find((r) => r.type === TYPES.bucketVersioning);
  if (bucket === undefined || versioning === undefined) throw new Error("fixture incomplete");

  it("lists every missing companion in one message", () => {
    const resources = without(without(dev, "bucket-lifecycle"), "bucket-public-access");
    expect(s3BucketBaselineAttached.validate(resources)).toEqual([
      {
        urn: bucket.urn,
        message:
          'bucket "data-pipeline-dev-eu-west-1-data" has no BucketPublicAccessBlock, BucketLifecycleConfiguration',
      },
    ]);
  });

  it("does not count another bucket's companions", () => {
    const other: PlannedResource = {
      urn: urnOf("dev", TYPES.bucket, "other-bucket"),
      type: TYPES.bucket,
      name: "other-bucket",
      props: { bucket: "other-bucket-name" },
    };
    const findings = s3BucketBaselineAttached.validate([...dev, other]);
    expect(findings).toEqual([
      {
        urn: other.urn,
        message: matching(
          /^bucket "other-bucket-name" has no BucketPublicAccessBlock, BucketPolicy, BucketVersioning, BucketLifecycleConfiguration, BucketServerSideEncryptionConfiguration$/,
        ),
      },
    ]);
  });

  it("links by the engine's property dependencies when it gives them", () => {
    const byDependency = {
      ...versioning,
      props: { bucket: "whatever" },
      propertyDependencies: { bucket: [bucket.urn] },
    };
    const otherDependency = { ...versioning, propertyDependencies: { bucket: ["urn:other"] } };
    expect(refersToBucket(byDependency, bucket)).toBe(true);
    expect(refersToBucket(otherDependency, bucket)).toBe(false);
  });

  it("links by value: the bucket's name, or its id", () => {
    const named = { ...bucket, props: {}, id: "data-pipeline-dev-eu-west-1-data" };
    expect(refersToBucket(versioning, bucket)).toBe(true);
    expect(refersToBucket(versioning, named)).toBe(true);
    expect(refersToBucket({ ...versioning, props: { bucket: 42 } }, bucket)).toBe(false);
  });

  it("names a bucket without a physical name by its logical name", () => {
    const unnamed = { ...bucket, props: {} };
    expect(s3BucketBaselineAttached.validate([unnamed])).toEqual([
      { urn: bucket.urn, message: matching(/^bucket "pipeline-bucket" has no /) },
    ]);
  });
});

describe("checkPlan", () => {
  it("checks an offline plan's inputs, linking companions by the bucket's id", () => {
    // Prepare: the plan document's shape; the bucket has no `bucket` input, only an id
    const resources = compliantStack("staging").map(({ urn, type, name, props }) => ({
      urn,
      type,
      name,
      parent: "urn:parent",
      inputs: type === TYPES.bucket ? { ...props, bucket: undefined } : props,
      ...(type === TYPES.bucket ? { id: bucketNameFor("staging") } : {}),
    }));

    // Act / Assess
    expect(checkPlan({ resources })).toEqual([]);
    expect(
      checkPlan({ resources: resources.filter((r) => r.type !== TYPES.bucketPolicy) }),
    ).toEqual([
      expect.objectContaining({
        policy: "s3-bucket-baseline-attached",
        message: matching(/has no BucketPolicy$/),
      }),
    ]);
  });

  it("reports a taggable resource flagged by the plan even when its type is not listed", () => {
    const resource = { urn: "u", type: "aws:ec2/vpc:Vpc", name: "vpc", inputs: {}, taggable: true };
    expect(checkPlan({ resources: [resource] }).map((v) => v.policy)).toEqual([
      "required-tags",
      "required-tags",
      "required-tags",
    ]);
    expect(checkPlan({ resources: [{ ...resource, taggable: false }] })).toEqual([]);
  });
});

describe("iam-role-trusts-services-only", () => {
  const role = (statement: unknown, document?: unknown): string[] =>
    iamRoleTrustsServicesOnly.validate(TYPES.role, {
      assumeRolePolicy:
        document ?? JSON.stringify({ Version: "2012-10-17", Statement: [statement] }),
    });
  const service = (name: unknown) => ({
    Effect: "Allow",
    Principal: { Service: name },
    Action: "sts:AssumeRole",
  });

  it("accepts named services, as a string or a list, and a document given as an object", () => {
    expect(role(service("batchoperations.s3.amazonaws.com"))).toEqual([]);
    expect(role(service(["lambda.amazonaws.com", "edgelambda.amazonaws.com"]))).toEqual([]);
    expect(role(undefined, { Statement: [service("lambda.amazonaws.com")] })).toEqual([]);
    expect(role({ ...service("*"), Effect: "Deny" })).toEqual([]);
  });

  it("names every principal and action it does not accept", () => {
    expect(role({ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" })).toEqual([
      'assumeRolePolicy.Statement[0].Principal = "*" (only named AWS service principals)',
    ]);
    expect(role(service("*.amazonaws.com"))).toEqual([
      'assumeRolePolicy.Statement[0].Principal = {"Service":"*.amazonaws.com"} (only named AWS service principals)',
    ]);
    expect(
      role({
        Effect: "Allow",
        Principal: { Service: "lambda.amazonaws.com", Federated: "cognito-identity.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"],
      }),
    ).toEqual([
      'assumeRolePolicy.Statement[0].Principal = {"Service":"lambda.amazonaws.com","Federated":"cognito-identity.amazonaws.com"} (only named AWS service principals)',
      'assumeRolePolicy.Statement[0].Action = ["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"] (only "sts:AssumeRole")',
    ]);
    expect(role({ ...service("lambda.amazonaws.com"), NotAction: "iam:*" })).toEqual([
      "assumeRolePolicy.Statement[0] uses NotPrincipal or NotAction (name the principal and the action)",
    ]);
    expect(role({ ...service("lambda.amazonaws.com"), Action: [] })).toEqual([
      'assumeRolePolicy.Statement[0].Action = [] (only "sts:AssumeRole")',
    ]);
    expect(role("nope")).toEqual(['assumeRolePolicy.Statement[0] = "nope" (not a statement)']);
  });

  it("refuses a trust policy that is missing, unreadable or empty", () => {
    expect(role(undefined, "{not json")).toEqual([
      'assumeRolePolicy = "{not json" (not a policy document)',
    ]);
    expect(role(undefined, 42)).toEqual(["assumeRolePolicy = 42 (not a policy document)"]);
    expect(role(undefined, "[]")).toEqual(['assumeRolePolicy = "[]" (not a policy document)']);
    expect(role(undefined, { Statement: [] })).toEqual(["assumeRolePolicy has no statement"]);
  });
});
