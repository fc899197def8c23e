/**
 * The metadata table's key schema, the same in every stack (replication needs one schema on
 * both sides): one definition for the table (lib/data-plane.ts) and for the config checks that
 * depend on it (masking a key attribute, lib/masking-config.ts).
 */
export const tableKey = {
  hash: { name: "pk", type: "S" },
  range: { name: "sk", type: "S" },
} as const;

/** The key attributes and their types. */
export const tableKeyAttributes: Readonly<Record<string, string>> = {
  [tableKey.hash.name]: tableKey.hash.type,
  [tableKey.range.name]: tableKey.range.type,
};
