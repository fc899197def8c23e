// The baseline's facts against the installed @pulumi/aws: type tokens, taggable types and
// runtimes must exist there, so a provider upgrade that renames one fails here, not silently.
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import {
  REQUIRED_TAGS,
  RESERVED_LAMBDA_ENV_KEYS,
  SUPPORTED_LAMBDA_RUNTIMES,
  TAGGABLE_TYPES,
  TYPES,
} from "../../policy/baseline";
import { reservedLambdaEnvironmentKeys } from "../../lib/lambda-environment";
import { standardTagKeys } from "../../lib/tags";

const awsRoot = path.dirname(require.resolve("@pulumi/aws/package.json"));

/** `aws:s3/bucketPolicy:BucketPolicy` -> module `s3`, file `bucketPolicy`, class `BucketPolicy`. */
function parseToken(token: string): { module: string; file: string; className: string } {
  const match = /^aws:([a-zA-Z0-9]+)\/([a-zA-Z0-9]+):([A-Za-z0-9]+)$/.exec(token);
  if (match === null) throw new Error(`not an aws type token: ${token}`);
  const [, module = "", file = "", className = ""] = match;
  return { module, file, className };
}

/** The resource class @pulumi/aws exports for `token`, read from its module file. */
async function pulumiTypeOf(token: string): Promise<unknown> {
  const { module, file, className } = parseToken(token);
  const exported: unknown = await import(path.join(awsRoot, module, `${file}.js`));
  const resourceClass: unknown =
    typeof exported === "object" && exported !== null
      ? Reflect.get(exported, className)
      : undefined;
  return typeof resourceClass === "function"
    ? Reflect.get(resourceClass, "__pulumiType")
    : undefined;
}

/** The `<Class>Args` interface of `token` in the @pulumi/aws declarations. */
function argsDeclaration(token: string): string {
  const { module, file, className } = parseToken(token);
  const source = fs.readFileSync(path.join(awsRoot, module, `${file}.d.ts`), "utf8");
  const start = source.indexOf(`export interface ${className}Args {`);
  if (start < 0) throw new Error(`${className}Args not declared for ${token}`);
  return source.slice(start, source.indexOf("\n}", start));
}

describe("the baseline's facts", () => {
  it.each(Object.values(TYPES))(
    "%s is a resource type of the installed @pulumi/aws",
    async (token) => {
      expect(await pulumiTypeOf(token)).toBe(token);
    },
  );

  it.each(TAGGABLE_TYPES)("%s exists and declares tags", async (token) => {
    expect(await pulumiTypeOf(token)).toBe(token);
    expect(argsDeclaration(token)).toMatch(/^\s+tags\?: pulumi\.Input<\{/m);
  });

  it("accepts only runtimes @pulumi/aws knows", () => {
    const known: unknown[] = Object.values(aws.lambda.Runtime);
    for (const runtime of SUPPORTED_LAMBDA_RUNTIMES) expect(known).toContain(runtime);
  });

  it("shares the program's reserved keys and tag keys", () => {
    expect(RESERVED_LAMBDA_ENV_KEYS).toEqual(reservedLambdaEnvironmentKeys);
    expect(REQUIRED_TAGS).toEqual(["Environment", "Project", "ManagedBy"]);
    expect(REQUIRED_TAGS).toEqual(standardTagKeys);
  });

  it("rejects a token that is not an aws one", () => {
    expect(() => parseToken("pulumi:pulumi:Stack")).toThrow(/not an aws type token/);
  });
});
