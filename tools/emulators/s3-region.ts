/**
 * One region's S3 endpoint in front of the one S3 emulator every region shares. S3 bucket names
 * are one namespace, but each bucket lives in one region and must be addressed through that
 * region's endpoint: a request for a bucket of another region is answered "301 Moved
 * Permanently", error code PermanentRedirect, with the bucket's region in `x-amz-bucket-region`
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html). A copy source may be a
 * bucket of any region: "Copy or move objects from one bucket to another, including across AWS
 * Regions" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/copy-object.html), which one
 * shared emulator serves as S3 does. Path-style requests only (the emulators' clients use them).
 */
import { createServer, type Server } from "node:http";
import { closeServer, listenOnLoopback, relay } from "./http-relay";

export interface S3RegionEndpoint {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** The bucket a path-style request names, if any. */
export function bucketOfPath(url: string): string | undefined {
  const path = url.split("?")[0] ?? "";
  const bucket = decodeURIComponent(path.replace(/^\//, "").split("/")[0] ?? "");
  return bucket === "" ? undefined : bucket;
}

export async function startS3RegionEndpoint(options: {
  readonly upstream: string;
  readonly region: string;
  /** The region of every bucket the emulator holds. */
  readonly bucketRegions: Readonly<Record<string, string>>;
}): Promise<S3RegionEndpoint> {
  const target = new URL(options.upstream);
  const server: Server = createServer((req, res) => {
    const bucket = bucketOfPath(req.url ?? "/");
    const home = bucket === undefined ? undefined : options.bucketRegions[bucket];
    if (bucket !== undefined && home !== undefined && home !== options.region) {
      const body =
        req.method === "HEAD"
          ? ""
          : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect</Code>` +
            `<Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message>` +
            `<Bucket>${bucket}</Bucket><Endpoint>s3.${home}.amazonaws.com</Endpoint><RequestId>REGION</RequestId></Error>`;
      req.resume();
      res.writeHead(301, {
        "content-type": "application/xml",
        "content-length": Buffer.byteLength(body),
        "x-amz-bucket-region": home,
      });
      res.end(body);
      return;
    }
    relay(target, req, res);
  });
  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    stop: () => closeServer(server),
  };
}
