/**
 * Replication function entry (bundled as index.mjs, export `handler`). Reads the environment
 * contract once at load (failing with one message naming each missing or malformed variable),
 * creates the SDK clients and the metrics once per execution environment, and hands every
 * invocation to the invocation handler: S3 events from EventBridge and DynamoDB stream batches.
 */
import type { Context } from "aws-lambda";
import { createClients } from "./clients";
import { readContract } from "./contract";
import { createInvocationHandler, type InvocationResult } from "./invocation";
import { logger } from "./logger";
import { createMetrics, withMetrics } from "./metrics";
import { createReplicator } from "./replicator";

const settings = readContract(process.env);
const clients = createClients(settings);
const invocations = createInvocationHandler({
  replicator: withMetrics(createReplicator(settings, clients), createMetrics(settings.serviceName)),
  sqs: clients.sqs,
  dlqUrl: settings.dlqUrl,
});

export const handler = async (event: unknown, context?: Context): Promise<InvocationResult> => {
  if (context) logger.addContext(context);
  return invocations.handle(event, context);
};
