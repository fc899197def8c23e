// Shapes shared by every rule: a planned resource, a violation, and the two kinds of rule.
// Rules are plain functions over these shapes so that tests and the offline plan can call them
// without the policy engine; policy/policies.ts adapts them to @pulumi/policy.

/** Resource properties as the engine or an offline plan hands them over (inputs, fully resolved offline). */
export type Props = Readonly<Record<string, unknown>>;

/** One resource of a stack, as seen by the stack-level rules. */
export interface PlannedResource {
  /** The resource URN. */
  readonly urn: string;
  /** The Pulumi type token, e.g. `aws:s3/bucket:Bucket`. */
  readonly type: string;
  /** The logical name. */
  readonly name: string;
  /** Input properties (offline plan) or planned outputs (engine). */
  readonly props: Props;
  /** The provider id, when known (offline plans may add it; the engine does not pass it). */
  readonly id?: string;
  /**
   * URNs each input property depends on. Given by the engine during `pulumi preview`; absent in
   * offline plans, where references are matched by value instead.
   */
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

/** A rule that looks at one resource at a time. */
export interface ResourceRule {
  /** Unique policy name, kebab-case. */
  readonly name: string;
  /** One sentence: what must hold. */
  readonly description: string;
  /** Every violation message for one resource; empty when it complies or the rule does not apply. */
  readonly validate: (type: string, props: Props) => string[];
}

/** A violation a stack rule attributes to one resource. */
export interface StackFinding {
  readonly urn: string;
  readonly message: string;
}

/** A rule that needs to see several resources together (e.g. a bucket and its companions). */
export interface StackRule {
  readonly name: string;
  readonly description: string;
  readonly validate: (resources: readonly PlannedResource[]) => StackFinding[];
}

/** One violation, as collected by `checkResources`. */
export interface Violation {
  /** The rule that reported it. */
  readonly policy: string;
  /** The resource it is about. */
  readonly urn: string;
  readonly message: string;
}
