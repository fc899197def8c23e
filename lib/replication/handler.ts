/**
 * Replication Lambda entry. Reads the environment contract once at load (failing with a clear
 * message naming each missing or malformed variable), builds the SDK clients, and hands every
 * event to the replicator: EventBridge S3 `Object Created` / `Object Deleted` events (throws
 * `ReplicationFailedError` after dead-lettering when a target failed, so the async-invoke
 * onSuccess destination fires only when every target succeeded) and DynamoDB stream batches
 * (returns `{ batchItemFailures }`).
 */
import type {
  Context,
  DynamoDBStreamEvent,
  S3ObjectCreatedNotificationEvent,
  S3ObjectDeletedNotificationEvent,
} from "aws-lambda";
import { createClients } from "./clients";
import { readContract } from "./contract";
import { logger } from "./logger";
import { createReplicator, type HandlerResult } from "./replicator";

const config = readContract(process.env);
const replicator = createReplicator(config, createClients(config));

export type ReplicationEvent =
  S3ObjectCreatedNotificationEvent | S3ObjectDeletedNotificationEvent | DynamoDBStreamEvent;

export const handler = async (
  event: ReplicationEvent,
  context?: Context,
): Promise<HandlerResult> => {
  if (context) logger.addContext(context);
  return replicator.handle(event);
};
