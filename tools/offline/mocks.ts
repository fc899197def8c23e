/**
 * The one Pulumi mocks implementation (tests and the offline plan both use it). Resources get ids
 * and ARNs formed the way AWS forms them; stack references resolve to given stack outputs; every
 * registration is recorded with its resolved inputs.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { partitionOf } from "../../lib/accounts";

/** Plain values as they come out of the engine (resolved inputs and outputs). */
export type PlainRecord = Record<string, unknown>;

/** One registered resource (or read, for stack references). */
export interface PlannedResource {
  /** URN as the engine forms it (`urn:pulumi:stack::project::parent$type::name`). */
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** The parent's URN; the stack's for top-level resources. */
  readonly parent?: string | undefined;
  /** Custom (provider-managed) resource, as opposed to a component. */
  readonly custom: boolean;
  /** True when the resource class has a `tagsAll` property (AWS taggable resource). */
  readonly taggable: boolean;
  /** URNs of the resources named in `dependsOn` (explicit dependencies only). */
  readonly dependsOn: readonly string[];
  /**
   * The `deleteBeforeReplace` resource option, present only when the program sets it (the engine
   * then uses it instead of the provider's choice, which deletes a named resource first).
   */
  readonly deleteBeforeReplace?: boolean;
  /** Inputs, fully resolved. */
  readonly inputs: PlainRecord;
  /** Physical id the mock assigned (undefined for components). */
  readonly id: string | undefined;
  /** State the mock returned (inputs plus computed attributes). */
  readonly state: PlainRecord;
}

/** One provider function call (`aws.getCallerIdentity`, ...). */
export interface PlannedCall {
  readonly token: string;
  readonly inputs: PlainRecord;
}

export interface CreateMocksArgs {
  readonly project: string;
  readonly stack: string;
  readonly accountId?: string;
  readonly region: string;
  readonly partition?: string;
  /** Outputs of other stacks, keyed by stack name (`dev`) or full name (`org/project/dev`). */
  readonly stackOutputs?: Readonly<Record<string, PlainRecord>>;
}

export interface OfflineMocks {
  readonly mocks: pulumi.runtime.Mocks;
  /**
   * A stack transformation recording URNs, parents and taggability; register it with
   * `pulumi.runtime.registerStackTransformation` before the program runs.
   */
  readonly transformation: pulumi.ResourceTransformation;
  /** The URN of the root stack resource. */
  readonly stackUrn: string;
  /** Every registration so far, in registration order. */
  resources(): PlannedResource[];
  /** Every provider function call so far. */
  calls(): PlannedCall[];
}

/** The default account id of offline runs. */
export const offlineAccountId = "123456789012";

const stackReferenceType = "pulumi:pulumi:StackReference";
const stackType = "pulumi:pulumi:Stack";

function hash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A deterministic uuid-shaped id. */
function uuid(seed: string): string {
  const h = hash(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

interface Context {
  readonly stack: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
}

/** Forms id and computed attributes of a custom resource as AWS would. */
function awsState(
  type: string,
  name: string,
  inputs: PlainRecord,
  ctx: Context,
): { id: string; computed: PlainRecord } {
  const { accountId, region, partition } = ctx;
  const arn = (service: string, resource: string, withRegion = true, withAccount = true): string =>
    `arn:${partition}:${service}:${withRegion ? region : ""}:${withAccount ? accountId : ""}:${resource}`;
  // Pulumi auto-names a resource `<logical name>-<7 random hex>` when no physical name is given,
  // so the same logical name gets a different physical name in every stack.
  const seed = `${ctx.stack}::${type}::${name}`;
  const physical = asString(inputs.name) ?? `${name}-${hash(seed, 7)}`;
  const tagsAll = inputs.tags === undefined ? {} : { tagsAll: inputs.tags };

  switch (type) {
    case "aws:s3/bucket:Bucket": {
      const bucket = asString(inputs.bucket) ?? physical.toLowerCase();
      return {
        id: bucket,
        computed: {
          bucket,
          arn: `arn:${partition}:s3:::${bucket}`,
          bucketDomainName: `${bucket}.s3.amazonaws.com`,
          bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
          region,
          ...tagsAll,
        },
      };
    }
    case "aws:dynamodb/table:Table": {
      const tableArn = arn("dynamodb", `table/${physical}`);
      const stream =
        inputs.streamEnabled === true
          ? {
              streamArn: `${tableArn}/stream/2026-01-01T00:00:00.000`,
              streamLabel: "2026-01-01T00:00:00.000",
            }
          : {};
      return { id: physical, computed: { name: physical, arn: tableArn, ...stream, ...tagsAll } };
    }
    case "aws:sns/topic:Topic": {
      const topicArn = arn("sns", physical);
      return { id: topicArn, computed: { name: physical, arn: topicArn, ...tagsAll } };
    }
    case "aws:sqs/queue:Queue": {
      const url = `https://sqs.${region}.amazonaws.com/${accountId}/${physical}`;
      return { id: url, computed: { name: physical, url, arn: arn("sqs", physical), ...tagsAll } };
    }
    case "aws:lambda/function:Function": {
      const fnArn = arn("lambda", `function:${physical}`);
      return {
        id: physical,
        computed: {
          name: physical,
          arn: fnArn,
          qualifiedArn: `${fnArn}:$LATEST`,
          invokeArn: `arn:${partition}:apigateway:${region}:lambda:path/2015-03-31/functions/${fnArn}/invocations`,
          version: "$LATEST",
          ...tagsAll,
        },
      };
    }
    case "aws:lambda/eventSourceMapping:EventSourceMapping": {
      const id = uuid(seed);
      return {
        id,
        computed: { uuid: id, arn: arn("lambda", `event-source-mapping:${id}`), ...tagsAll },
      };
    }
    case "aws:cloudwatch/eventRule:EventRule": {
      const bus = asString(inputs.eventBusName);
      const ruleArn = arn(
        "events",
        bus === undefined ? `rule/${physical}` : `rule/${bus}/${physical}`,
      );
      return { id: physical, computed: { name: physical, arn: ruleArn, ...tagsAll } };
    }
    case "aws:cloudwatch/logGroup:LogGroup":
      return {
        id: physical,
        computed: { name: physical, arn: arn("logs", `log-group:${physical}`), ...tagsAll },
      };
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return {
        id: physical,
        computed: { name: physical, arn: arn("cloudwatch", `alarm:${physical}`), ...tagsAll },
      };
    case "aws:cloudwatch/dashboard:Dashboard": {
      // Dashboards are global: no region in the ARN; the id is the name.
      const dashboardName = asString(inputs.dashboardName) ?? physical;
      return {
        id: dashboardName,
        computed: {
          dashboardName,
          dashboardArn: arn("cloudwatch", `dashboard/${dashboardName}`, false),
        },
      };
    }
    case "aws:sns/topicSubscription:TopicSubscription": {
      // The id is the subscription ARN: the topic's ARN and a uuid.
      const subscriptionArn = `${asString(inputs.topic) ?? arn("sns", physical)}:${uuid(seed)}`;
      return { id: subscriptionArn, computed: { arn: subscriptionArn } };
    }
    case "aws:iam/role:Role":
      return {
        id: physical,
        computed: {
          name: physical,
          arn: arn("iam", `role/${physical}`, false),
          uniqueId: `AROA${hash(physical, 17).toUpperCase()}`,
          ...tagsAll,
        },
      };
    case "aws:iam/policy:Policy":
      return {
        id: arn("iam", `policy/${physical}`, false),
        computed: { name: physical, arn: arn("iam", `policy/${physical}`, false), ...tagsAll },
      };
    case "aws:kms/key:Key": {
      const keyId = uuid(seed);
      return { id: keyId, computed: { keyId, arn: arn("kms", `key/${keyId}`), ...tagsAll } };
    }
    case "aws:secretsmanager/secret:Secret": {
      // Secrets Manager appends six random characters to the name in the ARN.
      const secretArn = arn("secretsmanager", `secret:${physical}-${hash(seed, 6)}`);
      return { id: secretArn, computed: { name: physical, arn: secretArn, ...tagsAll } };
    }
    case "random:index/randomPassword:RandomPassword":
      return { id: "none", computed: { result: hash(`${seed}::value`, 64) } };
    case "aws:kms/alias:Alias":
      return { id: physical, computed: { name: physical, arn: arn("kms", physical) } };
    default:
      return { id: `${physical}-id`, computed: tagsAll };
  }
}

function lookupStackOutputs(
  stackOutputs: Readonly<Record<string, PlainRecord>>,
  fullName: string,
): PlainRecord | undefined {
  const short = fullName.split("/").pop() ?? fullName;
  return stackOutputs[fullName] ?? stackOutputs[short];
}

interface Observed {
  readonly urn: string;
  readonly parent: string | undefined;
  readonly taggable: boolean;
  readonly dependsOn: readonly string[];
  readonly deleteBeforeReplace: boolean | undefined;
}

interface Registration {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: PlainRecord;
  readonly id: string | undefined;
  readonly state: PlainRecord;
}

/**
 * Creates mocks for one stack. Unknown resource types get `<name>-id` and their inputs as state;
 * unknown provider functions return `{}` (a throwing call mock would lose its message).
 */
export function createMocks(args: CreateMocksArgs): OfflineMocks {
  const ctx: Context = {
    stack: args.stack,
    accountId: args.accountId ?? offlineAccountId,
    region: args.region,
    partition: args.partition ?? "aws",
  };
  const stackOutputs = args.stackOutputs ?? {};
  const stackUrn = `urn:pulumi:${args.stack}::${args.project}::${stackType}::${args.project}-${args.stack}`;
  const registrations: Registration[] = [];
  const calls: PlannedCall[] = [];
  const observed = new Map<string, Observed[]>();
  const urns = new WeakMap<pulumi.Resource, string>();
  const qualifiedTypes = new Map<string, string>([[stackUrn, stackType]]);

  const mocks: pulumi.runtime.Mocks = {
    newResource(resource: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
      const inputs = resource.inputs as PlainRecord;
      const custom = resource.custom ?? true;
      let id: string | undefined;
      let state: PlainRecord;
      if (resource.type === stackReferenceType) {
        const fullName = asString(inputs.name) ?? resource.id ?? resource.name;
        const outputs = lookupStackOutputs(stackOutputs, fullName);
        if (outputs === undefined) {
          throw new Error(
            `Stack "${fullName}" has no outputs: deploy it before this stack (offline: pass its outputs)`,
          );
        }
        id = fullName;
        state = { name: fullName, outputs, secretOutputNames: [] };
      } else if (custom) {
        const formed = awsState(resource.type, resource.name, inputs, ctx);
        id = formed.id;
        state = { ...inputs, ...formed.computed };
      } else {
        state = { ...inputs };
      }
      registrations.push({ type: resource.type, name: resource.name, custom, inputs, id, state });
      return { id, state };
    },
    call(call: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
      calls.push({ token: call.token, inputs: call.inputs as PlainRecord });
      switch (call.token) {
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return {
            id: ctx.accountId,
            accountId: ctx.accountId,
            arn: `arn:${ctx.partition}:iam::${ctx.accountId}:user/offline`,
            userId: "AIDAOFFLINE",
          };
        case "aws:index/getRegion:getRegion":
          return {
            id: ctx.region,
            name: ctx.region,
            region: ctx.region,
            endpoint: `ec2.${ctx.region}.amazonaws.com`,
          };
        case "aws:index/getPartition:getPartition":
          return {
            id: ctx.partition,
            partition: ctx.partition,
            dnsSuffix: partitionOf(ctx.region).dnsSuffix,
            reverseDnsPrefix: "com.amazonaws",
          };
        default:
          return {};
      }
    },
  };

  const transformation: pulumi.ResourceTransformation = (t) => {
    const parentResource = t.opts.parent;
    const parent = parentResource === undefined ? stackUrn : (urns.get(parentResource) ?? stackUrn);
    const parentType = qualifiedTypes.get(parent) ?? stackType;
    // Children of the stack carry their own type only, as the engine forms URNs.
    const qualifiedType = parentType === stackType ? t.type : `${parentType}$${t.type}`;
    const urn = `urn:pulumi:${args.stack}::${args.project}::${qualifiedType}::${t.name}`;
    urns.set(t.resource, urn);
    qualifiedTypes.set(urn, qualifiedType);
    const key = `${t.type}::${t.name}`;
    const list = observed.get(key) ?? [];
    // Resources registered earlier, named in dependsOn directly or in a plain list.
    const declared: unknown = t.opts.dependsOn;
    const dependsOn = (Array.isArray(declared) ? (declared as unknown[]) : [declared]).flatMap(
      (dependency) => {
        const known =
          typeof dependency === "object" && dependency !== null
            ? urns.get(dependency as pulumi.Resource)
            : undefined;
        return known === undefined ? [] : [known];
      },
    );
    // A custom resource's option (ResourceOptions does not declare it).
    const replace = "deleteBeforeReplace" in t.opts ? t.opts.deleteBeforeReplace : undefined;
    list.push({
      urn,
      parent,
      taggable: "tagsAll" in t.props,
      dependsOn,
      deleteBeforeReplace: typeof replace === "boolean" ? replace : undefined,
    });
    observed.set(key, list);
    return undefined;
  };

  const resources = (): PlannedResource[] => {
    const taken = new Map<string, number>();
    return registrations.map((r) => {
      const key = `${r.type}::${r.name}`;
      const index = taken.get(key) ?? 0;
      taken.set(key, index + 1);
      const seen = observed.get(key)?.[index];
      return {
        urn: seen?.urn ?? `urn:pulumi:${args.stack}::${args.project}::${r.type}::${r.name}`,
        type: r.type,
        name: r.name,
        parent: seen?.parent,
        custom: r.custom,
        taggable: seen?.taggable ?? false,
        dependsOn: seen?.dependsOn ?? [],
        ...(seen?.deleteBeforeReplace === undefined
          ? {}
          : { deleteBeforeReplace: seen.deleteBeforeReplace }),
        inputs: r.inputs,
        id: r.id,
        state: r.state,
      };
    });
  };

  return { mocks, transformation, stackUrn, resources, calls: () => [...calls] };
}
