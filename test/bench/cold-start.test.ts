/**
 * The cold-start part's pieces (tools/bench/cold-start.ts): the anchor's entry, which packages a
 * bundle carries, its report of one cold load, the alternating order of the loads, and the
 * Node.js each load runs on (the function runtime's).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import {
  ANCHOR_CLIENTS,
  OWN_CODE,
  alternateColdLoads,
  anchorEntrySource,
  bundleInputs,
  bytesBeyond,
  bytesByPackage,
  coldLoad,
  packageOf,
  parseColdLoad,
  sdkClientPackages,
  type ColdLoad,
} from "../../tools/bench/cold-start";
import { tmpdir } from "node:os";
import { lambdaRuntime, replicationEntry, runtimeNodeMajor } from "../../lib/bundle";

describe("anchorEntrySource", () => {
  it("imports and constructs each client, and nothing else", () => {
    const source = anchorEntrySource(ANCHOR_CLIENTS);
    const code = source.split("\n").filter((line) => line !== "" && !line.startsWith("//"));

    expect(code).toEqual([
      'import { S3Client } from "@aws-sdk/client-s3";',
      'import { DynamoDBClient } from "@aws-sdk/client-dynamodb";',
      'import { SQSClient } from "@aws-sdk/client-sqs";',
      'import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";',
      "export const clients = [",
      "  new S3Client({}),",
      "  new DynamoDBClient({}),",
      "  new SQSClient({}),",
      "  new SecretsManagerClient({}),",
      "];",
    ]);
    expect(() => anchorEntrySource([])).toThrow(/at least one client/);
  });

  it("names the clients the function's bundle holds: the same SDK client packages", () => {
    // In the repository (build/ is ignored, and absent from a fresh clone), so that its imports
    // resolve from node_modules.
    const build = path.join(__dirname, "..", "..", "build");
    mkdirSync(build, { recursive: true });
    const dir = mkdtempSync(path.join(build, "anchor-test-"));
    try {
      const entry = path.join(dir, "anchor-entry.ts");
      writeFileSync(entry, anchorEntrySource(ANCHOR_CLIENTS));
      const anchorInputs = Object.keys(bundleInputs(entry));
      const functionInputs = Object.keys(bundleInputs(replicationEntry));

      const wanted = ANCHOR_CLIENTS.map((client) => client.module).sort();
      expect(sdkClientPackages(anchorInputs)).toEqual(wanted);
      expect(sdkClientPackages(functionInputs)).toEqual(wanted);
      // The anchor holds no code of the function's own.
      expect(anchorInputs.filter((input) => input.startsWith("lib/"))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("packages of a bundle", () => {
  it("attributes each input file to its innermost node_modules package, or to own code", () => {
    expect(packageOf("node_modules/zod/v4/core/core.js")).toBe("zod");
    expect(packageOf("node_modules/@aws-sdk/client-s3/dist-es/S3Client.js")).toBe(
      "@aws-sdk/client-s3",
    );
    expect(
      packageOf(
        "node_modules/@aws-lambda-powertools/batch/node_modules/@aws-lambda-powertools/commons/lib/esm/index.js",
      ),
    ).toBe("@aws-lambda-powertools/commons");
    expect(packageOf("lib/replication/handler.ts")).toBe(OWN_CODE);
  });

  it("lists the SDK clients, sums bytes per package and what a bundle holds beyond another", () => {
    const inputs = {
      "node_modules/@aws-sdk/client-sqs/dist-es/SQSClient.js": { bytesInOutput: 100 },
      "node_modules/@aws-sdk/client-s3/dist-es/S3Client.js": { bytesInOutput: 300 },
      "node_modules/@aws-sdk/client-s3/dist-es/commands/CopyObjectCommand.js": {
        bytesInOutput: 50,
      },
      "node_modules/@aws-sdk/core/dist-es/index.js": { bytesInOutput: 70 },
      "node_modules/zod/v4/core/core.js": { bytesInOutput: 40 },
      "lib/replication/handler.ts": { bytesInOutput: 20 },
    };
    expect(sdkClientPackages(Object.keys(inputs))).toEqual([
      "@aws-sdk/client-s3",
      "@aws-sdk/client-sqs",
    ]);
    const bundle = bytesByPackage(inputs);
    expect(bundle.get("@aws-sdk/client-s3")).toBe(350);
    expect(bundle.get(OWN_CODE)).toBe(20);

    const anchor = new Map([
      ["@aws-sdk/client-s3", 300],
      ["@aws-sdk/client-sqs", 100],
      ["@aws-sdk/core", 80],
      [OWN_CODE, 5],
    ]);
    expect(bytesBeyond(bundle, anchor)).toEqual([
      { name: "@aws-sdk/client-s3", bytes: 50 },
      { name: "zod", bytes: 40 },
      { name: OWN_CODE, bytes: 15 },
    ]);
  });
});

describe("parseColdLoad", () => {
  it("reads the child's wall and CPU time, and refuses anything else", () => {
    expect(parseColdLoad('{"wallMs":61.5,"cpuMs":58.25}')).toEqual({ wallMs: 61.5, cpuMs: 58.25 });
    for (const bad of ["", "oops", '{"wallMs":"1","cpuMs":2}', '{"wallMs":0,"cpuMs":1}', "[1,2]"]) {
      expect(() => parseColdLoad(bad)).toThrow(/not a cold load measurement/);
    }
  });
});

describe("coldLoad", () => {
  it("imports the module in a fresh process of the function runtime's Node.js, with the given NODE_OPTIONS", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cold-load-"));
    try {
      // Fails the import (and so the load) on any other Node.js, or without the option.
      const probe = path.join(dir, "probe.mjs");
      writeFileSync(
        probe,
        [
          `if (process.versions.node.split(".")[0] !== "${runtimeNodeMajor(lambdaRuntime)}")`,
          "  throw new Error(`loaded on Node ${process.version}`);",
          'if (!process.execArgv.concat(process.env.NODE_OPTIONS ?? "").join(" ").includes("--enable-source-maps"))',
          '  throw new Error("loaded without NODE_OPTIONS");',
          "",
        ].join("\n"),
      );

      const load = coldLoad(probe, "--enable-source-maps");

      expect(load.wallMs).toBeGreaterThan(0);
      expect(() => coldLoad(probe)).toThrow(/Error: loaded without NODE_OPTIONS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("alternateColdLoads", () => {
  it("loads the cases in turn, round after round, after one unrecorded warm-up round", () => {
    const calls: string[] = [];
    let tick = 0;
    const load = (file: string, nodeOptions?: string): ColdLoad => {
      calls.push(`${file}${nodeOptions === undefined ? "" : ` ${nodeOptions}`}`);
      tick += 1;
      return { wallMs: tick, cpuMs: tick / 2 };
    };

    const samples = alternateColdLoads(
      [
        { name: "anchor", file: "a.mjs", nodeOptions: "--enable-source-maps" },
        { name: "bundle", file: "b.mjs" },
      ],
      2,
      load,
    );

    expect(calls).toEqual([
      "a.mjs --enable-source-maps",
      "b.mjs",
      "a.mjs --enable-source-maps",
      "b.mjs",
      "a.mjs --enable-source-maps",
      "b.mjs",
    ]);
    expect(samples.get("anchor")).toEqual([
      { wallMs: 3, cpuMs: 1.5 },
      { wallMs: 5, cpuMs: 2.5 },
    ]);
    expect(samples.get("bundle")?.map((sample) => sample.wallMs)).toEqual([4, 6]);
  });
});
