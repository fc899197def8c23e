/** Unit tests of the SDK client setup (lib/replication/clients.ts). */
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import {
  createClients,
  jitteredBackoff,
  retrySettings,
  targetRegion,
} from "../../lib/replication/clients";
import type { ReplicationSettings } from "../../lib/replication/contract";
import { settings as sharedSettings } from "../support/settings";

/** The shared unit-test settings, in eu-west-1 with values of their own for what is asserted here. */
const config: ReplicationSettings = {
  ...sharedSettings,
  region: "eu-west-1",
  maxAttempts: 4,
  forcePathStyle: true,
};

describe("retrySettings", () => {
  it("is the SDK's standard mode with maxAttempts by default", () => {
    expect(retrySettings(config)).toEqual({ maxAttempts: 4, retryMode: "standard" });
  });

  it("uses the SDK's ConfiguredRetryStrategy (standard strategy) when a base delay is set", async () => {
    const settings = retrySettings({ ...config, retryBaseDelayMs: 0 });
    if (!("retryStrategy" in settings)) throw new Error("expected a retry strategy");
    const strategy = settings.retryStrategy;
    expect(strategy).toBeInstanceOf(ConfiguredRetryStrategy);
    // The SDK's standard decisions apply: transient errors are retried up to maxAttempts (4).
    let token = await strategy.acquireInitialRetryToken("scope");
    for (let attempt = 1; attempt < 4; attempt++) {
      token = await strategy.refreshRetryTokenForRetry(token, { errorType: "TRANSIENT" });
    }
    await expect(
      strategy.refreshRetryTokenForRetry(token, { errorType: "TRANSIENT" }),
    ).rejects.toThrow("No retry token available");
    // ... and client errors are not retried at all.
    const fresh = await strategy.acquireInitialRetryToken("scope");
    await expect(
      strategy.refreshRetryTokenForRetry(fresh, { errorType: "CLIENT_ERROR" }),
    ).rejects.toThrow("No retry token available");
  });
});

describe("jitteredBackoff", () => {
  it("waits a random time below base * 2^attempt, capped at 20 s", () => {
    const backoff = jitteredBackoff(10);
    jest.spyOn(Math, "random").mockReturnValue(0.999);
    expect(backoff(1)).toBe(19);
    expect(backoff(3)).toBe(79);
    expect(backoff(20)).toBe(19_980);
    jest.spyOn(Math, "random").mockReturnValue(0);
    expect(backoff(3)).toBe(0);
  });
});

describe("createClients", () => {
  // Endpoints of the function's own region come from the SDK's own AWS_ENDPOINT_URL_* variables,
  // resolved per request: the integration tests prove it by configuring the bundle through them.
  it("configures region, retries and path-style S3 on every client", async () => {
    const clients = createClients(config);
    const s3 = clients.s3();
    await expect(s3.config.region()).resolves.toBe("eu-west-1");
    expect(s3.config.forcePathStyle).toBe(true);
    await expect(s3.config.maxAttempts()).resolves.toBe(4);
    await expect(clients.dynamodb().config.maxAttempts()).resolves.toBe(4);
    await expect(clients.dynamodb().config.region()).resolves.toBe("eu-west-1");
    await expect(clients.sqs.config.region()).resolves.toBe("eu-west-1");
    expect(clients.sqs.config.retryMode).toBe("standard");
    await expect(clients.sqs.config.maxAttempts()).resolves.toBe(4);
    clients.destroy();
  });

  it("keeps one client per region, created on first use and reused", async () => {
    const clients = createClients(config);

    const home = clients.s3();
    const away = clients.s3("us-west-2");

    expect(clients.s3("eu-west-1")).toBe(home);
    expect(clients.s3("us-west-2")).toBe(away);
    expect(away).not.toBe(home);
    await expect(away.config.region()).resolves.toBe("us-west-2");
    expect(clients.dynamodb("us-west-2")).toBe(clients.dynamodb("us-west-2"));
    await expect(clients.dynamodb("us-west-2").config.region()).resolves.toBe("us-west-2");
    clients.destroy();
  });

  it("points another region's clients at REGION_ENDPOINTS (emulators), and only those", async () => {
    const clients = createClients({
      ...config,
      regionEndpoints: {
        "us-west-2": { s3: "http://127.0.0.1:9001", dynamodb: "http://127.0.0.1:9002" },
        "eu-west-1": { s3: "http://127.0.0.1:9999" },
      },
    });

    const endpoint = async (client: {
      config: { endpoint?: () => Promise<{ hostname: string; port?: number }> };
    }) => {
      const resolved = await client.config.endpoint?.();
      return resolved === undefined ? undefined : `${resolved.hostname}:${String(resolved.port)}`;
    };
    await expect(endpoint(clients.s3("us-west-2"))).resolves.toBe("127.0.0.1:9001");
    await expect(endpoint(clients.dynamodb("us-west-2"))).resolves.toBe("127.0.0.1:9002");
    // The function's own region keeps the SDK's own endpoint resolution.
    await expect(endpoint(clients.s3())).resolves.toBeUndefined();
    clients.destroy();
  });

  it("gives a target its own region, or the function's", () => {
    expect(
      targetRegion({ environment: "dev", bucket: "b", table: "t", region: "us-west-2" }, config),
    ).toBe("us-west-2");
    expect(targetRegion({ environment: "dev", bucket: "b", table: "t" }, config)).toBe("eu-west-1");
  });
});
