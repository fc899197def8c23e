/**
 * Errors of the S3 model, built as @aws-sdk/client-s3 throws them for S3's answers.
 *
 * The SDK's REST-XML deserializer reads the error code from the XML body (`<Error><Code>`); a
 * response without a body (every HEAD, and 304 Not Modified) has no code, so the SDK names the
 * error `NotFound` for a 404 and `Unknown` (message "UnknownError") otherwise (@aws-sdk/core
 * protocols `loadRestXmlErrorCode`, checked against this SDK version by sending such responses to
 * it). Codes the SDK models (NoSuchKey, NoSuchBucket, NoSuchUpload, InvalidObjectState,
 * InvalidRequest, NotFound, ObjectAlreadyInActiveTierError) get their class; every other code is an
 * `S3ServiceException` whose `name` is the code and which carries `Code`. `$fault` is "client"
 * below 500, "server" from 500.
 *
 * "HEAD ... if the HEAD request generates an error, it returns a generic code, such as 400 Bad
 * Request, 403 Forbidden, 404 Not Found, 405 Method Not Allowed, 412 Precondition Failed, or 304
 * Not Modified. It's not possible to retrieve the exact exception of these error codes."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html)
 */
import {
  InvalidObjectState,
  InvalidRequest,
  NoSuchBucket,
  NoSuchKey,
  NoSuchUpload,
  NotFound,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import type { HttpResponse } from "@smithy/types";
import type { DocumentedFault } from "./types";

/** How S3 answers: with an XML error body, or without one (HEAD). */
export type Answer = "body" | "nobody";

export const ERROR_RESPONSES_URL =
  "https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html";

function metadata(httpStatusCode: number): { httpStatusCode: number } {
  return { httpStatusCode };
}

function withResponse<E extends S3ServiceException>(
  error: E,
  status: number,
  headers: Record<string, string> | undefined,
): E {
  if (headers !== undefined) {
    const response: HttpResponse = { statusCode: status, headers, body: undefined };
    error.$response = response;
  }
  return error;
}

/** An error S3 answers with `code` and `status`; `extra` are the XML body's other elements. */
export function s3Error(
  code: string,
  status: number,
  message: string,
  answer: Answer = "body",
  extra: Record<string, string> = {},
  headers?: Record<string, string>,
): S3ServiceException {
  const $fault = status >= 500 ? "server" : "client";
  if (answer === "nobody") {
    const error =
      status === 404
        ? new NotFound({ message: "UnknownError", $metadata: metadata(status) })
        : new S3ServiceException({
            name: "Unknown",
            $fault,
            message: "UnknownError",
            $metadata: metadata(status),
          });
    return withResponse(error, status, headers);
  }
  const error = modeled(code, status, message) ?? genericError(code, status, message);
  Object.assign(error, { Code: code }, extra);
  return withResponse(error, status, headers);
}

function genericError(code: string, status: number, message: string): S3ServiceException {
  return new S3ServiceException({
    name: code,
    $fault: status >= 500 ? "server" : "client",
    message,
    $metadata: metadata(status),
  });
}

function modeled(code: string, status: number, message: string): S3ServiceException | undefined {
  const options = { message, $metadata: metadata(status) };
  switch (code) {
    case "NoSuchKey":
      return new NoSuchKey(options);
    case "NoSuchBucket":
      return new NoSuchBucket(options);
    case "NoSuchUpload":
      return new NoSuchUpload(options);
    case "InvalidRequest":
      return new InvalidRequest(options);
    case "InvalidObjectState":
      return new InvalidObjectState(options);
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------------------------------------
// The errors the model answers, each with its source.
// ------------------------------------------------------------------------------------------------

/**
 * "NoSuchBucket — The specified bucket does not exist. — 404 Not Found"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
 */
export function noSuchBucket(bucket: string, answer: Answer): S3ServiceException {
  return s3Error("NoSuchBucket", 404, "The specified bucket does not exist", answer, {
    BucketName: bucket,
  });
}

/**
 * "PermanentRedirect — The bucket you are attempting to access must be addressed using the
 * specified endpoint. Send all future requests to this endpoint. — 301 Moved Permanently"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html); the response names the
 * bucket's Region in `x-amz-bucket-region`.
 */
export function permanentRedirect(
  bucket: string,
  region: string,
  answer: Answer,
): S3ServiceException {
  return s3Error(
    "PermanentRedirect",
    301,
    "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
    answer,
    { Endpoint: `${bucket}.s3.${region}.amazonaws.com`, Bucket: bucket },
    { "x-amz-bucket-region": region },
  );
}

/**
 * "NoSuchKey — The specified key does not exist. — 404 Not Found"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
 */
export function noSuchKey(
  key: string,
  answer: Answer,
  headers?: Record<string, string>,
): S3ServiceException {
  return s3Error(
    "NoSuchKey",
    404,
    "The specified key does not exist.",
    answer,
    { Key: key },
    headers,
  );
}

/** "NoSuchVersion — The version ID specified in the request does not match an existing version." */
export function noSuchVersion(key: string, versionId: string, answer: Answer): S3ServiceException {
  return s3Error("NoSuchVersion", 404, "The specified version does not exist.", answer, {
    Key: key,
    VersionId: versionId,
  });
}

/**
 * "If the specified version in the request is a delete marker, the response returns a 405 Method
 * Not Allowed error and the Last-Modified: timestamp response header."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html)
 */
export function methodNotAllowed(
  answer: Answer,
  headers: Record<string, string>,
): S3ServiceException {
  return s3Error(
    "MethodNotAllowed",
    405,
    "The specified method is not allowed against this resource.",
    answer,
    { Method: "GET", ResourceType: "DeleteMarker" },
    headers,
  );
}

/** "NoSuchUpload — The specified multipart upload does not exist. — 404 Not Found" */
export function noSuchUpload(uploadId: string): S3ServiceException {
  return s3Error(
    "NoSuchUpload",
    404,
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    "body",
    { UploadId: uploadId },
  );
}

/**
 * "PreconditionFailed — At least one of the preconditions that you specified did not hold. — 412"
 */
export function preconditionFailed(condition: string, answer: Answer): S3ServiceException {
  return s3Error(
    "PreconditionFailed",
    412,
    "At least one of the pre-conditions you specified did not hold",
    answer,
    { Condition: condition },
  );
}

/** GET/HEAD conditions that do not hold for If-None-Match / If-Modified-Since: 304, no body. */
export function notModified(): S3ServiceException {
  return s3Error("NotModified", 304, "Not Modified", "nobody");
}

/**
 * "If a conflicting operation occurs during the upload S3 returns a 409 ConditionalRequestConflict
 * response." (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, If-Match)
 */
export function conditionalRequestConflict(): S3ServiceException {
  return s3Error(
    "ConditionalRequestConflict",
    409,
    "A conflicting conditional operation is currently in progress against this resource. Please try again.",
  );
}

/**
 * "InvalidObjectState — The operation is not valid for the current state of the object. — 403"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html); the SDK models it with
 * `StorageClass` and `AccessTier`.
 */
export function invalidObjectState(
  message: string,
  storageClass: string,
  accessTier?: string,
): S3ServiceException {
  const extra: Record<string, string> = { StorageClass: storageClass };
  if (accessTier !== undefined) extra.AccessTier = accessTier;
  return s3Error("InvalidObjectState", 403, message, "body", extra);
}

export function invalidRequest(message: string): S3ServiceException {
  return s3Error("InvalidRequest", 400, message);
}

export function invalidArgument(
  message: string,
  extra: Record<string, string> = {},
): S3ServiceException {
  return s3Error("InvalidArgument", 400, message, "body", extra);
}

/** "InvalidTag — You have passed bad tag input - duplicate keys, key/values are too long, ..." */
export function invalidTag(message: string): S3ServiceException {
  return s3Error("InvalidTag", 400, message);
}

/** "MetadataTooLarge — Your metadata headers exceed the maximum allowed metadata size. — 400" */
export function metadataTooLarge(): S3ServiceException {
  return s3Error(
    "MetadataTooLarge",
    400,
    "Your metadata headers exceed the maximum allowed metadata size.",
  );
}

export function malformedXml(): S3ServiceException {
  return s3Error(
    "MalformedXML",
    400,
    "The XML you provided was not well-formed or did not validate against our published schema.",
  );
}

// ------------------------------------------------------------------------------------------------
// Transient faults (DocumentedFault)
// ------------------------------------------------------------------------------------------------

/**
 * "InternalError — An internal error occurred. Try again. — 500 Internal Server Error";
 * "ServiceUnavailable — Service is unable to handle request. — 503"; "SlowDown — Please reduce your
 * request rate. — 503" (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
 * "Requests that receive an InternalError response might not have processed."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ErrorBestPractices.html)
 */
const TRANSIENT: readonly { name: string; status: number; message: string }[] = [
  {
    name: "InternalError",
    status: 500,
    message: "We encountered an internal error. Please try again.",
  },
  { name: "SlowDown", status: 503, message: "Please reduce your request rate." },
  { name: "ServiceUnavailable", status: 503, message: "Service is unable to handle request." },
];

export function transientFaults(answer: Answer): readonly DocumentedFault[] {
  return TRANSIENT.map(({ name, status, message }) => ({
    name,
    httpStatusCode: status,
    source: ERROR_RESPONSES_URL,
    error: () => s3Error(name, status, message, answer),
  }));
}
