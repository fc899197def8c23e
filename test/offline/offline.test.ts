/**
 * tools/offline on its own: ids and ARNs the mocks form, provider calls, stack references, the
 * stack file reader, the fresh-require loader and the deep resolver; plus the pure helpers of the
 * replication plane.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  createMocks,
  loadProject,
  loadStackConfig,
  resolveDeep,
  type CreateMocksArgs,
} from "../../tools/offline";
import { replicationEventPatternJson } from "../../lib/delivery";
import { replicationEventPattern, targetOutputValue } from "../../lib/replication-plane";
import { standardTags } from "../../lib/tags";

const base: CreateMocksArgs = { project: "proj", stack: "dev", region: "eu-west-1" };

async function register(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  args: CreateMocksArgs = base,
) {
  const offline = createMocks(args);
  const result = await offline.mocks.newResource({ type, name, inputs, custom: true });
  return { result, offline };
}

describe("createMocks resources", () => {
  it.each([
    ["aws:s3/bucket:Bucket", { bucket: "b1" }, "b1", { arn: "arn:aws:s3:::b1" }],
    [
      "aws:dynamodb/table:Table",
      { name: "t1" },
      "t1",
      { arn: "arn:aws:dynamodb:eu-west-1:123456789012:table/t1" },
    ],
    [
      "aws:sns/topic:Topic",
      { name: "topic" },
      "arn:aws:sns:eu-west-1:123456789012:topic",
      { arn: "arn:aws:sns:eu-west-1:123456789012:topic" },
    ],
    [
      "aws:sqs/queue:Queue",
      { name: "q" },
      "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
      { arn: "arn:aws:sqs:eu-west-1:123456789012:q" },
    ],
    [
      "aws:lambda/function:Function",
      { name: "fn" },
      "fn",
      { arn: "arn:aws:lambda:eu-west-1:123456789012:function:fn", version: "$LATEST" },
    ],
    [
      "aws:cloudwatch/eventRule:EventRule",
      { name: "r", eventBusName: "bus" },
      "r",
      { arn: "arn:aws:events:eu-west-1:123456789012:rule/bus/r" },
    ],
    [
      "aws:cloudwatch/logGroup:LogGroup",
      { name: "/aws/lambda/fn" },
      "/aws/lambda/fn",
      { arn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/fn" },
    ],
    [
      "aws:cloudwatch/metricAlarm:MetricAlarm",
      { name: "a" },
      "a",
      { arn: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a" },
    ],
    ["aws:iam/role:Role", { name: "role" }, "role", { arn: "arn:aws:iam::123456789012:role/role" }],
    [
      "aws:iam/policy:Policy",
      { name: "p" },
      "arn:aws:iam::123456789012:policy/p",
      { arn: "arn:aws:iam::123456789012:policy/p" },
    ],
    [
      "aws:kms/alias:Alias",
      { name: "alias/k" },
      "alias/k",
      { arn: "arn:aws:kms:eu-west-1:123456789012:alias/k" },
    ],
    [
      "aws:cloudwatch/dashboard:Dashboard",
      { dashboardName: "d" },
      "d",
      { dashboardName: "d", dashboardArn: "arn:aws:cloudwatch::123456789012:dashboard/d" },
    ],
    [
      "aws:ec2/vpc:Vpc",
      { name: "v", cidrBlock: "10.0.0.0/16" },
      "v-id",
      { cidrBlock: "10.0.0.0/16" },
    ],
  ])("forms %s ids and ARNs as AWS does", async (type, inputs, id, state) => {
    const { result } = await register(type, "logical", inputs);

    expect(result.id).toBe(id);
    expect(result.state).toMatchObject(state);
  });

  it("auto-names deterministically and lowercases bucket names", async () => {
    const first = await register("aws:s3/bucket:Bucket", "My-Bucket", {});
    const second = await register("aws:s3/bucket:Bucket", "My-Bucket", {});

    expect(first.result.id).toMatch(/^my-bucket-[0-9a-f]{7}$/);
    expect(second.result.id).toBe(first.result.id);
  });

  it("forms uuid ids for keys and event source mappings, and a stream for streamed tables", async () => {
    const key = await register("aws:kms/key:Key", "k", {});
    const mapping = await register("aws:lambda/eventSourceMapping:EventSourceMapping", "m", {});
    const table = await register("aws:dynamodb/table:Table", "t", {
      name: "t",
      streamEnabled: true,
    });

    expect(key.result.state.arn).toMatch(/^arn:aws:kms:eu-west-1:123456789012:key\/[0-9a-f-]{36}$/);
    expect(mapping.result.state.arn).toMatch(/:event-source-mapping:[0-9a-f-]{36}$/);
    expect(table.result.state.streamArn).toMatch(/^arn:aws:dynamodb:.*:table\/t\/stream\//);
  });

  it("forms a subscription's id as its ARN: the topic's ARN and a uuid", async () => {
    const topic = "arn:aws:sns:eu-west-1:123456789012:alerts";
    const subscription = await register("aws:sns/topicSubscription:TopicSubscription", "s", {
      topic,
      protocol: "email",
      endpoint: "ops@example.com",
    });

    expect(subscription.result.id).toMatch(new RegExp(`^${topic}:[0-9a-f-]{36}$`));
    expect(subscription.result.state.arn).toBe(subscription.result.id);
  });

  it("auto-names a dashboard and a subscription without a name or topic", async () => {
    const dashboard = await register("aws:cloudwatch/dashboard:Dashboard", "d", {});
    const subscription = await register("aws:sns/topicSubscription:TopicSubscription", "s", {});

    expect(dashboard.result.id).toMatch(/^d-[0-9a-f]{7}$/);
    expect(subscription.result.id).toMatch(/^arn:aws:sns:eu-west-1:123456789012:s-[0-9a-f]{7}:/);
  });

  it("uses the given account and partition", async () => {
    const { result } = await register(
      "aws:iam/role:Role",
      "r",
      { name: "r" },
      { ...base, accountId: "999999999999", partition: "aws-cn" },
    );

    expect(result.state.arn).toBe("arn:aws-cn:iam::999999999999:role/r");
  });

  it("copies tags into tagsAll and registers components with their inputs as state", async () => {
    const offline = createMocks(base);
    const tagged = await offline.mocks.newResource({
      type: "aws:sqs/queue:Queue",
      name: "q",
      inputs: { tags: { A: "1" } },
      custom: true,
    });
    const component = await offline.mocks.newResource({
      type: "pkg:index:Thing",
      name: "c",
      inputs: { x: 1 },
      custom: false,
    });

    expect(tagged.state.tagsAll).toEqual({ A: "1" });
    expect(component).toEqual({ id: undefined, state: { x: 1 } });
    expect(offline.resources().map((r) => [r.urn, r.custom, r.taggable, r.parent])).toEqual([
      ["urn:pulumi:dev::proj::aws:sqs/queue:Queue::q", true, false, undefined],
      ["urn:pulumi:dev::proj::pkg:index:Thing::c", false, false, undefined],
    ]);
  });
});

describe("createMocks stack references and calls", () => {
  it("resolves a stack reference by full name or stack name", async () => {
    const offline = createMocks({
      ...base,
      stackOutputs: { "org/proj/prod": { a: 1 }, staging: { b: 2 } },
    });
    const full = await offline.mocks.newResource({
      type: "pulumi:pulumi:StackReference",
      name: "ref",
      inputs: { name: "org/proj/prod" },
      id: "org/proj/prod",
    });
    const short = await offline.mocks.newResource({
      type: "pulumi:pulumi:StackReference",
      name: "ref2",
      inputs: {},
      id: "org/proj/staging",
    });

    expect(full).toEqual({
      id: "org/proj/prod",
      state: { name: "org/proj/prod", outputs: { a: 1 }, secretOutputNames: [] },
    });
    expect(short.state.outputs).toEqual({ b: 2 });
  });

  it("fails a reference to a stack without outputs with a clear message", () => {
    const offline = createMocks(base);

    expect(() =>
      offline.mocks.newResource({ type: "pulumi:pulumi:StackReference", name: "dev", inputs: {} }),
    ).toThrow('Stack "dev" has no outputs: deploy it before this stack');
  });

  it("answers caller identity, region and partition, and {} for anything else", async () => {
    const offline = createMocks({ ...base, accountId: "111122223333" });
    const call = (token: string) => offline.mocks.call({ token, inputs: {} });

    expect(await call("aws:index/getCallerIdentity:getCallerIdentity")).toMatchObject({
      accountId: "111122223333",
    });
    expect(await call("aws:index/getRegion:getRegion")).toMatchObject({
      name: "eu-west-1",
      region: "eu-west-1",
    });
    expect(await call("aws:index/getPartition:getPartition")).toMatchObject({ partition: "aws" });
    expect(await call("aws:index/getAvailabilityZones:getAvailabilityZones")).toEqual({});
    expect(offline.calls().map((c) => c.token)).toHaveLength(4);
  });
});

describe("stack files", () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-"));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  };

  it("reads config as the CLI hands it over: namespaced keys, strings, JSON", () => {
    write("Pulumi.yaml", "name: demo\nruntime: nodejs\nmain: src/\n");
    write("src/index.ts", "");
    write(
      "Pulumi.dev.yaml",
      "config:\n  aws:region: eu-west-1\n  size: 3\n  demo:list:\n    - a\n  demo:flag: true\n",
    );

    const file = loadStackConfig("dev", dir);

    expect(file.project).toEqual({
      name: "demo",
      main: path.join(dir, "src", "index.ts"),
      runtime: "nodejs",
    });
    expect(file.values).toEqual({
      "aws:region": "eu-west-1",
      "demo:size": "3",
      "demo:list": '["a"]',
      "demo:flag": "true",
    });
  });

  it("defaults main to the project directory's index.ts and tolerates a stack without config", () => {
    write("Pulumi.yaml", "name: demo\nruntime:\n  name: nodejs\n");
    write("index.ts", "");
    write("Pulumi.empty.yaml", "");

    expect(loadProject(dir).main).toBe(path.join(dir, "index.ts"));
    expect(loadStackConfig("empty", dir).values).toEqual({});
  });

  it("rejects a missing stack file, a nameless project and secrets", () => {
    write("Pulumi.yaml", "name: demo\n");
    write("Pulumi.sec.yaml", "config:\n  demo:token:\n    secure: AAAA\n");

    expect(() => loadStackConfig("nope", dir)).toThrow(/Stack file for stack "nope" not found/);
    expect(() => loadStackConfig("sec", dir)).toThrow(
      /demo:token is a secret; offline runs cannot decrypt secrets/,
    );
    write("Pulumi.yaml", "runtime: nodejs\n");
    expect(() => loadProject(dir)).toThrow(/Pulumi.yaml has no project name/);
    fs.rmSync(path.join(dir, "Pulumi.yaml"));
    expect(() => loadProject(dir)).toThrow(/Pulumi project file not found/);
  });

  // requireFresh (the default loader outside jest) is exercised in a tsx child process by
  // failures-and-variants.test.ts: under jest, Node's require is jest's, whose cache a loader
  // cannot clear.
});

describe("resolveDeep", () => {
  it("resolves promises nested in arrays and objects into plain data", async () => {
    const value = { a: Promise.resolve([1, Promise.resolve({ b: "x" })]), c: null, d: "s" };

    expect(await resolveDeep(value)).toEqual({ a: [1, { b: "x" }], c: null, d: "s" });
  });
});

describe("replication plane helpers", () => {
  it("builds the event pattern with and without key prefixes", () => {
    expect(replicationEventPattern("b", [])).toEqual({
      source: ["aws.s3"],
      "detail-type": [
        "Object Created",
        "Object Deleted",
        "Object Tags Added",
        "Object Tags Deleted",
        "Object Restore Completed",
      ],
      detail: {
        bucket: { name: ["b"] },
        $or: [
          { reason: [{ "anything-but": ["Lifecycle Expiration"] }] },
          { reason: [{ exists: false }] },
        ],
      },
    });
    expect(replicationEventPattern("b", ["x/"])).toMatchObject({
      detail: { bucket: { name: ["b"] }, object: { key: [{ prefix: "x/" }] } },
    });
  });

  it("gives the pattern as the rule receives it, sized in characters (code points)", () => {
    const pattern = replicationEventPatternJson("b", ["é/"]);

    expect(JSON.parse(pattern.json)).toEqual(replicationEventPattern("b", ["é/"]));
    expect(pattern.characters).toBe(pattern.json.length);
    expect(replicationEventPatternJson("b", ["😀/"]).characters).toBe(pattern.characters);
    expect(replicationEventPatternJson("b", ["😀/"]).json.length).toBe(pattern.json.length + 1);
  });

  it("accepts only non-empty strings from target stacks", () => {
    expect(targetOutputValue("name", "o/p/dev", "bucketName")).toBe("name");
    expect(() => targetOutputValue("", "o/p/dev", "bucketName")).toThrow(
      'Stack "o/p/dev" output "bucketName" is not a non-empty string',
    );
    expect(() => targetOutputValue(42, "o/p/dev", "tableName")).toThrow(/"tableName"/);
  });

  it("defaults extra tags to none", () => {
    expect(standardTags("dev", "p")).toEqual({
      Environment: "dev",
      Project: "p",
      ManagedBy: "pulumi",
    });
  });
});
