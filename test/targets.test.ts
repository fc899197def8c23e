/**
 * What the replicating stack makes of a target's outputs (lib/targets.ts) and what a target
 * granting another account derives (lib/cross-account.ts), on plain values.
 */
import {
  replicationGrantee,
  SameAccountSourceError,
  tableKeyPolicyDocument,
} from "../lib/cross-account";
import { resolveTarget, TargetStackError, type TargetOutputs } from "../lib/targets";

const self = {
  accountId: "333333333333",
  region: "eu-west-1",
  environment: "prod",
  roleArn: "arn:aws:iam::333333333333:role/company-replication-prod-eu-west-1",
};

const base: TargetOutputs = {
  stack: "org/data-pipeline/dev",
  environment: "dev",
  bucketName: "company-data-dev-us-east-1-111111111111",
  bucketArn: "arn:aws:s3:::company-data-dev-us-east-1-111111111111",
  tableName: "company-metadata-dev",
  tableArn: "arn:aws:dynamodb:us-east-1:111111111111:table/company-metadata-dev",
};

const crossAccount: TargetOutputs = {
  ...base,
  region: "us-east-1",
  accountId: "111111111111",
  replicationSourceRoleArn: self.roleArn,
  tableKeyArn: "arn:aws:kms:us-east-1:111111111111:key/k",
};

describe("resolveTarget", () => {
  it("takes a target without region and account outputs to be in this stack's (as before)", () => {
    expect(resolveTarget(base, self)).toEqual({
      entry: {
        environment: "dev",
        bucket: base.bucketName,
        table: "company-metadata-dev",
        region: "eu-west-1",
      },
      accountId: "333333333333",
      bucketArn: base.bucketArn,
      tableArn: base.tableArn,
      tableKey: undefined,
    });
  });

  it("addresses a table in the same account by name, in the target's own region", () => {
    const resolved = resolveTarget(
      { ...base, region: "us-east-1", accountId: self.accountId },
      self,
    );

    expect(resolved.entry).toEqual({
      environment: "dev",
      bucket: base.bucketName,
      table: "company-metadata-dev",
      region: "us-east-1",
    });
    expect(resolved.tableKey).toBeUndefined();
  });

  it("addresses a table in another account by ARN and names its key, used through DynamoDB", () => {
    const resolved = resolveTarget(crossAccount, self);

    expect(resolved.entry.table).toBe(base.tableArn);
    expect(resolved.accountId).toBe("111111111111");
    expect(resolved.tableKey).toEqual({
      arn: "arn:aws:kms:us-east-1:111111111111:key/k",
      viaService: "dynamodb.us-east-1.amazonaws.com",
    });
  });

  it.each([
    [{ ...base, region: "Virginia" }, 'output "region" = "Virginia" is not an AWS region name'],
    [{ ...base, accountId: "1111" }, 'output "accountId" = "1111" is not a 12-digit account id'],
    [
      { ...crossAccount, region: "us-gov-west-1" },
      'output "region" = "us-gov-west-1" is in partition aws-us-gov, but this stack (eu-west-1) is in aws',
    ],
    [
      { ...crossAccount, replicationSourceRoleArn: undefined },
      "is in account 111111111111 and grants no replication role, not this stack's",
    ],
    [
      { ...crossAccount, tableKeyArn: undefined },
      "grants this stack's role, but has no output \"tableKeyArn\" (its table's key)",
    ],
  ])("refuses %j", (outputs, message) => {
    expect(() => resolveTarget(outputs, self)).toThrow(TargetStackError);
    expect(() => resolveTarget(outputs, self)).toThrow(message);
  });

  it("accepts a target in another region of the same partition", () => {
    expect(() => resolveTarget({ ...crossAccount, region: "ap-southeast-2" }, self)).not.toThrow();
  });
});

describe("a target's grants", () => {
  const source = {
    accountId: "333333333333",
    environment: "prod",
    region: "eu-west-1",
    roleName: "company-replication-prod-eu-west-1",
  };

  it("names the source account's role by the ARN the naming rules derive", () => {
    expect(replicationGrantee(source)).toEqual({
      partition: "aws",
      accountId: "333333333333",
      roleArn: self.roleArn,
    });
    expect(replicationGrantee({ ...source, region: "cn-north-1" }).roleArn).toBe(
      "arn:aws-cn:iam::333333333333:role/company-replication-prod-eu-west-1",
    );
  });

  it("refuses, once the deployed account is known, a source that is that account", () => {
    const config = { project: "data-pipeline", region: "us-east-1" };

    expect(() => tableKeyPolicyDocument(config, source, "333333333333")).toThrow(
      SameAccountSourceError,
    );
    expect(() => tableKeyPolicyDocument(config, source, "333333333333")).toThrow(
      'data-pipeline:sourceAccountId = "333333333333" is the account this stack is deployed in',
    );
    expect(() => tableKeyPolicyDocument(config, source, "111111111111")).not.toThrow();
  });
});
