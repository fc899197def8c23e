/**
 * What Lambda allows in a function's environment variables
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html): the names its
 * runtimes reserve ("The keys for these environment variables are reserved and cannot be set in
 * your function configuration"), the 4 KB limit on the total, and the key rule ("Keys start with
 * a letter and are at least two characters"). Pure: the program validates config with it, and
 * the Lambda emulator (tools/emulators/lambda-host.ts) refuses what Lambda would.
 */

/** Lambda's reserved environment variable names: a function may not set these. */
export const reservedLambdaEnvironmentKeys = [
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
  "TZ",
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
] as const;

/** Lambda's limit on the total size of a function's environment variables (bytes). */
export const lambdaEnvironmentMaxBytes = 4096;

/** A variable name Lambda takes: a letter, then letters, digits or `_`, two characters at least. */
export const lambdaVariableNamePattern = /^[a-zA-Z]\w+$/;

/** Total size of an environment map as Lambda counts it: keys plus values, UTF-8 bytes. */
export function environmentBytes(env: Readonly<Record<string, string>>): number {
  return Object.entries(env).reduce(
    (sum, [k, v]) => sum + Buffer.byteLength(k, "utf8") + Buffer.byteLength(v, "utf8"),
    0,
  );
}

/** Problems with a Lambda environment map (empty when valid). */
export function lambdaEnvironmentProblems(
  env: Readonly<Record<string, string>>,
  key = "lambda environment",
): string[] {
  const problems: string[] = [];
  const reserved: readonly string[] = reservedLambdaEnvironmentKeys;
  for (const name of Object.keys(env)) {
    if (reserved.includes(name)) {
      problems.push(`${key} sets "${name}" (reserved by AWS Lambda)`);
    } else if (!lambdaVariableNamePattern.test(name)) {
      problems.push(`${key} has an invalid variable name "${name}"`);
    }
  }
  const bytes = environmentBytes(env);
  if (bytes > lambdaEnvironmentMaxBytes) {
    problems.push(`${key} is ${bytes} bytes (max ${lambdaEnvironmentMaxBytes} in total)`);
  }
  return problems;
}
