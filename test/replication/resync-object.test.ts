/**
 * The resync of one object with the clients (lib/replication/resync.ts `resyncObjectWith`), with
 * mocked S3: the requests it sends per key. A target whose listing did not have the key gets the
 * copy without a HEAD of its replica, conditional on its absence (a replica written since loses
 * that race and is read); the source is read once per round and once to check a round that
 * wrote, for every target at once, and a source that moved on gets another round.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import type { ReplicationTarget } from "../../lib/replication/contract";
import { logger } from "../../lib/replication/logger";
import { readSourceObject } from "../../lib/replication/objects";
import { resyncObjectWith } from "../../lib/replication/resync";
import { settings } from "../support/settings";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
// The source and staging are in us-east-1, dev in eu-west-1: one client per region.
const home = new S3Client({ region: "us-east-1", credentials });
const away = new S3Client({ region: "eu-west-1", credentials });
const homeS3 = mockClient(home);
const devS3 = mockClient(away);
const clients = { s3: (region?: string) => (region === "eu-west-1" ? away : home) };
const [dev] = settings.targets as [ReplicationTarget, ReplicationTarget];
const KEY = "dir/a b+c.txt";

const notFound = (): S3ServiceException =>
  new S3ServiceException({
    name: "NotFound",
    message: "NotFound",
    $fault: "client",
    $metadata: { httpStatusCode: 404 },
  });
const preconditionFailed = (): S3ServiceException =>
  new S3ServiceException({
    name: "PreconditionFailed",
    message: "At least one of the pre-conditions you specified did not hold",
    $fault: "client",
    $metadata: { httpStatusCode: 412 },
  });

const head = (version: string) => ({
  ETag: '"abc"',
  ContentLength: 10,
  VersionId: version,
  LastModified: new Date("2026-11-28T12:00:00Z"),
  Metadata: { owner: "ada" },
  ContentType: "text/plain",
});

/** What a replica copied from `version` of the source says of itself. */
async function replicaOf(version: string) {
  const other = new S3Client({ region: "us-east-1", credentials });
  const mock = mockClient(other);
  mock.on(HeadObjectCommand).resolves(head(version));
  mock.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
  const read = await readSourceObject(other, "prod-bucket", KEY);
  return {
    ETag: '"abc"',
    Metadata: { owner: "ada", "replication-source": read?.fingerprint ?? "" },
  };
}

const run = (unlisted: readonly ReplicationTarget[]) =>
  resyncObjectWith(settings, clients, KEY, { targets: [dev], unlisted, eventId: "resync-1" });

beforeEach(() => {
  homeS3.reset();
  devS3.reset();
  logger.setLogLevel("SILENT");
  devS3.on(CopyObjectCommand).resolves({});
  devS3.on(DeleteObjectCommand).resolves({});
  homeS3.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
  devS3.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
});

describe("resyncObjectWith", () => {
  it("copies into a target that did not list the key without a HEAD of it, conditional on its absence, and checks the source once", async () => {
    homeS3.on(HeadObjectCommand).resolves(head("v1"));

    const [result] = await run([dev]);

    expect(result).toMatchObject({ ok: true, action: "copied" });
    expect(devS3).not.toHaveReceivedCommand(HeadObjectCommand);
    expect(devS3).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: "dev-bucket",
      Key: KEY,
      CopySourceIfMatch: '"abc"',
      IfNoneMatch: "*",
    });
    // The source's state, then the check after the write: no read of it per target.
    expect(homeS3).toHaveReceivedCommandTimes(HeadObjectCommand, 2);
  });

  it("reads the replica of a target that listed the key, and copies conditional on what it read", async () => {
    homeS3.on(HeadObjectCommand).resolves(head("v1"));
    devS3.on(HeadObjectCommand).resolves({ ETag: '"old"', Metadata: {} });

    const [result] = await run([]);

    expect(result).toMatchObject({ ok: true, action: "copied" });
    expect(devS3).toHaveReceivedCommandTimes(HeadObjectCommand, 1);
    expect(devS3).toHaveReceivedCommandWith(CopyObjectCommand, { IfMatch: '"old"' });
  });

  it("reads a replica written since the listing when the copy loses the race, and leaves it when it holds the source's state", async () => {
    const live = await replicaOf("v1");
    homeS3.on(HeadObjectCommand).resolves(head("v1"));
    devS3.on(CopyObjectCommand).rejects(preconditionFailed());
    devS3.on(HeadObjectCommand).resolves(live);

    const [result] = await run([dev]);

    expect(result).toMatchObject({ ok: true, action: "skipped" });
    expect(devS3).toHaveReceivedCommandTimes(CopyObjectCommand, 1);
    expect(devS3).toHaveReceivedCommandTimes(HeadObjectCommand, 1);
  });

  it("reads the replica of an unlisted target when the source no longer has the key", async () => {
    homeS3.on(HeadObjectCommand).rejects(notFound());
    devS3.on(HeadObjectCommand).resolves({ ETag: '"live"', Metadata: {} });

    const [result] = await run([dev]);

    expect(result).toMatchObject({ ok: true, action: "deleted" });
    expect(devS3).toHaveReceivedCommandWith(DeleteObjectCommand, { IfMatch: '"live"' });
  });

  it("copies again, after reading the replica, when the check finds the source moved on", async () => {
    const copied = await replicaOf("v1");
    homeS3
      .on(HeadObjectCommand)
      .resolvesOnce(head("v1"))
      .resolvesOnce(head("v2"))
      .resolves(head("v2"));
    devS3.on(HeadObjectCommand).resolves(copied);

    const [result] = await run([dev]);

    expect(result).toMatchObject({ ok: true, action: "copied" });
    expect(devS3).toHaveReceivedCommandTimes(CopyObjectCommand, 2);
    // The second round knows nothing from the listing any more: the replica changed.
    expect(devS3).toHaveReceivedCommandTimes(HeadObjectCommand, 1);
    expect(devS3).toHaveReceivedNthCommandWith(3, CopyObjectCommand, { IfMatch: '"abc"' });
    expect(homeS3).toHaveReceivedCommandTimes(HeadObjectCommand, 3);
  });
});
