/**
 * Replication function entry (bundled as index.mjs, export `handler`). Reads the environment
 * contract once at load (failing with one message naming each missing or malformed variable),
 * creates the metrics once per execution environment and the SDK clients on first use (the SQS
 * client only when a dead letter is sent), and hands every invocation to the invocation handler:
 * S3 events from EventBridge and DynamoDB stream batches.
 */
import type { Context } from "aws-lambda";
import { createClients, retrySettings } from "./clients";
import { readContract } from "./contract";
import { createInvocationHandler, type InvocationResult } from "./invocation";
import { logger } from "./logger";
import { createMetrics } from "./metrics";
import { maskingOf, secretsReader } from "./masking-key";
import { createReplicator } from "./replicator";

const settings = readContract(process.env);
const clients = createClients(settings);
// The key is fetched on the first change that needs it, never at load.
const masking = maskingOf(settings, secretsReader(settings, retrySettings(settings)));
const invocations = createInvocationHandler({
  replicator: createReplicator(settings, clients, masking),
  ...(masking === undefined ? {} : { masking }),
  metrics: createMetrics(settings.serviceName),
  // Read when a dead letter is sent, never at load: most cold starts have none to send.
  get sqs() {
    return clients.sqs;
  },
  dlqUrl: settings.dlqUrl,
});

export const handler = async (event: unknown, context?: Context): Promise<InvocationResult> => {
  if (context) logger.addContext(context);
  return invocations.handle(event, context);
};
