/** The masking key and what the function does with it (lib/replication/masking-key.ts). */
import {
  MASKING_KEY_MIN_BYTES,
  MaskingKeyError,
  SEALED_KEYS_ATTRIBUTE,
  loggedKeys,
  maskingOf,
  sealRecord,
  unsealRecord,
} from "../../lib/replication/masking-key";
import { streamRecord, itemKeys, streamSequenceAt } from "../../tools/emulators/events";

const rules = { items: { pk: "hash" as const }, objects: [], unmaskedTargets: ["staging"] };
const secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:masking-AbCdEf";
const key = "k".repeat(64);

const masking = (value: string | undefined = key) => {
  const reads: string[] = [];
  const found = maskingOf({ masking: rules, maskingSecretArn: secret }, (arn, maxAge) => {
    reads.push(`${arn} ${String(maxAge)}`);
    return Promise.resolve(value);
  });
  if (found === undefined) throw new Error("no masking");
  return { masking: found, reads };
};

describe("maskingOf", () => {
  it("is undefined when nothing is masked", () => {
    expect(
      maskingOf({ masking: undefined, maskingSecretArn: undefined }, () => Promise.resolve(key)),
    ).toBeUndefined();
  });

  it("reads the key through the reader with the cache age, masks every target but the unmasked ones", async () => {
    const { masking: found, reads } = masking();
    const masker = await found.masker();
    expect(await found.masker()).toBe(masker);
    expect(reads).toEqual([`${secret} 300`, `${secret} 300`]);
    expect(found.masks({ environment: "dev", bucket: "b", table: "t" })).toBe(true);
    expect(found.masks({ environment: "staging", bucket: "b", table: "t" })).toBe(false);
  });

  it("refuses a key shorter than 32 bytes with a permanent error that does not show the key", async () => {
    const { masking: short } = masking("short-key");
    const error = await short.masker().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(MaskingKeyError);
    expect((error as Error).message).toBe(
      `the masking key's secret ${secret} must hold a text of at least ${String(MASKING_KEY_MIN_BYTES)} bytes`,
    );
  });
});

describe("sealed dead letters", () => {
  const record = streamRecord({
    table: "prod-table",
    eventName: "MODIFY",
    keys: itemKeys("ada@example.com", "profile"),
    sequenceNumber: streamSequenceAt(1),
  });

  it("seal a record's keys when the rules mask a key attribute, and open them again", async () => {
    const { masking: found } = masking();
    const sealed = await sealRecord(found, record);
    expect(JSON.stringify(sealed)).not.toContain("ada@example.com");
    expect((sealed as typeof record).dynamodb?.Keys).toEqual({
      [SEALED_KEYS_ATTRIBUTE]: { S: expect.any(String) as unknown },
    });
    expect(await unsealRecord(found, sealed)).toEqual(record);
  });

  it("leave a record alone when no key attribute is masked, and refuse to open without the key", async () => {
    expect(await sealRecord(undefined, record)).toBe(record);
    const { masking: found } = masking();
    await expect(unsealRecord(undefined, await sealRecord(found, record))).rejects.toThrow(
      "the record's keys are sealed, and no masking key is configured to open them",
    );
  });

  it("log masked keys", async () => {
    const { masking: found } = masking();
    const logged = await loggedKeys(found, itemKeys("ada@example.com", "profile"));
    expect(logged).not.toContain("ada@example.com");
    expect(await loggedKeys(undefined, itemKeys("a", "b"))).toBe(
      JSON.stringify(itemKeys("a", "b")),
    );
  });
});
