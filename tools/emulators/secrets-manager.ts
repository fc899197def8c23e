/**
 * AWS Secrets Manager for the emulators, which have none: the one call the function and the
 * operator tools make, `GetSecretValue` (JSON 1.1, `X-Amz-Target: secretsmanager.GetSecretValue`),
 * for the secrets it is given, on loopback. As the API reference documents it
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html): the
 * request names the secret by `SecretId` (its ARN or name); the answer carries `ARN`, `Name`,
 * `VersionId`, `SecretString`, `VersionStages` (["AWSCURRENT"]) and `CreatedDate` (epoch seconds);
 * an unknown secret is `ResourceNotFoundException` (400). `rotate` gives a secret a new value and
 * version, as a rotation would. It counts the reads, so that a test can see the cache at work.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listenOnLoopback, readAll } from "./http-relay";

export interface SecretsManagerEmulator {
  readonly endpoint: string;
  /** The ARN of a secret created with `value`. */
  create(name: string, value: string): string;
  rotate(arn: string, value: string): void;
  /** GetSecretValue calls answered so far. */
  reads(): number;
  stop(): Promise<void>;
}

export async function startSecretsManager(
  region: string,
  accountId = "123456789012",
): Promise<SecretsManagerEmulator> {
  const secrets = new Map<
    string,
    { name: string; value: string; version: string; created: number }
  >();
  let reads = 0;
  const answer = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/x-amz-json-1.1",
      "content-length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = JSON.parse((await readAll(req)).toString("utf8") || "{}") as { SecretId?: string };
    if (req.headers["x-amz-target"] !== "secretsmanager.GetSecretValue") {
      answer(res, 400, { __type: "UnknownOperationException", message: "not emulated" });
      return;
    }
    const found = [...secrets.entries()].find(
      ([arn, secret]) => arn === body.SecretId || secret.name === body.SecretId,
    );
    if (found === undefined) {
      answer(res, 400, {
        __type: "ResourceNotFoundException",
        Message: "Secrets Manager can't find the specified secret.",
      });
      return;
    }
    reads += 1;
    const [arn, secret] = found;
    answer(res, 200, {
      ARN: arn,
      Name: secret.name,
      VersionId: secret.version,
      SecretString: secret.value,
      VersionStages: ["AWSCURRENT"],
      CreatedDate: secret.created,
    });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      answer(res, 500, { __type: "InternalServiceError", message: "emulator error" });
    });
  });
  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    create(name, value) {
      const arn = `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-AbCdEf`;
      secrets.set(arn, {
        name,
        value,
        version: randomUUID(),
        created: Math.floor(Date.now() / 1000),
      });
      return arn;
    },
    rotate(arn, value) {
      const secret = secrets.get(arn);
      if (secret === undefined) throw new Error(`no secret ${arn}`);
      secrets.set(arn, { ...secret, value, version: randomUUID() });
    },
    reads: () => reads,
    stop: () => closeServer(server),
  };
}
