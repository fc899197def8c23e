/**
 * The masking key, fetched from AWS Secrets Manager with Powertools Parameters and cached in the
 * execution environment for `MASKING_KEY_MAX_AGE_SECONDS`, and the masker built on it. The key is
 * never logged, never put in a dead letter, a metric or an error message.
 */
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { ReplicationSettings, ReplicationTarget } from "./contract";
import { PermanentChangeError } from "./errors";
import { AS_IS, maskedItemView, type ItemView } from "./items";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { createMasker, maskItem, objectRuleOf, type Masker, type MaskingRules } from "./masking";
import type { ObjectMasking } from "./objects";

/**
 * Seconds a fetched key is kept: a rotated key reaches every execution environment within this
 * (https://docs.powertools.aws.dev/lambda/typescript/latest/features/parameters/ "maxAge").
 */
export const MASKING_KEY_MAX_AGE_SECONDS = 300;

/** Bytes the key must have at least: HMAC-SHA-256's block of security (RFC 2104: at least L=32). */
export const MASKING_KEY_MIN_BYTES = 32;

/** The key cannot be used as it stands (too short, not text): a person must fix the secret. */
export class MaskingKeyError extends PermanentChangeError {
  override readonly name = "MaskingKeyError";
  readonly reason = "masking-key";
}

/** What the replicator needs of masking. */
export interface Masking {
  readonly rules: MaskingRules;
  /** Whether `target` is written masked. */
  masks(target: ReplicationTarget): boolean;
  /** The masker under the current key (fetched or cached). */
  masker(): Promise<Masker>;
}

/** Reads a secret's value (Powertools' SecretsProvider, or a test's stand-in). */
export type SecretReader = (
  secretArn: string,
  maxAgeSeconds: number,
) => Promise<string | undefined>;

/** A reader through Powertools Parameters, with a client of the settings' region and retries. */
export function secretsReader(
  settings: Pick<ReplicationSettings, "region">,
  clientSettings: Record<string, unknown> = {},
): SecretReader {
  let provider: SecretsProvider | undefined;
  return async (secretArn, maxAge) => {
    provider ??= new SecretsProvider({
      awsSdkV3Client: new SecretsManagerClient({ region: settings.region, ...clientSettings }),
    });
    const value = await provider.get(secretArn, { maxAge });
    return typeof value === "string" ? value : undefined;
  };
}

/** Masking of the settings, or undefined when nothing is masked. */
export function maskingOf(
  settings: Pick<ReplicationSettings, "masking" | "maskingSecretArn">,
  read: SecretReader,
): Masking | undefined {
  const { masking: rules, maskingSecretArn } = settings;
  if (rules === undefined || maskingSecretArn === undefined) return undefined;
  let cached: { key: string; masker: Masker } | undefined;
  return {
    rules,
    masks: (target) => !rules.unmaskedTargets.includes(target.environment),
    masker: async () => {
      const key = await read(maskingSecretArn, MASKING_KEY_MAX_AGE_SECONDS);
      if (key === undefined || Buffer.byteLength(key, "utf8") < MASKING_KEY_MIN_BYTES) {
        throw new MaskingKeyError(
          `the masking key's secret ${maskingSecretArn} must hold a text of at least ${String(MASKING_KEY_MIN_BYTES)} bytes`,
        );
      }
      if (cached?.key !== key)
        cached = { key, masker: createMasker(rules, Buffer.from(key, "utf8")) };
      return cached.masker;
    },
  };
}

/** How `target`'s replica of object `key` is masked, if it is. */
export async function objectMaskingFor(
  masking: Masking | undefined,
  target: ReplicationTarget,
  key: string,
): Promise<{ masking?: ObjectMasking }> {
  if (masking?.masks(target) !== true) return {};
  return { masking: { masker: await masking.masker(), rule: objectRuleOf(masking.rules, key) } };
}

/** How `target` sees items: as they are, or masked under the current key. */
export async function itemViewFor(
  masking: Masking | undefined,
  target: ReplicationTarget,
): Promise<ItemView> {
  return masking?.masks(target) === true ? maskedItemView(await masking.masker()) : AS_IS;
}

/** Whether the rules mask a key attribute of items (then replicas have other keys). */
export function masksKeys(masking: Masking | undefined, keyNames: readonly string[]): boolean {
  return masking !== undefined && keyNames.some((name) => name in masking.rules.items);
}

/** The attribute a dead-lettered stream record's `Keys` hold instead of masked key values. */
export const SEALED_KEYS_ATTRIBUTE = "_sealedKeys";

const recordOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;

/**
 * A stream record as a dead letter may carry it: when the rules mask a key attribute, its `Keys`
 * are sealed (AES-256-GCM under the masking key): the DLQ never holds a value the rules mask,
 * and redrive, which reads the key, opens them (`unsealRecord`).
 */
export async function sealRecord(masking: Masking | undefined, record: unknown): Promise<unknown> {
  const dynamodb = recordOf(recordOf(record)?.dynamodb);
  const keys = recordOf(dynamodb?.Keys);
  if (keys === undefined || !masksKeys(masking, Object.keys(keys)) || masking === undefined) {
    return record;
  }
  const masker = await masking.masker();
  return {
    ...recordOf(record),
    dynamodb: {
      ...dynamodb,
      Keys: { [SEALED_KEYS_ATTRIBUTE]: { S: masker.seal(JSON.stringify(keys)) } },
    },
  };
}

/** A dead-lettered stream record with its `Keys` opened again (unchanged when not sealed). */
export async function unsealRecord(
  masking: Masking | undefined,
  record: unknown,
): Promise<unknown> {
  const dynamodb = recordOf(recordOf(record)?.dynamodb);
  const sealed = recordOf(recordOf(dynamodb?.Keys)?.[SEALED_KEYS_ATTRIBUTE])?.S;
  if (typeof sealed !== "string") return record;
  if (masking === undefined) {
    throw new MaskingKeyError(
      "the record's keys are sealed, and no masking key is configured to open them",
    );
  }
  const masker = await masking.masker();
  return {
    ...recordOf(record),
    dynamodb: { ...dynamodb, Keys: JSON.parse(masker.unseal(sealed)) as unknown },
  };
}

/** Item keys as a log line may show them: masked when the rules mask a key attribute. */
export async function loggedKeys(
  masking: Masking | undefined,
  keys: Record<string, AttributeValue>,
): Promise<string> {
  if (!masksKeys(masking, Object.keys(keys)) || masking === undefined) return JSON.stringify(keys);
  try {
    return JSON.stringify(maskItem(await masking.masker(), keys));
  } catch {
    return "(masked key)";
  }
}
