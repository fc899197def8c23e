/**
 * The scheduler and the network (tools/simulation/): virtual time, steps picked by the seed, the
 * code's timers as steps, and real SDK clients whose calls go through a model with documented
 * faults, lost answers and the SDK's own retries.
 */
import { setTimeout as realDelay } from "node:timers/promises";
import { HeadObjectCommand, PutObjectCommand, S3ServiceException } from "@aws-sdk/client-s3";
import type {
  DocumentedFault,
  ModelCall,
  ModelOperation,
  ServiceModel,
  ServiceName,
} from "../../tools/simulation/model/types";
import { Network, type Weather } from "../../tools/simulation/network";
import { seededRng } from "../../tools/simulation/rng";
import { Scheduler } from "../../tools/simulation/scheduler";

/** A toy S3: a map of key to body, a PutObject and a HeadObject, and one documented fault. */
function toyS3(): ServiceModel & { readonly objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    service: "s3",
    objects,
    start(call: ModelCall): ModelOperation {
      return {
        durationMs: 10,
        finish: () => {
          const key = String(call.input.Key);
          if (call.command === "PutObject") {
            objects.set(key, String(call.input.Body));
            return { ETag: `"${String(objects.size)}"` };
          }
          const body = objects.get(key);
          if (body === undefined) {
            throw new S3ServiceException({
              name: "NotFound",
              message: "NotFound",
              $fault: "client",
              $metadata: { httpStatusCode: 404 },
            });
          }
          return { ContentLength: body.length };
        },
      };
    },
    faults(): readonly DocumentedFault[] {
      return [
        {
          name: "SlowDown",
          httpStatusCode: 503,
          source: "https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html",
          error: () =>
            new S3ServiceException({
              name: "SlowDown",
              message: "Please reduce your request rate.",
              $fault: "server",
              $metadata: { httpStatusCode: 503 },
            }),
        },
      ];
    },
  };
}

const services = (s3: ServiceModel) =>
  ({ s3, dynamodb: s3, "dynamodb-streams": s3, sqs: s3 }) as Record<ServiceName, ServiceModel>;

async function runWith(
  seed: number,
  weather: Weather,
  work: (network: Network, scheduler: Scheduler) => Promise<unknown>,
  idle?: () => boolean,
) {
  const scheduler = new Scheduler({ seed });
  const s3 = toyS3();
  const network = new Network(scheduler, services(s3), seed, weather);
  const random = Math.random;
  Math.random = seededRng(seed, "Math.random");
  try {
    let outcome: unknown;
    let done = false;
    work(network, scheduler).then(
      (value) => {
        outcome = value;
        done = true;
      },
      (error: unknown) => {
        outcome = error;
        done = true;
      },
    );
    const finished = await scheduler.run({
      done: () => done,
      horizon: scheduler.now() + 24 * 3_600_000,
      idle,
    });
    return {
      finished,
      outcome,
      timeline: scheduler.timeline.map((entry) => entry.text),
      s3,
      network,
    };
  } finally {
    Math.random = random;
    scheduler.dispose();
  }
}

const calm: Weather = { fault: 0, lostAnswer: 0, hold: 0, maxHoldMs: 0, latencyMs: 20 };

describe("the scheduler", () => {
  it("owns time: Date and the code's timers are virtual, and a long wait takes no real time", async () => {
    const started = Date.now();
    const { outcome } = await runWith(1, calm, async (_network, scheduler) => {
      const before = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 3_600_000));
      return { waited: Date.now() - before, virtual: scheduler.now() - before };
    });
    expect(outcome).toEqual({ waited: 3_600_000, virtual: 3_600_000 });
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("orders concurrent calls by the seed: the same seed, the same order; other seeds, others", async () => {
    const order = async (seed: number) =>
      (
        await runWith(seed, calm, async (network) => {
          const actor = { name: "a", alive: true };
          const s3 = network.clients(actor, "us-east-1").s3();
          await Promise.all(
            ["k1", "k2", "k3", "k4"].map((Key) =>
              s3.send(new PutObjectCommand({ Bucket: "b", Key, Body: Key })),
            ),
          );
        })
      ).timeline.filter((line) => line.includes("PutObject") && !line.includes(":"));
    // The SDK's first send in a process loads modules in real time, which no virtual clock sees:
    // under load the scheduler could find the code quiet before the first call is made. Warm up.
    await order(7);
    const first = await order(7);
    expect(first).toHaveLength(4);
    expect(await order(7)).toEqual(first);
    // One world at a time: a scheduler owns the process's clock.
    const others: string[][] = [];
    for (const seed of [1, 2, 3, 4, 5]) others.push(await order(seed));
    expect(others.some((each) => JSON.stringify(each) !== JSON.stringify(first))).toBe(true);
  });
});

describe("the scheduler and work outside virtual time", () => {
  // Real time, which no virtual clock sees: a lazy module load or a file read takes this long
  // under load (node:timers/promises is not the global setTimeout the scheduler fakes).
  const realWork = async (network: Network) => {
    await realDelay(150);
    const s3 = network.clients({ name: "a", alive: true }, "us-east-1").s3();
    return s3.send(new PutObjectCommand({ Bucket: "b", Key: "late", Body: "v" }));
  };

  it("does not end a run while the code is busy outside it, and sees its later calls", async () => {
    const { finished, outcome, s3 } = await runWith(5, calm, realWork);
    expect(finished).toBe(true);
    expect(outcome).toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(s3.objects.get("late")).toBe("v");
  });

  it("ends a run at once when the caller says nothing of the code is running", async () => {
    const { finished, outcome, s3 } = await runWith(5, calm, realWork, () => true);
    expect(finished).toBe(false);
    expect(outcome).toBeUndefined();
    expect(s3.objects.has("late")).toBe(false);
    // The abandoned work goes on in real time: let it end before the next test's scheduler
    // fakes the timers it would use.
    await realDelay(300);
  });
});

describe("the network", () => {
  it("answers a documented fault instead of the call, and the SDK's own strategy retries it", async () => {
    const stormy: Weather = { ...calm, fault: 0.9 };
    const { outcome, network, s3 } = await runWith(3, stormy, async (net) => {
      const client = net.clients({ name: "a", alive: true }, "us-east-1").s3({
        maxAttempts: 60,
        retryMode: "standard",
      });
      return client.send(new PutObjectCommand({ Bucket: "b", Key: "k", Body: "v" }));
    });
    expect(outcome).toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(s3.objects.get("k")).toBe("v");
    const tried = network.calls.map((call) => call.outcome);
    expect(tried).toContain("fault");
    expect(tried.at(-1)).toBe("ok");
  });

  it("loses an answer after the effect: the client times out and retries, and the effect stands", async () => {
    const lossy: Weather = { ...calm, lostAnswer: 0.7 };
    const { network, s3 } = await runWith(5, lossy, async (net) => {
      const client = net.clients({ name: "a", alive: true }, "us-east-1").s3({
        maxAttempts: 20,
        retryMode: "standard",
      });
      return client.send(new PutObjectCommand({ Bucket: "b", Key: "k", Body: "v" }));
    });
    expect(
      network.calls.some((call) => call.outcome === "lost" && call.effectAt !== undefined),
    ).toBe(true);
    expect(s3.objects.get("k")).toBe("v");
  });

  it("gives an actor that ended no more answers, while its calls in flight still take effect", async () => {
    const { s3, outcome } = await runWith(9, calm, async (net, scheduler) => {
      const actor = { name: "a", alive: true };
      const client = net.clients(actor, "us-east-1").s3();
      let answered = false;
      void client.send(new PutObjectCommand({ Bucket: "b", Key: "k", Body: "v" })).then(() => {
        answered = true;
      });
      actor.alive = false;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return { answered, at: scheduler.now() };
    });
    expect(outcome).toMatchObject({ answered: false });
    expect(s3.objects.get("k")).toBe("v");
  });

  it("answers every call an outage names with a server error until it ends, with no effect, and others as usual", async () => {
    const { outcome, network, s3 } = await runWith(4, calm, async (net, scheduler) => {
      net.outages.push({
        what: "b",
        until: scheduler.now() + 60_000,
        names: (call) => call.input.Bucket === "down",
      });
      const client = net.clients({ name: "a", alive: true }, "us-east-1").s3({
        maxAttempts: 3,
        retryMode: "standard",
      });
      const during = await client
        .send(new PutObjectCommand({ Bucket: "down", Key: "k", Body: "v" }))
        .catch((error: unknown) => error);
      await client.send(new PutObjectCommand({ Bucket: "up", Key: "other", Body: "w" }));
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      await client.send(new PutObjectCommand({ Bucket: "down", Key: "later", Body: "x" }));
      return during;
    });

    expect(outcome).toMatchObject({ name: "SlowDown", $metadata: { httpStatusCode: 503 } });
    expect(s3.objects.has("k")).toBe(false);
    expect([s3.objects.get("other"), s3.objects.get("later")]).toEqual(["w", "x"]);
    expect(
      network.calls.filter((call) => call.call.input.Key === "k").map((call) => call.outcome),
    ).toEqual(["fault", "fault", "fault"]);
  });

  it("hands the SDK the model's errors as they are (a 404 HeadObject)", async () => {
    const { outcome } = await runWith(2, calm, async (net) =>
      net
        .clients({ name: "a", alive: true }, "us-east-1")
        .s3()
        .send(new HeadObjectCommand({ Bucket: "b", Key: "missing" })),
    );
    expect(outcome).toMatchObject({ name: "NotFound", $metadata: { httpStatusCode: 404 } });
  });
});
