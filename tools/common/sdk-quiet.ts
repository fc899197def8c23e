/**
 * Imported first by the sandbox and bench entry points, and by the jest setup file: on the
 * machine's Node.js 20, the AWS SDK warns once per copy of @aws-sdk/core (the bundle has its own,
 * when the benchmark imports it in-process) that its releases after the first week of January
 * 2027 need Node.js 22; keep the output readable. The bundle's runtime Node.js (24) warns of
 * nothing.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING ??= "1";
