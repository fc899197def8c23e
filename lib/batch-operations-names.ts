/**
 * Physical names of what an S3 Batch Operations resync job needs in the replicating stack: the
 * role the job runs as and the bucket its generated manifest and completion report go to. Both
 * follow from the same name parts as every other physical name (lib/naming.ts), so the resync
 * command (`npm run resync -- --engine batch-operations --function NAME`) derives them from the
 * function it is given, with no other input. Pure: no Pulumi, no I/O.
 */
import { bucketNameProblems, roleNameProblems, type NameParts } from "./naming";

export interface BatchOperationsNames {
  /** IAM role name; IAM is global, so the region is part of it. */
  readonly role: string;
  /** The report bucket: generated manifests and completion reports. */
  readonly reportBucket: string;
}

/** Where in the report bucket Batch Operations writes generated manifests. */
export const BATCH_MANIFEST_PREFIX = "manifests";
/** Where in the report bucket Batch Operations writes completion reports. */
export const BATCH_REPORT_PREFIX = "reports";

/**
 * Role `{prefix}-batch-{env}-{region}[-{suffix}]`; report bucket
 * `{prefix}-batch-{env}-{region}-{account id or suffix}` (globally unique, like the data bucket).
 */
export function batchOperationsNames(parts: NameParts): BatchOperationsNames {
  const { namePrefix, environment, region, uniqueness, nameSuffix } = parts;
  const base = `${namePrefix}-batch-${environment}-${region}`;
  return {
    role: nameSuffix === undefined ? base : `${base}-${nameSuffix}`,
    reportBucket: `${base}-${uniqueness}`,
  };
}

/** Every problem with the Batch Operations names of a replicating stack, each naming the name. */
export function batchOperationsNameProblems(parts: NameParts): string[] {
  const names = batchOperationsNames(parts);
  return [
    ...roleNameProblems(names.role).map(
      (problem) => `IAM role name ${JSON.stringify(names.role)}: ${problem}`,
    ),
    ...bucketNameProblems(names.reportBucket).map(
      (problem) => `S3 bucket name ${JSON.stringify(names.reportBucket)}: ${problem}`,
    ),
  ];
}
