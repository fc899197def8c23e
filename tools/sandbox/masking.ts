/**
 * The sandbox's masking: the `data-pipeline:masking` config it deploys with (the committed prod
 * stack file sets none, so the sandbox brings its own, checked by the program's own validator),
 * the key it puts in the Secrets Manager stand-in, and what each target must then hold of prod's
 * state: prod's objects and items masked by the rules, with the masking version recorded, for a
 * masked target; prod's as they are for a target in `unmaskedTargets`. The convergence check
 * compares each target with that, not with prod's raw state.
 */
import { Readable } from "node:stream";
import { readMaskingConfig } from "../../lib/masking-config";
import { maskedItemView, AS_IS, type ItemView } from "../../lib/replication/items";
import {
  createMasker,
  maskTags,
  maskTexts,
  objectRuleOf,
  type Item,
  type Masker,
  type MaskingRules,
} from "../../lib/replication/masking";
import { maskedContents } from "../../lib/replication/object-transform";
import { OBJECT_MASKING_METADATA } from "../../lib/replication/sequence";
import { tableKeyAttributes } from "../../lib/table-keys";
import { stateOf, type EnvironmentState, type Expectation, type ObjectSnapshot } from "./state";

/**
 * The masking key in the sandbox's Secrets Manager stand-in: at least 32 bytes, as the function
 * requires. Not a secret: the sandbox's data is made up.
 */
export const SANDBOX_MASKING_KEY = "sandbox-masking-key-not-a-secret-0123456789";

/**
 * `data-pipeline:masking` of the sandbox's prod, as a stack file would hold it: personal
 * attributes of the `customer#` items, the fields of the JSON Lines exports and the CSV sign-ups,
 * and who uploaded an export. Staging is in `unmaskedTargets`, so the sandbox shows both kinds
 * of target: dev masked, staging as prod holds it.
 */
export const SANDBOX_MASKING_CONFIG = {
  items: {
    name: "hash",
    email: "email",
    "contact.phone": "hash",
    card: "redact",
    notes: "redact",
  },
  objects: [
    {
      prefix: "exports/",
      format: "jsonl",
      fields: { name: "hash", email: "email", note: "drop" },
      metadata: { "uploaded-by": "email" },
    },
    {
      prefix: "customers/",
      format: "csv",
      fields: { Name: "hash", Email: "email", Card: "redact" },
    },
  ],
  unmaskedTargets: ["staging"],
} as const;

/** The sandbox's masking: the rules, the key, and the masker the function builds of them. */
export interface SandboxMasking {
  readonly rules: MaskingRules;
  readonly key: string;
  readonly masker: Masker;
  /** Whether `environment` is written masked. */
  masks(environment: string): boolean;
  /** How `environment` sees prod's items: masked or as they are. */
  itemView(environment: string): ItemView;
}

/**
 * The sandbox's masking for a prod replicating into `targets`; throws naming every problem the
 * program's validator finds in the config (a target it names that the plans do not have).
 */
export function sandboxMasking(targets: readonly string[]): SandboxMasking {
  const { config, problems } = readMaskingConfig("data-pipeline:masking", SANDBOX_MASKING_CONFIG, {
    targets,
    keyAttributes: tableKeyAttributes,
  });
  if (config === undefined || problems.length > 0) {
    throw new Error(`the sandbox's masking config is refused: ${problems.join("; ")}`);
  }
  const { rules } = config;
  const masker = createMasker(rules, Buffer.from(SANDBOX_MASKING_KEY, "utf8"));
  const masks = (environment: string): boolean => !rules.unmaskedTargets.includes(environment);
  return {
    rules,
    key: SANDBOX_MASKING_KEY,
    masker,
    masks,
    itemView: (environment) => (masks(environment) ? maskedItemView(masker) : AS_IS),
  };
}

async function bytesOf(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/** A masked target's replica of one object (undefined: never replicated, an excluded prefix). */
async function maskedObject(
  masker: Masker,
  key: string,
  object: ObjectSnapshot,
): Promise<ObjectSnapshot | undefined> {
  const rule = objectRuleOf(masker.rules, key);
  if (rule?.exclude === true) return undefined;
  const body =
    rule?.format === undefined || rule.fields === undefined
      ? object.body
      : await bytesOf(
          maskedContents(Readable.from([object.body]), rule.format, masker, rule.fields),
        );
  return {
    body,
    contentType: object.contentType,
    metadata: {
      ...maskTexts(masker, object.metadata, rule?.metadata),
      [OBJECT_MASKING_METADATA]: masker.version,
    },
    tags: maskTags(masker, object.tags, rule?.tags),
  };
}

/**
 * What `target` must hold of `source`'s state: as it is when it is unmasked; when it is masked,
 * every item masked by the item rules (its key too, were a key attribute masked) with the masking
 * version recorded, and every object with its contents (under a `format` rule), user metadata
 * and tags masked by its key's rule, the version recorded, and none under an excluded prefix.
 */
export async function expectedState(
  source: EnvironmentState,
  target: { readonly environment: string; readonly bucket: string; readonly table: string },
  masking: SandboxMasking,
): Promise<Expectation> {
  if (!masking.masks(target.environment)) {
    return {
      state: stateOf(target, source.objectSnapshots, source.itemValues.values(), undefined),
      masked: false,
    };
  }
  const objects = new Map<string, ObjectSnapshot>();
  for (const [key, object] of source.objectSnapshots) {
    const replica = await maskedObject(masking.masker, key, object);
    if (replica !== undefined) objects.set(key, replica);
  }
  const view = masking.itemView(target.environment);
  const items = [...source.itemValues.values()].flatMap((item): Item[] => {
    const replica = view.item(item);
    return replica === undefined ? [] : [replica];
  });
  return { state: stateOf(target, objects, items, undefined), masked: true };
}
