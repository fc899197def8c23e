/**
 * Imported first by the sandbox and bench entry points, and by the jest setup file: the AWS SDK warns
 * once per copy of @aws-sdk/core (the bundle has its own) that Node 20 support ends; keep the
 * output readable.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING ??= "1";
