/**
 * The errors of the Amazon SQS model, built as @aws-sdk/client-sqs throws them.
 *
 * SQS speaks the AWS JSON 1.0 protocol with `awsQueryCompatible: true`
 * (node_modules/@aws-sdk/client-sqs/dist-cjs/index.js, `protocolSettings`): the service answers
 * an error with the header `x-amzn-query-error: <Code>;<Type>`, and the SDK
 * (node_modules/@aws-sdk/core/dist-cjs/submodules/protocols/index.js, `setQueryCompatError`,
 * `findQueryCompatibleError`, `decorateServiceException`) then
 * - finds the modeled class whose `awsQueryError` trait names that code (e.g.
 *   `AWS.SimpleQueueService.NonExistentQueue` → `QueueDoesNotExist`), or else throws the
 *   `SQSServiceException` base class with `name` set to the code (e.g. `InvalidParameterValue`);
 * - sets `Code`, `Type` and `Error: { Code, Type, Message }` on the error, and `$fault` from the
 *   status (< 500 "client", else "server").
 * The status codes of modeled classes are their `awsQueryError` / `httpError` traits in the same
 * file; those of unmodeled codes come from
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html
 * ("InvalidParameterValue ... HTTP Status Code: 400", "InternalFailure ... HTTP Status Code: 500").
 *
 * Unconfirmed: ReceiptHandleIsInvalid answers 404 here because the SDK's model says so
 * (`[_aQE]: ["ReceiptHandleIsInvalid", 404], [_hE]: 404`); AWS's pages do not give its status.
 */

import {
  BatchEntryIdsNotDistinct,
  BatchRequestTooLong,
  EmptyBatchRequest,
  InvalidAttributeName,
  InvalidBatchEntryId,
  InvalidMessageContents,
  PurgeQueueInProgress,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  RequestThrottled,
  SQSServiceException,
  TooManyEntriesInBatchRequest,
} from "@aws-sdk/client-sqs";

type QueryType = "Sender" | "Receiver";

interface ModeledOptions {
  message: string;
  $metadata: { httpStatusCode?: number };
}

type ModeledClass = new (options: ModeledOptions) => SQSServiceException;

/** Sets the fields the SDK's query-compatible error handling adds. */
function withQueryFields(
  error: SQSServiceException,
  code: string,
  type: QueryType,
): SQSServiceException {
  return Object.assign(error, {
    Code: code,
    Type: type,
    Error: { Code: code, Type: type, Message: error.message },
  });
}

function modeled(
  Class: ModeledClass,
  queryCode: string,
  httpStatusCode: number,
  message: string,
): SQSServiceException {
  const error = new Class({ message, $metadata: { httpStatusCode } });
  return withQueryFields(error, queryCode, "Sender");
}

/** An error code the SDK does not model: the base class named by the code. */
export function unmodeledError(
  code: string,
  httpStatusCode: number,
  message: string,
): SQSServiceException {
  const fault = httpStatusCode < 500 ? "client" : "server";
  const error = new SQSServiceException({
    name: code,
    $fault: fault,
    message,
    $metadata: { httpStatusCode },
  });
  return withQueryFields(error, code, fault === "client" ? "Sender" : "Receiver");
}

/** Thrown by a finish() for a request whose effect is refused. */
export const sqsErrors = {
  queueDoesNotExist: (): SQSServiceException =>
    modeled(
      QueueDoesNotExist,
      "AWS.SimpleQueueService.NonExistentQueue",
      400,
      "The specified queue does not exist.",
    ),
  invalidParameterValue: (message: string): SQSServiceException =>
    unmodeledError("InvalidParameterValue", 400, message),
  missingParameter: (name: string): SQSServiceException =>
    unmodeledError("MissingParameter", 400, `The request must contain the parameter ${name}.`),
  invalidMessageContents: (message: string): SQSServiceException =>
    modeled(InvalidMessageContents, "InvalidMessageContents", 400, message),
  receiptHandleIsInvalid: (handle: string): SQSServiceException =>
    modeled(
      ReceiptHandleIsInvalid,
      "ReceiptHandleIsInvalid",
      404,
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
    ),
  emptyBatchRequest: (entryType: string): SQSServiceException =>
    modeled(
      EmptyBatchRequest,
      "AWS.SimpleQueueService.EmptyBatchRequest",
      400,
      `There should be at least one ${entryType} in the request.`,
    ),
  tooManyEntries: (count: number): SQSServiceException =>
    modeled(
      TooManyEntriesInBatchRequest,
      "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
      400,
      `Maximum number of entries per request are 10. You have sent ${String(count)}.`,
    ),
  batchEntryIdsNotDistinct: (id: string): SQSServiceException =>
    modeled(
      BatchEntryIdsNotDistinct,
      "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
      400,
      `Id ${id} repeated.`,
    ),
  invalidBatchEntryId: (): SQSServiceException =>
    modeled(
      InvalidBatchEntryId,
      "AWS.SimpleQueueService.InvalidBatchEntryId",
      400,
      "A batch entry id can only contain alphanumeric characters, hyphens and underscores. " +
        "It can be at most 80 letters long.",
    ),
  batchRequestTooLong: (bytes: number, limit: number): SQSServiceException =>
    modeled(
      BatchRequestTooLong,
      "AWS.SimpleQueueService.BatchRequestTooLong",
      400,
      `Batch requests cannot be longer than ${String(limit)} bytes. ` +
        `You have sent ${String(bytes)} bytes.`,
    ),
  invalidAttributeName: (name: string): SQSServiceException =>
    modeled(InvalidAttributeName, "InvalidAttributeName", 400, `Unknown Attribute ${name}.`),
  purgeQueueInProgress: (queueName: string): SQSServiceException =>
    modeled(
      PurgeQueueInProgress,
      "AWS.SimpleQueueService.PurgeQueueInProgress",
      403,
      `Only one PurgeQueue operation on ${queueName} is allowed every 60 seconds.`,
    ),
  requestThrottled: (): SQSServiceException =>
    modeled(RequestThrottled, "RequestThrottled", 403, "Request is throttled."),
};
