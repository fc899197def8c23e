/** The tags every taggable resource carries. */

/** Keys the program always sets; config `tags` may not override them. */
export const standardTagKeys = ["Environment", "Project", "ManagedBy"] as const;

/** Standard tags (`Environment`, `Project`, `ManagedBy` = pulumi) plus extra tags from config. */
export function standardTags(
  environment: string,
  project: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return { ...extra, Environment: environment, Project: project, ManagedBy: "pulumi" };
}
