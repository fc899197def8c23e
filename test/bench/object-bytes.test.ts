/**
 * The object byte meter (tools/bench/object-bytes.ts): which bodies carry object data, and the
 * proxy counting them between a client and an HTTP server.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { objectBodyOf, startObjectByteMeter } from "../../tools/bench/object-bytes";

describe("objectBodyOf", () => {
  const copy: IncomingHttpHeaders = { "x-amz-copy-source": "source/key" };

  it.each([
    ["GetObject", "GET", "/bucket/a/key.bin?x-id=GetObject", {}, "response"],
    ["GetObject of a version", "GET", "/bucket/key?versionId=3&x-id=GetObject", {}, "response"],
    [
      "GetObject with response headers",
      "GET",
      "/bucket/key?response-content-type=a%2Fb",
      {},
      "response",
    ],
    ["PutObject", "PUT", "/bucket/key?x-id=PutObject", {}, "request"],
    ["UploadPart", "PUT", "/bucket/key?partNumber=2&uploadId=u&x-id=UploadPart", {}, "request"],
    ["CopyObject", "PUT", "/bucket/key?x-id=CopyObject", copy, undefined],
    [
      "UploadPartCopy",
      "PUT",
      "/bucket/key?partNumber=1&uploadId=u&x-id=UploadPartCopy",
      copy,
      undefined,
    ],
    ["HeadObject", "HEAD", "/bucket/key", {}, undefined],
    ["GetObjectTagging", "GET", "/bucket/key?tagging&x-id=GetObjectTagging", {}, undefined],
    ["PutObjectTagging", "PUT", "/bucket/key?tagging&x-id=PutObjectTagging", {}, undefined],
    [
      "CreateMultipartUpload",
      "POST",
      "/bucket/key?uploads&x-id=CreateMultipartUpload",
      {},
      undefined,
    ],
    ["ListObjectsV2", "GET", "/bucket?list-type=2&prefix=a%2F", {}, undefined],
    ["CreateBucket", "PUT", "/bucket", {}, undefined],
    ["DeleteObject", "DELETE", "/bucket/key?x-id=DeleteObject", {}, undefined],
  ] as const)("%s: %s %s", (_name, method, url, headers, wanted) => {
    expect(objectBodyOf(method, url, headers)).toBe(wanted);
  });
});

describe("startObjectByteMeter", () => {
  let upstream: Server;
  let upstreamUrl: string;
  const received: string[] = [];
  beforeAll(async () => {
    // Answers a GET with 1,000 bytes and anything else with a short XML body, echoing nothing.
    upstream = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        received.push(`${req.method ?? ""} ${req.url ?? ""} ${body.length}`);
        const answer =
          req.method === "GET" && !(req.url ?? "").includes("tagging")
            ? "x".repeat(1000)
            : "<Result/>";
        res.writeHead(200, { "content-length": req.method === "HEAD" ? 0 : answer.length });
        res.end(req.method === "HEAD" ? undefined : answer);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) =>
      upstream.close(() => {
        resolve();
      }),
    );
  });

  function send(
    endpoint: string,
    method: string,
    path: string,
    body = "",
    headers: Record<string, string> = {},
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(`${endpoint}${path}`, { method, headers }, (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => {
          resolve(text);
        });
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  it("forwards every request and answer, counting object bodies apart from other bodies", async () => {
    const meter = await startObjectByteMeter(upstreamUrl);
    try {
      await expect(send(meter.endpoint, "GET", "/b/k?x-id=GetObject")).resolves.toHaveLength(1000);
      await send(meter.endpoint, "PUT", "/b/k?x-id=PutObject", "y".repeat(300));
      expect(received.at(-1)).toBe("PUT /b/k?x-id=PutObject 300");
      expect(meter.objectBytes()).toBe(1300);
      expect(meter.otherBodyBytes()).toBe("<Result/>".length);

      meter.reset();
      await send(meter.endpoint, "PUT", "/b/k2?x-id=CopyObject", "", {
        "x-amz-copy-source": "b/k",
      });
      await send(meter.endpoint, "HEAD", "/b/k");
      await expect(send(meter.endpoint, "GET", "/b/k?tagging")).resolves.toBe("<Result/>");
      expect(meter.objectBytes()).toBe(0);
      expect(meter.otherBodyBytes()).toBe(2 * "<Result/>".length);
      expect(received.slice(-3)).toEqual([
        "PUT /b/k2?x-id=CopyObject 0",
        "HEAD /b/k 0",
        "GET /b/k?tagging 0",
      ]);
    } finally {
      await meter.close();
    }
  });
});
