// Small, total readers over untyped resource properties: each returns a typed value or
// `undefined`, never throws on a wrong shape (the engine's unknown-value proxy may still throw
// during preview, which @pulumi/policy turns into an advisory "can't run during preview").
import { isRecord } from "../tools/common/guards";
import type { Props } from "./types";

export { isRecord };

/** The nested object at `key`, or `undefined` when absent or not an object. */
export function recordAt(props: Props, key: string): Props | undefined {
  const value = props[key];
  return isRecord(value) ? value : undefined;
}

/** The array at `key`, or an empty array when absent or not an array. */
export function listAt(props: Props, key: string): readonly unknown[] {
  const value = props[key];
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/** The string at `key` if it is a non-empty string. */
export function stringAt(props: Props, key: string): string | undefined {
  const value = props[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The policy document as an object, whether the input is a JSON string or already an object. */
export function policyDocument(value: unknown): Props | undefined {
  if (isRecord(value)) return value;
  if (typeof value !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A string or a list of strings, as IAM allows for Action, Resource and condition values. */
export function stringsOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

/** A value rendered for a message: strings quoted, absent values as `undefined`. */
export function quote(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}

/**
 * The effective tags of a resource: `tagsAll` (engine-computed, includes provider default tags)
 * overlaid with `tags` (what the program set).
 */
export function tagsOf(props: Props): Props {
  return { ...recordAt(props, "tagsAll"), ...recordAt(props, "tags") };
}
