// Tagging baseline: every taggable resource carries the required tags with non-empty values.
import { REQUIRED_TAGS, TAGGABLE_TYPES } from "../baseline";
import { quote, tagsOf } from "../props";
import type { Props, ResourceRule } from "../types";

/** Whether a resource can carry tags: a known taggable type, or one whose props carry tags. */
export function isTaggable(type: string, props: Props): boolean {
  return TAGGABLE_TYPES.includes(type) || "tags" in props || "tagsAll" in props;
}

export const requiredTags: ResourceRule = {
  name: "required-tags",
  description: `Every taggable resource carries the tags ${REQUIRED_TAGS.join(", ")}.`,
  validate(type, props) {
    if (!isTaggable(type, props)) return [];
    const tags = tagsOf(props);
    return REQUIRED_TAGS.filter((key) => {
      const value = tags[key];
      return typeof value !== "string" || value === "";
    }).map((key) => `tags.${key} = ${quote(tags[key])} (required, non-empty)`);
  },
};
