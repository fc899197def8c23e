// The resource-policy rules of the cross-account layout (policy/rules/grants.ts): what each one
// accepts and what it reports, naming the statement and the value.
import { TYPES } from "../../policy/baseline";
import {
  crossAccountGrantNarrowed,
  dynamodbSharedTableOwnKey,
  refersToTable,
  resourcePolicyNotPublic,
} from "../../policy/rules/grants";
import type { PlannedResource, Props } from "../../policy/types";

const role = "arn:aws:iam::333333333333:role/company-replication-prod-eu-west-1";
const account = "arn:aws:iam::333333333333:root";
const narrowed = { ArnEquals: { "aws:PrincipalArn": role } };
const doc = (...statements: Props[]): string =>
  JSON.stringify({ Version: "2012-10-17", Statement: statements });
const allow = (principal: unknown, extra: Props = {}): Props => ({
  Effect: "Allow",
  Principal: principal,
  Action: "s3:PutObject",
  Resource: "arn:aws:s3:::b/*",
  ...extra,
});

describe("resource-policy-not-public", () => {
  const check = (type: string, policy: unknown): string[] =>
    resourcePolicyNotPublic.validate(type, { policy });

  it.each([
    ["a bucket policy", TYPES.bucketPolicy, doc(allow("*"))],
    ["a bucket policy, AWS '*'", TYPES.bucketPolicy, doc(allow({ AWS: ["*"] }))],
    ["a table policy", TYPES.tableResourcePolicy, doc(allow({ AWS: "*" }, { Sid: "All" }))],
    ["a key policy without kms:CallerAccount", TYPES.kmsKey, doc(allow({ AWS: "*" }))],
  ])("reports %s allowing everyone", (_name, type, policy) => {
    expect(check(type, policy)).toEqual([
      expect.stringMatching(
        /^policy Statement\[0\]( \(All\))? allows principal "\*" \(name the account or role it is for\)$/,
      ) as string,
    ]);
  });

  it.each([
    ["a deny to everyone", TYPES.bucketPolicy, doc({ ...allow("*"), Effect: "Deny" })],
    ["a named account", TYPES.tableResourcePolicy, doc(allow({ AWS: account }))],
    ["a service", TYPES.bucketPolicy, doc(allow({ Service: "logging.s3.amazonaws.com" }))],
    [
      "a key policy's own callers",
      TYPES.kmsKey,
      doc(allow({ AWS: "*" }, { Condition: { StringEquals: { "kms:CallerAccount": "1" } } })),
    ],
    ["a document given as an object", TYPES.bucketPolicy, { Statement: [allow({ AWS: role })] }],
    ["no document", TYPES.bucketPolicy, "not json"],
    ["another type", TYPES.queue, doc(allow("*"))],
  ])("accepts %s", (_name, type, policy) => {
    expect(check(type, policy)).toEqual([]);
  });
});

describe("cross-account-grant-narrowed", () => {
  const check = (type: string, policy: unknown): string[] =>
    crossAccountGrantNarrowed.validate(type, { policy });

  it("reports a grant to an account without an aws:PrincipalArn condition", () => {
    expect(
      check(TYPES.tableResourcePolicy, doc(allow({ AWS: [account] }, { Sid: "Writes" }))),
    ).toEqual([
      'policy Statement[0] (Writes) grants "arn:aws:iam::333333333333:root" without an ' +
        "aws:PrincipalArn condition (narrow it to the role it is for)",
    ]);
    expect(
      check(
        TYPES.bucketPolicy,
        doc(
          allow(
            { AWS: "arn:aws-cn:iam::333333333333:root" },
            { Condition: { Bool: { "aws:SecureTransport": "true" } } },
          ),
        ),
      ),
    ).toHaveLength(1);
  });

  it.each([
    ["a narrowed grant", TYPES.bucketPolicy, doc(allow({ AWS: account }, { Condition: narrowed }))],
    ["a role principal", TYPES.tableResourcePolicy, doc(allow({ AWS: role }))],
    ["a key policy (its own root administers it)", TYPES.kmsKey, doc(allow({ AWS: account }))],
  ])("accepts %s", (_name, type, policy) => {
    expect(check(type, policy)).toEqual([]);
  });
});

describe("dynamodb-shared-table-own-key", () => {
  const table = (props: Props): PlannedResource => ({
    urn: "urn:table",
    type: TYPES.table,
    name: "pipeline-table",
    props: { name: "company-metadata-dev", ...props },
  });
  const policy = (statement: Props, extra: Partial<PlannedResource> = {}): PlannedResource => ({
    urn: "urn:policy",
    type: TYPES.tableResourcePolicy,
    name: "pipeline-table-policy",
    props: {
      resourceArn: "arn:aws:dynamodb:us-east-1:111111111111:table/company-metadata-dev",
      policy: doc(statement),
    },
    ...extra,
  });
  const grant = allow({ AWS: account }, { Condition: narrowed });

  it("reports a shared table under AWS's own key", () => {
    expect(
      dynamodbSharedTableOwnKey.validate([
        table({ serverSideEncryption: { enabled: true } }),
        policy(grant),
      ]),
    ).toEqual([
      {
        urn: "urn:table",
        message:
          'table "company-metadata-dev" is shared through a resource policy but ' +
          "serverSideEncryption.kmsKeyArn = undefined (cross-account access needs a customer managed key)",
      },
    ]);
  });

  it("accepts a shared table with its own key, and tables nobody shares", () => {
    const keyed = table({ serverSideEncryption: { enabled: true, kmsKeyArn: "arn:aws:kms:k" } });
    const other = policy(grant, {
      props: { resourceArn: "arn:aws:dynamodb:us-east-1:1:table/other", policy: doc(grant) },
    });
    const serviceOnly = policy(allow({ Service: "dynamodb.amazonaws.com" }));

    expect(dynamodbSharedTableOwnKey.validate([keyed, policy(grant)])).toEqual([]);
    expect(dynamodbSharedTableOwnKey.validate([table({}), other, serviceOnly])).toEqual([]);
  });

  it("matches a policy to its table by the engine's property dependencies when it has them", () => {
    const dependent = policy(grant, {
      props: { resourceArn: "unknown during preview", policy: doc(grant) },
      propertyDependencies: { resourceArn: ["urn:table"] },
    });
    const elsewhere = { ...dependent, propertyDependencies: { resourceArn: ["urn:other"] } };

    expect(refersToTable(dependent, table({}))).toBe(true);
    expect(refersToTable(elsewhere, table({}))).toBe(false);
    expect(refersToTable(policy(grant), table({ name: undefined }))).toBe(false);
  });
});
