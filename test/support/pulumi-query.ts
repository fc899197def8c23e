/** Small queries over a planned stack: resources by type, exactly one, JSON inputs parsed. */
import type { PlainRecord, PlannedResource, StackPlan } from "../../tools/offline";

/** Every resource of a type. */
export function ofType(plan: StackPlan, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type);
}

/** The one resource of a type (fails when there are none or several). */
export function only(plan: StackPlan, type: string): PlannedResource {
  const found = ofType(plan, type);
  const [first] = found;
  if (found.length !== 1 || first === undefined) {
    throw new Error(`expected one ${type} in ${plan.stack}, found ${found.length}`);
  }
  return first;
}

/** The resource of a type and logical name. */
export function named(plan: StackPlan, type: string, name: string): PlannedResource {
  const found = ofType(plan, type).find((r) => r.name === name);
  if (found === undefined) throw new Error(`no ${type} named ${name} in ${plan.stack}`);
  return found;
}

/** An input that holds JSON (a policy, an event pattern), parsed. */
export function jsonInput(resource: PlannedResource, key: string): PlainRecord {
  const value = resource.inputs[key];
  if (typeof value !== "string") throw new Error(`${resource.name}.${key} is not a JSON string`);
  return JSON.parse(value) as PlainRecord;
}

/** A string output of a stack. */
export function output(plan: StackPlan, key: string): string {
  const value = plan.outputs[key];
  if (typeof value !== "string") throw new Error(`${plan.stack} has no string output ${key}`);
  return value;
}

/** Logical-name prefix of the S3 Batch Operations resources (lib/batch-operations.ts). */
export const batchOperationsPrefix = "pipeline-batch-";

/**
 * `only`, leaving out the S3 Batch Operations job's role, policy and report bucket (tested on
 * their own in test/program/batch-operations.test.ts): the one data bucket, the one
 * replication role, ... of a stack.
 */
export function onlyPipeline(plan: StackPlan, type: string): PlannedResource {
  return only(
    { ...plan, resources: plan.resources.filter((r) => !r.name.startsWith(batchOperationsPrefix)) },
    type,
  );
}
