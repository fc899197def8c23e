// Adapts the plain rules of rule-set.ts to @pulumi/policy policies, all mandatory.
import type {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { RESOURCE_RULES, STACK_RULES } from "./rule-set";
import type { PlannedResource, ResourceRule, StackRule } from "./types";

/** The engine's view of a resource, reduced to what the stack rules read (props stay lazy). */
export function toPlannedResource(resource: PolicyResource): PlannedResource {
  const propertyDependencies: Record<string, string[]> = {};
  for (const [key, dependencies] of Object.entries(resource.propertyDependencies)) {
    propertyDependencies[key] = dependencies.map((dependency) => dependency.urn);
  }
  return {
    urn: resource.urn,
    type: resource.type,
    name: resource.name,
    props: resource.props,
    propertyDependencies,
  };
}

export function resourcePolicy(rule: ResourceRule): ResourceValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
      for (const message of rule.validate(args.type, args.props)) reportViolation(message);
    },
  };
}

export function stackPolicy(rule: StackRule): StackValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
      for (const finding of rule.validate(args.resources.map(toPlannedResource))) {
        reportViolation(finding.message, finding.urn);
      }
    },
  };
}

/** The pack's policies: one per rule. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  ...RESOURCE_RULES.map(resourcePolicy),
  ...STACK_RULES.map(stackPolicy),
];
