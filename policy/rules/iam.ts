// IAM baseline: every role is assumed by AWS services only (the Lambda service, S3 Batch
// Operations), never by an account, a user, a federated identity or everyone.
import { TYPES } from "../baseline";
import { isRecord, listAt, policyDocument, quote } from "../props";
import type { ResourceRule } from "../types";

/** A service principal without wildcards: `lambda.amazonaws.com`, `batchoperations.s3.amazonaws.com`. */
const SERVICE_PRINCIPAL = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?$/;

const strings = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** Why one trust statement lets something other than a named service assume the role. */
function statementProblems(statement: unknown, index: number): string[] {
  const at = `assumeRolePolicy.Statement[${index}]`;
  if (!isRecord(statement)) return [`${at} = ${quote(statement)} (not a statement)`];
  if (statement.Effect !== "Allow") return [];
  const problems: string[] = [];
  const principal = statement.Principal;
  const services = isRecord(principal) ? strings(principal.Service) : [];
  const onlyServices =
    isRecord(principal) &&
    Object.keys(principal).every((kind) => kind === "Service") &&
    services.length > 0 &&
    services.every((service) => typeof service === "string" && SERVICE_PRINCIPAL.test(service));
  if (!onlyServices) {
    problems.push(`${at}.Principal = ${quote(principal)} (only named AWS service principals)`);
  }
  const actions = strings(statement.Action);
  if (actions.length === 0 || !actions.every((action) => action === "sts:AssumeRole")) {
    problems.push(`${at}.Action = ${quote(statement.Action)} (only "sts:AssumeRole")`);
  }
  if (statement.NotPrincipal !== undefined || statement.NotAction !== undefined) {
    problems.push(`${at} uses NotPrincipal or NotAction (name the principal and the action)`);
  }
  return problems;
}

export const iamRoleTrustsServicesOnly: ResourceRule = {
  name: "iam-role-trusts-services-only",
  description:
    "Each role's trust policy lets only named AWS service principals assume it (sts:AssumeRole).",
  validate(type, props) {
    if (type !== TYPES.role) return [];
    const document = policyDocument(props.assumeRolePolicy);
    if (document === undefined) {
      return [`assumeRolePolicy = ${quote(props.assumeRolePolicy)} (not a policy document)`];
    }
    const statements = listAt(document, "Statement");
    if (statements.length === 0) return ["assumeRolePolicy has no statement"];
    return statements.flatMap(statementProblems);
  },
};
