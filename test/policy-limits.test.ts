/** Policy sizes (lib/iam.ts policyJson) against each service's limit: each rule throws and passes. */
import {
  policyJson,
  policyLimits,
  policySize,
  PolicySizeError,
  replicationRolePolicy,
  type PolicyDocument,
  type PolicyLimit,
} from "../lib/iam";

/** A one-statement document whose resource pads it to `size` as `limit` counts it. */
function documentOfSize(size: number, limit: PolicyLimit): PolicyDocument {
  const base = (resource: string): PolicyDocument => ({
    Version: "2012-10-17",
    Statement: [{ Sid: "Pad", Effect: "Allow", Action: "s3:GetObject", Resource: resource }],
  });
  const empty = policySize(JSON.stringify(base("")), limit);
  return base("r".repeat(size - empty));
}

describe("policyJson", () => {
  const limits = Object.entries(policyLimits) as [string, PolicyLimit][];

  it.each(limits)(
    "refuses a %s policy one unit over its limit, naming the resource",
    (_n, limit) => {
      const policy = documentOfSize(limit.max + 1, limit);

      expect(() => policyJson("pipeline-thing", policy, limit)).toThrow(PolicySizeError);
      expect(() => policyJson("pipeline-thing", policy, limit)).toThrow(
        `The ${limit.what} of pipeline-thing is ${limit.max + 1} ${limit.unit} (max ${limit.max}); it names 1 statement(s)`,
      );
    },
  );

  it.each(limits)("accepts a %s policy of exactly its limit, as JSON", (_n, limit) => {
    const policy = documentOfSize(limit.max, limit);

    expect(JSON.parse(policyJson("pipeline-thing", policy, limit))).toEqual(policy);
  });

  it("has the limits of the service quotas", () => {
    expect(
      Object.fromEntries(limits.map(([name, limit]) => [name, [limit.max, limit.unit]])),
    ).toEqual({
      roleInline: [10_240, "characters without white space"],
      roleTrust: [2048, "characters without white space"],
      bucket: [20_480, "bytes"],
      table: [20_480, "bytes"],
      key: [32_768, "bytes"],
      queue: [8192, "bytes"],
    });
  });

  it("counts IAM policies without white space and resource policies in UTF-8 bytes", () => {
    expect(policySize('{"a": "b c"}', policyLimits.roleInline)).toBe(10);
    expect(policySize('{"a": "b c"}', policyLimits.bucket)).toBe(12);
    expect(policySize('"é"', policyLimits.queue)).toBe(4);
  });
});

describe("the replication role's inline policy", () => {
  // The longest names the targets' stacks can return: 63-character buckets, 255-character tables
  // in another account, addressed by ARN, with their keys.
  const targets = (count: number) => {
    const ids = Array.from({ length: count }, (_, i) => String(i).padStart(2, "0"));
    return {
      sourceBucketArn: "arn:aws:s3:::company-data-prod-eu-west-1-123456789012",
      sourceTableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/company-metadata-prod",
      sourceStreamArn:
        "arn:aws:dynamodb:eu-west-1:123456789012:table/company-metadata-prod/stream/2026-01-01T00:00:00.000",
      targetBucketArns: ids.map((id) => `arn:aws:s3:::${id}${"b".repeat(61)}`),
      targetTableArns: ids.map(
        (id) => `arn:aws:dynamodb:ap-southeast-7:111111111111:table/${id}${"t".repeat(253)}`,
      ),
      targetTableKeys: ids.map((id) => ({
        arn: `arn:aws:kms:ap-southeast-7:111111111111:key/${id}aaaaaa-0000-0000-0000-000000000000`,
        viaService: "dynamodb.ap-southeast-7.amazonaws.com",
      })),
      deadLetterQueueArn: "arn:aws:sqs:eu-west-1:123456789012:pipeline-dlq-1a2b3c4",
      logGroupArn:
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/company-replication-prod",
    };
  };

  it("fails the update, naming the policy, when the targets' ARNs make it longer than IAM takes", () => {
    expect(() =>
      policyJson(
        "pipeline-replication-policy",
        replicationRolePolicy(targets(20)),
        policyLimits.roleInline,
      ),
    ).toThrow(
      /^The IAM role inline policy of pipeline-replication-policy is \d+ characters without white space \(max 10240\); it names 11 statement\(s\)$/,
    );
  });

  it("takes as many targets as the function's 4 KB environment does, with the longest names", () => {
    // The environment's worst-case check (lib/config.ts) lets at most 8 targets through.
    expect(() =>
      policyJson(
        "pipeline-replication-policy",
        replicationRolePolicy(targets(10)),
        policyLimits.roleInline,
      ),
    ).not.toThrow();
  });
});
