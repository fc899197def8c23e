// Lambda baseline: a supported runtime, no reserved environment keys, a bounded timeout, and
// invoke permissions scoped to one source ARN.
import {
  MAX_LAMBDA_TIMEOUT_SECONDS,
  RESERVED_LAMBDA_ENV_KEYS,
  SUPPORTED_LAMBDA_RUNTIMES,
  TYPES,
} from "../baseline";
import { quote, recordAt, stringAt } from "../props";
import type { ResourceRule } from "../types";

export const lambdaSupportedRuntime: ResourceRule = {
  name: "lambda-supported-runtime",
  description: `Each function runs on a supported runtime (${SUPPORTED_LAMBDA_RUNTIMES.join(", ")}).`,
  validate(type, props) {
    if (type !== TYPES.lambdaFunction) return [];
    const runtime = props.runtime;
    return typeof runtime === "string" && SUPPORTED_LAMBDA_RUNTIMES.includes(runtime)
      ? []
      : [`runtime = ${quote(runtime)} (one of ${SUPPORTED_LAMBDA_RUNTIMES.join(", ")})`];
  },
};

export const lambdaNoReservedEnvironment: ResourceRule = {
  name: "lambda-no-reserved-environment",
  description: "No function sets an environment variable the Lambda runtime reserves.",
  validate(type, props) {
    if (type !== TYPES.lambdaFunction) return [];
    const variables = recordAt(recordAt(props, "environment") ?? {}, "variables") ?? {};
    return Object.keys(variables)
      .filter((key) => RESERVED_LAMBDA_ENV_KEYS.includes(key))
      .map((key) => `environment.variables.${key} = ${quote(variables[key])} (reserved by Lambda)`);
  },
};

export const lambdaTimeoutBounded: ResourceRule = {
  name: "lambda-timeout-bounded",
  description: `Each function's timeout is at most ${MAX_LAMBDA_TIMEOUT_SECONDS} seconds.`,
  validate(type, props) {
    if (type !== TYPES.lambdaFunction || props.timeout === undefined) return [];
    const timeout = props.timeout;
    return typeof timeout === "number" && timeout >= 1 && timeout <= MAX_LAMBDA_TIMEOUT_SECONDS
      ? []
      : [`timeout = ${quote(timeout)} (1 to ${MAX_LAMBDA_TIMEOUT_SECONDS} seconds)`];
  },
};

export const lambdaPermissionScoped: ResourceRule = {
  name: "lambda-permission-scoped",
  description: "Each Lambda permission names one source ARN and no wildcard principal.",
  validate(type, props) {
    if (type !== TYPES.lambdaPermission) return [];
    const problems: string[] = [];
    if (stringAt(props, "sourceArn") === undefined) {
      problems.push(`sourceArn = ${quote(props.sourceArn)} (must name the invoking resource)`);
    }
    if (props.principal === "*") problems.push(`principal = "*" (must name a service or account)`);
    return problems;
  },
};
