/** Replication Lambda entry (placeholder until the replication issue lands): logs the event it receives. */
import { Logger } from "@aws-lambda-powertools/logger";

const logger = new Logger({ serviceName: "replication" });

export const handler = async (event: unknown): Promise<void> => {
  logger.info("event received", { event });
  await Promise.resolve();
};
