// DynamoDB, SQS, SNS and Secrets Manager baseline: encryption at rest, point-in-time recovery,
// deletion protection on the protected environment's tables, and secrets (the masking key) that
// only IAM policies of their own account grant.
import { PROTECTED_ENVIRONMENT, TYPES } from "../baseline";
import { quote, recordAt, stringAt, tagsOf } from "../props";
import type { ResourceRule } from "../types";

export const dynamodbEncrypted: ResourceRule = {
  name: "dynamodb-encrypted",
  description: "Each table enables server-side encryption with KMS (serverSideEncryption.enabled).",
  validate(type, props) {
    if (type !== TYPES.table) return [];
    const enabled = recordAt(props, "serverSideEncryption")?.enabled;
    return enabled === true
      ? []
      : [`serverSideEncryption.enabled = ${quote(enabled)} (must be true)`];
  },
};

export const dynamodbPointInTimeRecovery: ResourceRule = {
  name: "dynamodb-point-in-time-recovery",
  description: "Each table enables point-in-time recovery.",
  validate(type, props) {
    if (type !== TYPES.table) return [];
    const enabled = recordAt(props, "pointInTimeRecovery")?.enabled;
    return enabled === true
      ? []
      : [`pointInTimeRecovery.enabled = ${quote(enabled)} (must be true)`];
  },
};

export const dynamodbProdDeletionProtection: ResourceRule = {
  name: "dynamodb-prod-deletion-protection",
  description: `Each table tagged Environment=${PROTECTED_ENVIRONMENT} enables deletion protection.`,
  validate(type, props) {
    if (type !== TYPES.table || tagsOf(props).Environment !== PROTECTED_ENVIRONMENT) return [];
    const enabled = props.deletionProtectionEnabled;
    return enabled === true
      ? []
      : [
          `deletionProtectionEnabled = ${quote(enabled)} (must be true in ${PROTECTED_ENVIRONMENT})`,
        ];
  },
};

export const sqsEncrypted: ResourceRule = {
  name: "sqs-encrypted",
  description:
    "Each queue enables SSE-SQS (sqsManagedSseEnabled) or sets a KMS key (kmsMasterKeyId).",
  validate(type, props) {
    if (type !== TYPES.queue) return [];
    if (props.sqsManagedSseEnabled === true || stringAt(props, "kmsMasterKeyId") !== undefined) {
      return [];
    }
    return [
      `sqsManagedSseEnabled = ${quote(props.sqsManagedSseEnabled)} and kmsMasterKeyId = ` +
        `${quote(props.kmsMasterKeyId)} (one must enable encryption)`,
    ];
  },
};

export const snsEncrypted: ResourceRule = {
  name: "sns-encrypted",
  description: "Each topic sets a KMS key (kmsMasterKeyId).",
  validate(type, props) {
    if (type !== TYPES.topic) return [];
    return stringAt(props, "kmsMasterKeyId") !== undefined
      ? []
      : [`kmsMasterKeyId = ${quote(props.kmsMasterKeyId)} (must name a KMS key)`];
  },
};

export const secretEncryptedWithOwnKey: ResourceRule = {
  name: "secret-encrypted-with-own-key",
  description:
    "Each Secrets Manager secret (the masking key) is encrypted with a customer managed KMS key (kmsKeyId), whose key policy decides who may decrypt it.",
  validate(type, props) {
    if (type !== TYPES.secret) return [];
    return stringAt(props, "kmsKeyId") !== undefined
      ? []
      : [`kmsKeyId = ${quote(props.kmsKeyId)} (must name a customer managed KMS key)`];
  },
};

export const secretWithoutResourcePolicy: ResourceRule = {
  name: "secret-without-resource-policy",
  description:
    "No secret has a resource policy: a masking key is read through its own account's IAM policies only, never by a target account.",
  validate(type, props) {
    if (type !== TYPES.secretPolicy) return [];
    return [
      `secretArn = ${quote(props.secretArn)} (a resource policy could let another account, such as a target's, read the masking key)`,
    ];
  },
};
