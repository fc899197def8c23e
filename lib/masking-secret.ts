/**
 * The masking key of a replicating stack that masks (config `masking`): unless the config names
 * an existing secret (`keySecretArn`), a secret in AWS Secrets Manager with a generated value (64
 * random characters, @pulumi/random, kept as a secret in the stack's state), encrypted with a
 * customer managed key of its own. Its key policy lets the account administer it and nobody
 * else use it but through IAM: the replication role's policy (lib/iam.ts) and the operators'
 * permissions grant the decryption; no target account is ever named, and the secret has no
 * resource policy.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { MaskingConfig } from "./masking-config";
import { maskingKeyPolicy, policyJson, policyLimits } from "./iam";
import { maskingKeyDescription, maskingSecretDescription } from "./resource-texts";

/** Characters of the generated key (letters and digits: 64 of them hold 381 bits). */
export const MASKING_KEY_LENGTH = 64;

export interface MaskingSecret {
  readonly secretArn: pulumi.Output<string>;
  /** The key that encrypts the secret, when the stack created it. */
  readonly kmsKeyArn: pulumi.Output<string> | undefined;
}

export interface MaskingSecretArgs {
  readonly masking: MaskingConfig;
  readonly environment: string;
  readonly secretName: string;
  readonly accountId: pulumi.Input<string>;
  readonly partition: string;
  readonly tags: Readonly<Record<string, string>>;
}

export function createMaskingSecret(
  name: string,
  args: MaskingSecretArgs,
  parent: pulumi.Resource,
): MaskingSecret {
  const { masking } = args;
  if (masking.keySecretArn !== undefined) {
    return { secretArn: pulumi.output(masking.keySecretArn), kmsKeyArn: undefined };
  }
  const opts = { parent };
  const key = new aws.kms.Key(
    `${name}-masking-key`,
    {
      description: maskingKeyDescription(args.environment),
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: pulumi
        .output(args.accountId)
        .apply((accountId) =>
          policyJson(
            `${name}-masking-key`,
            maskingKeyPolicy({ accountId, partition: args.partition }),
            policyLimits.key,
          ),
        ),
      tags: args.tags,
    },
    opts,
  );
  const secret = new aws.secretsmanager.Secret(
    `${name}-masking-secret`,
    {
      name: args.secretName,
      description: maskingSecretDescription(args.environment),
      kmsKeyId: key.arn,
      // A deleted masking key can be restored for a week: the replicas' pseudonyms depend on it.
      recoveryWindowInDays: 7,
      tags: args.tags,
    },
    opts,
  );
  const value = new random.RandomPassword(
    `${name}-masking-value`,
    { length: MASKING_KEY_LENGTH, special: false },
    opts,
  );
  new aws.secretsmanager.SecretVersion(
    `${name}-masking-secret-value`,
    { secretId: secret.id, secretString: value.result },
    opts,
  );
  return { secretArn: secret.arn, kmsKeyArn: key.arn };
}
