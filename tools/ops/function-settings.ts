/**
 * The replication function's settings as an operator tool needs them (redrive, resync): read from
 * the deployed function's configuration (`GetFunctionConfiguration`, its environment variables)
 * and checked against the same contract the function reads at start-up, so an operator needs
 * nothing but the function's name.
 * https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html
 */
import { GetFunctionConfigurationCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import {
  ContractError,
  readContract,
  type ReplicationSettings,
} from "../../lib/replication/contract";

/** The function's configuration could not be read, or does not satisfy the contract. */
export class FunctionSettingsError extends Error {
  override readonly name = "FunctionSettingsError";
}

/**
 * Reads `functionName`'s environment and returns its settings. The function's own region is the
 * client's region when the environment names none (Lambda sets `AWS_REGION` for the function,
 * not in its configuration). `overrides` win over the deployed values (endpoints for local runs).
 */
export async function readFunctionSettings(
  lambda: LambdaClient,
  functionName: string,
  overrides: Readonly<Record<string, string | undefined>> = {},
): Promise<ReplicationSettings> {
  let variables: Record<string, string>;
  try {
    const out = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: functionName }),
    );
    variables = out.Environment?.Variables ?? {};
  } catch (error: unknown) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new FunctionSettingsError(
      `cannot read the configuration of function "${functionName}" (${reason})`,
    );
  }
  const region = await lambda.config.region();
  try {
    return readContract({ AWS_REGION: region, ...variables, ...overrides });
  } catch (error: unknown) {
    if (error instanceof ContractError) {
      throw new FunctionSettingsError(
        `function "${functionName}" is not a replication function: ${error.message}`,
      );
    }
    throw error;
  }
}
