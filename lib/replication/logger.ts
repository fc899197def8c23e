/**
 * The one Powertools logger of the replication Lambda (structured JSON). Its service is the
 * contract's POWERTOOLS_SERVICE_NAME, as the metrics' is: a fixed `serviceName` option would win
 * over the variable ("Explicit parameters take precedence over environment variables",
 * https://docs.aws.amazon.com/powertools/typescript/latest/#environment-variables).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DEFAULT_SERVICE_NAME } from "./contract";

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
});

/** Keys every line about one change carries. */
export interface ChangeLogKeys {
  readonly eventId: string;
  readonly key: string;
  readonly target?: string;
}

/** A child logger whose every line carries the event id, key and (when known) the target. */
export function changeLogger(keys: ChangeLogKeys): Logger {
  const child = logger.createChild();
  child.appendKeys({ ...keys });
  return child;
}
