// The policy pack as `pulumi preview --policy-pack policy` runs it: @pulumi/pulumi's
// run-policy-pack, resolved from policy/ (so from the repo root's node_modules), started in
// policy/, type-checking and loading policy/index.ts, then serving the analyzer over gRPC on
// loopback. The test talks to it as the engine would.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import {
  AnalyzeRequest,
  AnalyzeResponse,
  AnalyzerPropertyDependencies,
  AnalyzerResource,
  AnalyzerResourceOptions,
  AnalyzeStackRequest,
  EnforcementLevel,
} from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import { RESOURCE_RULES, STACK_RULES } from "../../policy/rule-set";
import { TYPES } from "../../policy/baseline";

const policyDir = path.resolve(__dirname, "..", "..", "policy");

let pack: ChildProcessWithoutNullStreams;
let client: AnalyzerClient;

/** Starts the pack the way the Pulumi CLI does and resolves with the port it prints. */
function startPack(): Promise<number> {
  const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [policyDir] });
  pack = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: policyDir });
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    pack.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const port = /^(\d+)\s*$/m.exec(stdout)?.[1];
      if (port !== undefined) resolve(Number(port));
    });
    pack.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    pack.on("exit", (code) => {
      reject(new Error(`policy pack exited with ${String(code)}: ${stderr}${stdout}`));
    });
  });
}

const urnOf = (type: string, name: string): string =>
  `urn:pulumi:dev::data-pipeline::${type}::${name}`;

function options(): AnalyzerResourceOptions {
  return new AnalyzerResourceOptions().setCustomtimeouts(
    new AnalyzerResourceOptions.CustomTimeouts(),
  );
}

function analyze(type: string, name: string, props: Record<string, JavaScriptValue>) {
  const request = new AnalyzeRequest()
    .setType(type)
    .setName(name)
    .setUrn(urnOf(type, name))
    .setProperties(Struct.fromJavaScript(props))
    .setOptions(options());
  return new Promise<AnalyzeResponse>((resolve, reject) => {
    client.analyze(request, (error, response) => {
      if (error === null) resolve(response);
      else reject(error);
    });
  });
}

function stackResource(
  type: string,
  name: string,
  props: Record<string, JavaScriptValue>,
  bucketDependency?: string,
): AnalyzerResource {
  const resource = new AnalyzerResource()
    .setType(type)
    .setName(name)
    .setUrn(urnOf(type, name))
    .setProperties(Struct.fromJavaScript(props))
    .setOptions(options());
  if (bucketDependency !== undefined) {
    resource
      .getPropertydependenciesMap()
      .set("bucket", new AnalyzerPropertyDependencies().setUrnsList([bucketDependency]));
  }
  return resource;
}

function diagnosticsOf(response: AnalyzeResponse): [string, string, EnforcementLevel, string][] {
  return response
    .getDiagnosticsList()
    .map((d) => [d.getPolicyname(), d.getMessage(), d.getEnforcementlevel(), d.getUrn()]);
}

beforeAll(async () => {
  const port = await startPack();
  client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(() => {
  client.close();
  pack.kill();
});

describe("the policy pack, served as the Pulumi CLI runs it", () => {
  it("serves every rule as a mandatory policy, under the pack's name and version", async () => {
    const info = await new Promise<{ name: string; version: string; policies: string[][] }>(
      (resolve, reject) => {
        client.getAnalyzerInfo(new Empty(), (error, response) => {
          if (error !== null) {
            reject(error);
            return;
          }
          resolve({
            name: response.getName(),
            version: response.getVersion(),
            policies: response
              .getPoliciesList()
              .map((p) => [p.getName(), String(p.getEnforcementlevel())]),
          });
        });
      },
    );

    expect(info.name).toBe("data-pipeline-baseline");
    expect(info.version).toBe("0.1.0");
    expect(info.policies).toEqual(
      [...RESOURCE_RULES, ...STACK_RULES].map((r) => [r.name, String(EnforcementLevel.MANDATORY)]),
    );
  });

  it("reports a bad resource as a mandatory violation and passes a good one", async () => {
    const flags = {
      bucket: "data",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    };

    const bad = await analyze(TYPES.bucketPublicAccessBlock, "pab", {
      ...flags,
      blockPublicPolicy: false,
    });
    const good = await analyze(TYPES.bucketPublicAccessBlock, "pab", flags);

    expect(diagnosticsOf(bad)).toEqual([
      [
        "s3-public-access-blocked",
        expect.stringContaining("blockPublicPolicy = false (must be true)") as string,
        EnforcementLevel.MANDATORY,
        "",
      ],
    ]);
    expect(diagnosticsOf(good)).toEqual([]);
  });

  it("links a bucket's companions by the engine's property dependencies", async () => {
    const bucketUrn = urnOf(TYPES.bucket, "bucket");
    const request = new AnalyzeStackRequest().setResourcesList([
      stackResource(TYPES.bucket, "bucket", { bucket: "data", tags: {} }),
      stackResource(TYPES.bucketVersioning, "versioning", {}, bucketUrn),
    ]);

    const response = await new Promise<AnalyzeResponse>((resolve, reject) => {
      client.analyzeStack(request, (error, result) => {
        if (error === null) resolve(result);
        else reject(error);
      });
    });

    expect(diagnosticsOf(response)).toEqual([
      [
        "s3-bucket-baseline-attached",
        expect.stringContaining(
          'bucket "data" has no BucketPublicAccessBlock, BucketPolicy, BucketLifecycleConfiguration, BucketServerSideEncryptionConfiguration',
        ) as string,
        EnforcementLevel.MANDATORY,
        bucketUrn,
      ],
    ]);
  });
});
