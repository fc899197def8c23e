// Resource-policy baseline of the cross-account layout: no resource policy allows everyone (a
// key policy's "*" only for its own account's callers), a grant to another account is narrowed
// to one role, and (stack rule) a table shared through a resource policy has a customer managed
// key, since a table under AWS's own key for DynamoDB cannot be shared across accounts.
import { TYPES } from "../baseline";
import { isRecord, listAt, policyDocument, quote, recordAt, stringAt, stringsOf } from "../props";
import type { PlannedResource, Props, ResourceRule, StackFinding, StackRule } from "../types";

/** The AWS principals of a statement (`"*"` stands for everyone). */
function principals(statement: Props): string[] {
  const principal = statement.Principal;
  if (principal === "*") return ["*"];
  return isRecord(principal) ? stringsOf(principal.AWS) : [];
}

/** Condition values of `key` under any operator. */
function conditionValues(statement: Props, key: string): string[] {
  const condition = recordAt(statement, "Condition") ?? {};
  return Object.values(condition).flatMap((operator) =>
    isRecord(operator) ? stringsOf(operator[key]) : [],
  );
}

/** The Allow statements of a policy input, with their index. */
function allowStatements(props: Props): { index: number; label: string; statement: Props }[] {
  const document = policyDocument(props.policy);
  if (document === undefined) return [];
  return listAt(document, "Statement").flatMap((statement, index) => {
    if (!isRecord(statement) || statement.Effect !== "Allow") return [];
    const sid = stringAt(statement, "Sid");
    const label = `policy Statement[${index}]${sid === undefined ? "" : ` (${sid})`}`;
    return [{ index, label, statement }];
  });
}

const RESOURCE_POLICY_TYPES: readonly string[] = [
  TYPES.bucketPolicy,
  TYPES.tableResourcePolicy,
  TYPES.kmsKey,
];

export const resourcePolicyNotPublic: ResourceRule = {
  name: "resource-policy-not-public",
  description:
    'No bucket policy, DynamoDB resource policy or key policy allows principal "*"; a key ' +
    "policy may only for its own account's callers (a kms:CallerAccount condition).",
  validate(type, props) {
    if (!RESOURCE_POLICY_TYPES.includes(type)) return [];
    return allowStatements(props)
      .filter(({ statement }) => principals(statement).includes("*"))
      .filter(
        ({ statement }) =>
          type !== TYPES.kmsKey || conditionValues(statement, "kms:CallerAccount").length === 0,
      )
      .map(({ label }) => `${label} allows principal "*" (name the account or role it is for)`);
  },
};

const ACCOUNT_ROOT = /^arn:aws[a-z-]*:iam::\d{12}:root$/;

export const crossAccountGrantNarrowed: ResourceRule = {
  name: "cross-account-grant-narrowed",
  description:
    "A bucket policy or DynamoDB resource policy that grants an account (arn:...:root) narrows " +
    "the grant to named principals with an aws:PrincipalArn condition.",
  validate(type, props) {
    if (type !== TYPES.bucketPolicy && type !== TYPES.tableResourcePolicy) return [];
    return allowStatements(props).flatMap(({ label, statement }) => {
      const accounts = principals(statement).filter((p) => ACCOUNT_ROOT.test(p));
      if (accounts.length === 0 || conditionValues(statement, "aws:PrincipalArn").length > 0) {
        return [];
      }
      return [
        `${label} grants ${accounts.map(quote).join(", ")} without an aws:PrincipalArn ` +
          "condition (narrow it to the role it is for)",
      ];
    });
  },
};

/**
 * Whether `policy`'s `resourceArn` refers to `table`: by the engine's property dependencies when
 * it gives them, else by value (the ARN names the table: `...:table/<name>`).
 */
export function refersToTable(policy: PlannedResource, table: PlannedResource): boolean {
  const dependencies = policy.propertyDependencies?.resourceArn ?? [];
  if (dependencies.length > 0) return dependencies.includes(table.urn);
  const arn = stringAt(policy.props, "resourceArn");
  const name = stringAt(table.props, "name");
  return arn !== undefined && name !== undefined && arn.endsWith(`:table/${name}`);
}

export const dynamodbSharedTableOwnKey: StackRule = {
  name: "dynamodb-shared-table-own-key",
  description:
    "A table with a resource policy that allows an AWS principal uses a customer managed key " +
    "(serverSideEncryption.kmsKeyArn): AWS's own key for DynamoDB cannot be shared across accounts.",
  validate(resources) {
    const findings: StackFinding[] = [];
    const policies = resources.filter(
      (r) =>
        r.type === TYPES.tableResourcePolicy &&
        allowStatements(r.props).some(({ statement }) => principals(statement).length > 0),
    );
    for (const table of resources.filter((r) => r.type === TYPES.table)) {
      if (!policies.some((policy) => refersToTable(policy, table))) continue;
      const key = recordAt(table.props, "serverSideEncryption")?.kmsKeyArn;
      if (typeof key === "string" && key !== "") continue;
      findings.push({
        urn: table.urn,
        message:
          `table ${quote(table.props.name ?? table.name)} is shared through a resource policy ` +
          `but serverSideEncryption.kmsKeyArn = ${quote(key)} (cross-account access needs a ` +
          "customer managed key)",
      });
    }
    return findings;
  },
};
