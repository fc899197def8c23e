/** The one Powertools logger of the replication Lambda (structured JSON, service "replication"). */
import { Logger } from "@aws-lambda-powertools/logger";

export const logger = new Logger({ serviceName: "replication" });

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
