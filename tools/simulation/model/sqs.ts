/**
 * A model of Amazon SQS standard queues for the deterministic simulation: SendMessage(Batch),
 * ReceiveMessage (short and long polling), DeleteMessage(Batch), ChangeMessageVisibility(Batch),
 * GetQueueAttributes and PurgeQueue, with at-least-once delivery, no ordering, visibility
 * timeouts, delays, retention and receipt handles, as AWS documents them. Inputs and outputs are
 * the @aws-sdk/client-sqs shapes; errors are built as that SDK throws them (./sqs-errors.ts).
 *
 * Sources (each behaviour cites its page beside the code):
 * - API reference pages, which the SDK's d.ts comments reproduce:
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_<Action>.html
 * - https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues.html
 * - .../SQSDeveloperGuide/standard-queues-at-least-once-delivery.html
 * - .../SQSDeveloperGuide/sqs-short-and-long-polling.html (and best-practices-setting-up-long-polling)
 * - .../SQSDeveloperGuide/sqs-message-metadata.html (MD5 of message attributes)
 * - .../APIReference/CommonErrors.html
 *
 * Silent choices (the docs do not say; the model takes what is hardest for a client):
 * - Silent: a short poll over a queue with visible messages returns nothing with probability
 *   shortPollEmpty (0.3); otherwise each visible message is on a sampled server with probability
 *   shortPollSample (0.5). Messages come back in random order.
 * - Silent: a long poll returns between 1 and min(MaxNumberOfMessages, visible) messages (random),
 *   since it "returns as soon as at least one message is available".
 * - Silent: a long poll that finds no visible message at its start takes the whole wait
 *   (durationMs = WaitTimeSeconds) and answers with what is visible when it finishes; AWS would
 *   answer as soon as a message arrives, the model answers later (never wrong, only slower).
 * - Silent: a receive also returns one in-flight message (a second copy, with a new receipt
 *   handle) with probability inFlightDuplicate (0.05).
 * - Silent: DeleteMessage with a receipt handle older than the message's latest receive succeeds
 *   and deletes the message with probability oldHandleDeletes (0.5), else does nothing.
 * - Silent: DeleteMessage with the latest receipt handle deletes the message even after its
 *   visibility timeout lapsed (nobody received it since).
 * - Silent: a successful delete leaves a copy on an unavailable server with probability
 *   deleteLeavesCopy (0.01): the message stays and is received again once its visibility ends.
 * - Unconfirmed: ChangeMessageVisibility with the latest receipt handle of a message that is no
 *   longer in flight (its timeout lapsed) succeeds and changes nothing; the SDK models
 *   MessageNotInflight but localstack's AWS-validated test (localstack/localstack#9632) says AWS
 *   "simply sends back an OK and does nothing". Silently losing the lease is the harder answer.
 * - Silent: a batch entry fails transiently (Code "InternalError", SenderFault false, no effect)
 *   with probability batchEntryFailure (0.05).
 * - Silent: empty `Successful` / `Failed` lists of a batch answer are left out.
 * - Silent: a batch entry that is itself invalid (too large, bad characters, bad delay or
 *   attribute) fails alone in `Failed` (SenderFault true) and does not count towards the batch's
 *   total size; the others are sent.
 * - Silent: GetQueueAttributes answers the approximate counts as they were at a random moment of
 *   the last 60 s ("may not achieve consistency until at least 1 minute after...").
 * - Silent: a message sent while a purge runs is deleted at the purge's end with probability 0.5;
 *   a message present at the purge stays receivable until a random moment of the 60 s.
 * - Silent: MD5OfMessageAttributes of a received message is computed over the attributes returned.
 * - Silent: the 12-hour visibility limit counts from the message's latest receive.
 * - Silent: SenderId is the account id.
 *
 * Not modelled: FIFO queues, dead-letter queues and redrive, queue management (CreateQueue is the
 * createQueue() world action), SetQueueAttributes, tags, KMS, the 120,000 in-flight limit
 * (OverLimit), per-queue default delay, AWSTraceHeader, message attribute name rules beyond the
 * count and the data type.
 */

import { createHash } from "node:crypto";
import type { SQSServiceException } from "@aws-sdk/client-sqs";
import { sqsErrors, unmodeledError } from "./sqs-errors";
import type {
  Clock,
  DocumentedFault,
  ModelCall,
  ModelOperation,
  Rng,
  ServiceModel,
  TimedModel,
} from "./types";

/** The probabilities of the model's Silent choices (see the header). */
export interface SqsProbabilities {
  readonly shortPollEmpty: number;
  readonly shortPollSample: number;
  readonly inFlightDuplicate: number;
  readonly oldHandleDeletes: number;
  readonly deleteLeavesCopy: number;
  readonly batchEntryFailure: number;
}

export const defaultSqsProbabilities: SqsProbabilities = {
  shortPollEmpty: 0.3,
  shortPollSample: 0.5,
  inFlightDuplicate: 0.05,
  oldHandleDeletes: 0.5,
  deleteLeavesCopy: 0.01,
  batchEntryFailure: 0.05,
};

export interface SqsModelOptions {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly accountId: string;
  readonly probabilities?: Partial<SqsProbabilities>;
}

export interface SqsMessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Uint8Array;
}

export interface SqsMessageView {
  messageId: string;
  body: string;
  attributes: Record<string, { DataType: string; StringValue?: string }>;
  visible: boolean;
  receiveCount: number;
}

// API_SendMessage.html: "The maximum size is 1 MiB or 1,048,576 bytes"; MessageAttributeValue:
// "All parts of the message attribute, including Name, Type, and Value, are part of the message
// size restriction (1 MiB or 1,048,576 bytes)."
const maxMessageBytes = 1_048_576;
// API_SendMessageBatch.html: "the maximum total payload size (the sum of the individual lengths
// of all of the batched messages) are both 1 MiB".
const maxBatchBytes = 1_048_576;
// API_ChangeMessageVisibility.html: "The minimum is 0 seconds. The maximum is 12 hours."
const maxVisibilitySeconds = 43_200;
// API_SendMessage.html DelaySeconds: "Valid values: 0 to 900."
const maxDelaySeconds = 900;
// best-practices-setting-up-long-polling.html: "The maximum long polling wait time is 20 seconds."
const maxWaitSeconds = 20;
// API_PurgeQueue.html: "The message deletion process takes up to 60 seconds."
const purgeMs = 60_000;
// API_GetQueueAttributes.html: the approximate counts "may not achieve consistency until at
// least 1 minute after the producers stop sending messages".
const countsStalenessMs = 60_000;
const maxMessageAttributes = 10;
const maxBatchEntries = 10;

type Hidden = "delay" | "inflight";

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, SqsMessageAttribute>>;
  readonly md5OfBody: string;
  readonly sentAt: number;
  readonly expiresAt: number;
  hidden: Hidden | undefined;
  hiddenUntil: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  lastReceivedAt: number | undefined;
  latestHandle: string | undefined;
  purgeAt: number | undefined;
}

interface Counts {
  readonly at: number;
  readonly visible: number;
  readonly notVisible: number;
  readonly delayed: number;
}

interface Queue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly createdAt: number;
  readonly visibilityTimeoutSeconds: number;
  readonly retentionSeconds: number;
  /** In insertion (send) order; the model never promises that order to a receiver. */
  readonly messages: Map<string, StoredMessage>;
  /** Every receipt handle ever issued, to the message id it was issued for. */
  readonly handles: Map<string, string>;
  countsHistory: Counts[];
  purgeStartedAt: number | undefined;
}

type Input = Readonly<Record<string, unknown>>;
type Output = Record<string, unknown>;

interface BatchFailure {
  Id: string;
  SenderFault: boolean;
  Code: string;
  Message: string;
}

export class SqsModel implements ServiceModel, TimedModel {
  readonly service = "sqs" as const;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly accountId: string;
  private readonly p: SqsProbabilities;
  private readonly queues = new Map<string, Queue>();
  private handleSeq = 0;

  constructor(options: SqsModelOptions) {
    this.clock = options.clock;
    this.rng = options.rng;
    this.accountId = options.accountId;
    this.p = { ...defaultSqsProbabilities, ...options.probabilities };
  }

  /** World action: a standard queue (what CreateQueue makes). A queue of that name is kept. */
  createQueue(
    name: string,
    options: {
      region: string;
      visibilityTimeoutSeconds?: number;
      messageRetentionSeconds?: number;
    },
  ): { queueUrl: string; queueArn: string } {
    const url = `https://sqs.${options.region}.amazonaws.com/${this.accountId}/${name}`;
    const arn = `arn:aws:sqs:${options.region}:${this.accountId}:${name}`;
    if (!this.queues.has(url)) {
      this.queues.set(url, {
        name,
        url,
        arn,
        createdAt: this.clock.now(),
        // API_CreateQueue.html VisibilityTimeout: "Default: 30."
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
        // API_CreateQueue.html MessageRetentionPeriod: "Default: 345,600 (4 days)."
        retentionSeconds: options.messageRetentionSeconds ?? 345_600,
        messages: new Map(),
        handles: new Map(),
        countsHistory: [{ at: this.clock.now(), visible: 0, notVisible: 0, delayed: 0 }],
        purgeStartedAt: undefined,
      });
    }
    return { queueUrl: url, queueArn: arn };
  }

  start(call: ModelCall): ModelOperation {
    const input = call.input;
    switch (call.command) {
      case "SendMessage":
        return now(() => this.sendMessage(input));
      case "SendMessageBatch":
        return now(() => this.sendMessageBatch(input));
      case "ReceiveMessage":
        return this.startReceive(input);
      case "DeleteMessage":
        return now(() => this.deleteMessage(input));
      case "DeleteMessageBatch":
        return now(() => this.deleteMessageBatch(input));
      case "ChangeMessageVisibility":
        return now(() => this.changeMessageVisibility(input));
      case "ChangeMessageVisibilityBatch":
        return now(() => this.changeMessageVisibilityBatch(input));
      case "GetQueueAttributes":
        return now(() => this.getQueueAttributes(input));
      case "PurgeQueue":
        return now(() => this.purgeQueue(input));
      default:
        return now(() => {
          throw new Error(`SqsModel does not model ${call.command}`);
        });
    }
  }

  faults(call: ModelCall): readonly DocumentedFault[] {
    if (!modeledCommands.has(call.command)) return [];
    return sqsFaults(call.command);
  }

  nextDue(): number | undefined {
    let due: number | undefined;
    for (const queue of this.queues.values()) {
      for (const message of queue.messages.values()) {
        due = earliest(due, message.expiresAt);
        if (message.hidden !== undefined) due = earliest(due, message.hiddenUntil);
        if (message.purgeAt !== undefined) due = earliest(due, message.purgeAt);
      }
    }
    return due;
  }

  runDue(): void {
    for (const queue of this.queues.values()) this.settle(queue);
  }

  /** Inspection: every message still in the queue, visible or not. */
  messages(queueUrl: string): SqsMessageView[] {
    const queue = this.queues.get(queueUrl);
    if (queue === undefined) throw new Error(`no queue ${queueUrl}`);
    this.settle(queue);
    return [...queue.messages.values()].map((m) => ({
      messageId: m.messageId,
      body: m.body,
      attributes: viewAttributes(m.attributes),
      visible: m.hidden === undefined,
      receiveCount: m.receiveCount,
    }));
  }

  // --- time ---

  /** Applies what is due at the clock's time: ends of delays and visibility, retention, purges. */
  private settle(queue: Queue): void {
    const t = this.clock.now();
    let changed = false;
    for (const [id, message] of queue.messages) {
      // API_DeleteMessage.html: "Amazon SQS automatically deletes messages left in a queue
      // longer than the retention period configured for the queue."
      if (message.expiresAt <= t || (message.purgeAt !== undefined && message.purgeAt <= t)) {
        queue.messages.delete(id);
        changed = true;
      } else if (message.hidden !== undefined && message.hiddenUntil <= t) {
        // API_ReceiveMessage.html VisibilityTimeout: "If the message is not deleted or its
        // visibility timeout is not extended before the timeout expires, it becomes visible
        // again and can be retrieved by other consumers."
        message.hidden = undefined;
        changed = true;
      }
    }
    if (queue.purgeStartedAt !== undefined && queue.purgeStartedAt + purgeMs <= t) {
      queue.purgeStartedAt = undefined;
    }
    if (changed) this.recordCounts(queue);
  }

  private recordCounts(queue: Queue): void {
    const t = this.clock.now();
    let visible = 0;
    let notVisible = 0;
    let delayed = 0;
    for (const m of queue.messages.values()) {
      if (m.hidden === undefined) visible += 1;
      else if (m.hidden === "inflight") notVisible += 1;
      else delayed += 1;
    }
    const history = queue.countsHistory.filter((c) => c.at >= t - countsStalenessMs);
    const before = queue.countsHistory.filter((c) => c.at < t - countsStalenessMs).at(-1);
    queue.countsHistory = [
      ...(before === undefined ? [] : [before]),
      ...history,
      { at: t, visible, notVisible, delayed },
    ];
  }

  private queueOf(input: Input): Queue {
    const url = input.QueueUrl;
    if (typeof url !== "string") throw sqsErrors.missingParameter("QueueUrl");
    // API_*: "Queue URLs and names are case-sensitive."
    const queue = this.queues.get(url);
    if (queue === undefined) throw sqsErrors.queueDoesNotExist();
    this.settle(queue);
    return queue;
  }

  // --- SendMessage ---

  private sendMessage(input: Input): Output {
    const queue = this.queueOf(input);
    const entry = parseSendEntry(input);
    if (entry instanceof Error) throw entry;
    const message = this.enqueue(queue, entry);
    return sendResult(message);
  }

  private sendMessageBatch(input: Input): Output {
    const queue = this.queueOf(input);
    const entries = batchEntries(input, "SendMessageBatchRequestEntry");
    const parsed = entries.map((e) => ({
      id: stringField(e, "Id") ?? "",
      entry: parseSendEntry(e),
    }));
    const total = parsed.reduce((sum, p) => sum + (p.entry instanceof Error ? 0 : p.entry.size), 0);
    if (total > maxBatchBytes) throw sqsErrors.batchRequestTooLong(total, maxBatchBytes);
    const successful: Output[] = [];
    const failed: BatchFailure[] = [];
    for (const { id, entry } of parsed) {
      if (entry instanceof Error) {
        failed.push(entryFailure(id, entry));
      } else if (this.transientEntryFailure()) {
        failed.push(internalEntryFailure(id));
      } else {
        successful.push({ Id: id, ...sendResult(this.enqueue(queue, entry)) });
      }
    }
    return batchResult(successful, failed);
  }

  private enqueue(queue: Queue, entry: SendEntry): StoredMessage {
    const t = this.clock.now();
    const delayMs = entry.delaySeconds * 1000;
    const message: StoredMessage = {
      messageId: this.uuid(),
      body: entry.body,
      attributes: entry.attributes,
      md5OfBody: md5Hex(Buffer.from(entry.body, "utf8")),
      sentAt: t,
      // API_CreateQueue.html MessageRetentionPeriod: "The length of time, in seconds, for which
      // Amazon SQS retains a message."
      expiresAt: t + queue.retentionSeconds * 1000,
      // API_SendMessage.html: "Messages with a positive DelaySeconds value become available for
      // processing after the delay period is finished."
      hidden: delayMs > 0 ? "delay" : undefined,
      hiddenUntil: t + delayMs,
      receiveCount: 0,
      firstReceivedAt: undefined,
      lastReceivedAt: undefined,
      latestHandle: undefined,
      // API_PurgeQueue.html: "Messages sent to the queue after you call PurgeQueue might be
      // deleted while the queue is being purged."
      purgeAt:
        queue.purgeStartedAt !== undefined && this.rng() < 0.5
          ? queue.purgeStartedAt + purgeMs
          : undefined,
    };
    queue.messages.set(message.messageId, message);
    this.recordCounts(queue);
    return message;
  }

  // --- ReceiveMessage ---

  private startReceive(input: Input): ModelOperation {
    const waitSeconds = input.WaitTimeSeconds;
    const url = input.QueueUrl;
    const queue = typeof url === "string" ? this.queues.get(url) : undefined;
    let durationMs = 0;
    if (
      queue !== undefined &&
      typeof waitSeconds === "number" &&
      waitSeconds > 0 &&
      waitSeconds <= maxWaitSeconds
    ) {
      this.settle(queue);
      // sqs-short-and-long-polling.html: long polling returns "as soon as at least one message
      // is available" and otherwise when "the wait time expires". Silent (header): a message
      // arriving during the wait is answered at the wait's end.
      const anyVisible = [...queue.messages.values()].some((m) => m.hidden === undefined);
      durationMs = anyVisible ? 0 : waitSeconds * 1000;
    }
    return { durationMs, finish: () => this.receiveMessage(input) };
  }

  private receiveMessage(input: Input): Output {
    const queue = this.queueOf(input);
    const max =
      optionalInteger(
        input,
        "MaxNumberOfMessages",
        1,
        maxBatchEntries,
        "Must be between 1 and 10, if provided.",
      ) ?? 1;
    const wait =
      optionalInteger(
        input,
        "WaitTimeSeconds",
        0,
        maxWaitSeconds,
        "Must be >= 0 and <= 20, if provided.",
      ) ?? 0;
    const visibility =
      optionalInteger(
        input,
        "VisibilityTimeout",
        0,
        maxVisibilitySeconds,
        "Must be between 0 and 43200, if provided.",
      ) ?? queue.visibilityTimeoutSeconds;
    const visible = [...queue.messages.values()].filter((m) => m.hidden === undefined);
    const chosen = wait > 0 ? this.longPollPick(visible, max) : this.shortPollPick(visible, max);
    const duplicate = this.inFlightDuplicate(queue, chosen, max);
    if (duplicate !== undefined) chosen.push(duplicate);
    if (chosen.length === 0) {
      // API_ReceiveMessage.html WaitTimeSeconds: "If no messages are available and the wait time
      // expires, the call does not return a message list."
      return {};
    }
    const systemNames = requestedNames(input, "MessageSystemAttributeNames", "AttributeNames");
    const attributeNames = stringArray(input.MessageAttributeNames);
    const messages = chosen.map((m) =>
      this.deliver(queue, m, visibility, systemNames, attributeNames),
    );
    this.recordCounts(queue);
    return { Messages: messages };
  }

  /**
   * API_ReceiveMessage.html: "Short poll is the default behavior where a weighted random set of
   * machines is sampled ... If the number of messages in the queue is small (fewer than 1,000),
   * you most likely get fewer messages than you requested ... If the number of messages in the
   * queue is extremely small, you might not receive any messages in a particular ReceiveMessage
   * response." Silent: the probabilities (header).
   */
  private shortPollPick(visible: StoredMessage[], max: number): StoredMessage[] {
    if (visible.length === 0 || this.rng() < this.p.shortPollEmpty) return [];
    const sampled = visible.filter(() => this.rng() < this.p.shortPollSample);
    return this.shuffle(sampled).slice(0, max);
  }

  /**
   * best-practices-setting-up-long-polling.html: long polling eliminates "false empty responses
   * (when messages are available but aren't included in a response)"; examples-sqs-long-polling
   * (SDK for C++ guide): short polling queries "only a subset of the servers". Long polling sees
   * every visible message; Silent: it returns a random 1..min(max, visible) of them.
   */
  private longPollPick(visible: StoredMessage[], max: number): StoredMessage[] {
    if (visible.length === 0) return [];
    const upTo = Math.min(max, visible.length);
    const count = 1 + Math.floor(this.rng() * upTo);
    return this.shuffle(visible).slice(0, count);
  }

  /**
   * standard-queues.html: "more than one copy of a message might be delivered, and messages may
   * occasionally arrive out of order" — here a message still in flight is delivered again.
   */
  private inFlightDuplicate(
    queue: Queue,
    chosen: StoredMessage[],
    max: number,
  ): StoredMessage | undefined {
    if (chosen.length >= max || this.rng() >= this.p.inFlightDuplicate) return undefined;
    const inFlight = [...queue.messages.values()].filter((m) => m.hidden === "inflight");
    if (inFlight.length === 0) return undefined;
    return inFlight[Math.floor(this.rng() * inFlight.length)];
  }

  private deliver(
    queue: Queue,
    message: StoredMessage,
    visibilitySeconds: number,
    systemNames: ReadonlySet<string>,
    attributeNames: readonly string[],
  ): Output {
    const t = this.clock.now();
    // API_ReceiveMessage.html: "The parameter is applied to the messages that Amazon SQS returns
    // in the response. If you don't include the parameter, the overall visibility timeout for
    // the queue is used for the returned messages."
    message.hidden = "inflight";
    message.hiddenUntil = t + visibilitySeconds * 1000;
    message.receiveCount += 1;
    message.firstReceivedAt ??= t;
    message.lastReceivedAt = t;
    // Message.ReceiptHandle: "A new receipt handle is returned every time you receive a message."
    const handle = this.newHandle(queue, message);
    message.latestHandle = handle;
    const out: Output = {
      MessageId: message.messageId,
      ReceiptHandle: handle,
      MD5OfBody: message.md5OfBody,
      Body: message.body,
    };
    const system = this.systemAttributes(message, systemNames);
    if (system !== undefined) out.Attributes = system;
    const attributes = selectAttributes(message.attributes, attributeNames);
    if (attributes !== undefined) {
      out.MessageAttributes = attributes;
      out.MD5OfMessageAttributes = md5OfAttributes(attributes);
    }
    return out;
  }

  /** API_ReceiveMessage.html MessageSystemAttributeNames: the attributes and "All". */
  private systemAttributes(
    message: StoredMessage,
    names: ReadonlySet<string>,
  ): Record<string, string> | undefined {
    if (names.size === 0) return undefined;
    const all = names.has("All");
    const values: Record<string, string> = {
      SenderId: this.accountId,
      SentTimestamp: String(message.sentAt),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
    };
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(values)) {
      if (all || names.has(name)) out[name] = value;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }

  // --- DeleteMessage ---

  private deleteMessage(input: Input): Output {
    const queue = this.queueOf(input);
    const handle = requiredString(input, "ReceiptHandle");
    const error = this.deleteByHandle(queue, handle);
    if (error !== undefined) throw error;
    return {};
  }

  private deleteMessageBatch(input: Input): Output {
    const queue = this.queueOf(input);
    const entries = batchEntries(input, "DeleteMessageBatchRequestEntry");
    const successful: Output[] = [];
    const failed: BatchFailure[] = [];
    for (const entry of entries) {
      const id = stringField(entry, "Id") ?? "";
      const handle = stringField(entry, "ReceiptHandle");
      const error =
        handle === undefined
          ? sqsErrors.missingParameter("ReceiptHandle")
          : this.transientEntryFailure()
            ? "transient"
            : this.deleteByHandle(queue, handle);
      if (error === "transient") failed.push(internalEntryFailure(id));
      else if (error !== undefined) failed.push(entryFailure(id, error));
      else successful.push({ Id: id });
    }
    return batchResult(successful, failed);
  }

  /** The effect of one delete; an error for a handle this queue never issued. */
  private deleteByHandle(queue: Queue, handle: string): SQSServiceException | undefined {
    const messageId = queue.handles.get(handle);
    if (messageId === undefined) return sqsErrors.receiptHandleIsInvalid(handle);
    const message = queue.messages.get(messageId);
    // API_DeleteMessage.html: "If you use an old ReceiptHandle, the request will succeed, but the
    // message might not be deleted." A deleted message's handle is old too: success, no effect.
    if (message === undefined) return undefined;
    if (message.latestHandle !== handle && this.rng() >= this.p.oldHandleDeletes) return undefined;
    // API_DeleteMessage.html: "Amazon SQS can delete a message from a queue even if a visibility
    // timeout setting causes the message to be locked by another consumer."
    // standard-queues-at-least-once-delivery.html: "On rare occasions, one of the servers that
    // stores a copy of a message might be unavailable when you receive or delete a message. If
    // this occurs, the copy of the message isn't deleted on that server, and you might get that
    // message copy again when you receive messages."
    if (this.rng() < this.p.deleteLeavesCopy) return undefined;
    queue.messages.delete(messageId);
    this.recordCounts(queue);
    return undefined;
  }

  // --- ChangeMessageVisibility ---

  private changeMessageVisibility(input: Input): Output {
    const queue = this.queueOf(input);
    const handle = requiredString(input, "ReceiptHandle");
    const seconds = input.VisibilityTimeout;
    if (typeof seconds !== "number") throw sqsErrors.missingParameter("VisibilityTimeout");
    const error = this.changeByHandle(queue, handle, seconds);
    if (error !== undefined) throw error;
    return {};
  }

  private changeMessageVisibilityBatch(input: Input): Output {
    const queue = this.queueOf(input);
    const entries = batchEntries(input, "ChangeMessageVisibilityBatchRequestEntry");
    const successful: Output[] = [];
    const failed: BatchFailure[] = [];
    for (const entry of entries) {
      const id = stringField(entry, "Id") ?? "";
      const handle = stringField(entry, "ReceiptHandle");
      const seconds = entry.VisibilityTimeout;
      let error: SQSServiceException | "transient" | undefined;
      if (handle === undefined) error = sqsErrors.missingParameter("ReceiptHandle");
      else if (typeof seconds !== "number") error = sqsErrors.missingParameter("VisibilityTimeout");
      else if (this.transientEntryFailure()) error = "transient";
      else error = this.changeByHandle(queue, handle, seconds);
      if (error === "transient") failed.push(internalEntryFailure(id));
      else if (error !== undefined) failed.push(entryFailure(id, error));
      else successful.push({ Id: id });
    }
    return batchResult(successful, failed);
  }

  private changeByHandle(
    queue: Queue,
    handle: string,
    seconds: number,
  ): SQSServiceException | undefined {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > maxVisibilitySeconds) {
      return sqsErrors.invalidParameterValue(
        `Value ${String(seconds)} for parameter VisibilityTimeout is invalid. ` +
          "Reason: Must be between 0 and 43200, if provided.",
      );
    }
    const messageId = queue.handles.get(handle);
    if (messageId === undefined) return sqsErrors.receiptHandleIsInvalid(handle);
    const message = queue.messages.get(messageId);
    if (message?.latestHandle !== handle) {
      // Reported by users of AWS (mapbox/ecs-watchbot#135, vmihailenco/taskq#29) for a handle of
      // a message deleted or received again since: "Value ... for parameter ReceiptHandle is
      // invalid. Reason: Message does not exist or is not available for visibility timeout
      // change."
      return sqsErrors.invalidParameterValue(
        `Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not ` +
          "exist or is not available for visibility timeout change.",
      );
    }
    // Unconfirmed (header): the latest handle of a message no longer in flight: OK, no effect.
    if (message.hidden !== "inflight") return undefined;
    const t = this.clock.now();
    const receivedAt = message.lastReceivedAt ?? t;
    // API_ChangeMessageVisibility.html: "If you attempt to set the VisibilityTimeout to a value
    // greater than the maximum time left, Amazon SQS returns an error."
    if (t - receivedAt + seconds * 1000 > maxVisibilitySeconds * 1000) {
      return sqsErrors.invalidParameterValue(
        `Value ${String(seconds)} for parameter VisibilityTimeout is invalid. Reason: Total ` +
          "VisibilityTimeout for the message is beyond the limit [43200 seconds]",
      );
    }
    // API_ChangeMessageVisibility.html: "the 10 seconds begin to count from the time that you
    // make the ChangeMessageVisibility call". 0 ends the timeout now (the message is visible).
    message.hiddenUntil = t + seconds * 1000;
    if (seconds === 0) message.hidden = undefined;
    this.recordCounts(queue);
    return undefined;
  }

  // --- GetQueueAttributes ---

  private getQueueAttributes(input: Input): Output {
    const queue = this.queueOf(input);
    const names = stringArray(input.AttributeNames);
    // API_GetQueueAttributes.html: "if you don't specify values for this parameter, the request
    // returns empty results."
    if (names.length === 0) return {};
    const values = this.queueAttributeValues(queue);
    const out: Record<string, string> = {};
    for (const name of names) {
      if (name === "All") {
        Object.assign(out, values);
      } else if (name in values) {
        out[name] = values[name] ?? "";
      } else if (!knownQueueAttributes.has(name)) {
        throw sqsErrors.invalidAttributeName(name);
      }
    }
    return Object.keys(out).length === 0 ? {} : { Attributes: out };
  }

  private queueAttributeValues(queue: Queue): Record<string, string> {
    const counts = this.staleCounts(queue);
    return {
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.notVisible),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      DelaySeconds: "0",
      MaximumMessageSize: String(maxMessageBytes),
      MessageRetentionPeriod: String(queue.retentionSeconds),
      QueueArn: queue.arn,
      ReceiveMessageWaitTimeSeconds: "0",
      VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
      SqsManagedSseEnabled: "true",
    };
  }

  /** Silent (header): the counts as they were at a random moment of the last 60 s. */
  private staleCounts(queue: Queue): Counts {
    const t = this.clock.now();
    const at = t - Math.floor(this.rng() * countsStalenessMs);
    let chosen = queue.countsHistory[0];
    for (const counts of queue.countsHistory) {
      if (counts.at <= at) chosen = counts;
    }
    return chosen ?? { at, visible: 0, notVisible: 0, delayed: 0 };
  }

  // --- PurgeQueue ---

  private purgeQueue(input: Input): Output {
    const queue = this.queueOf(input);
    const t = this.clock.now();
    if (queue.purgeStartedAt !== undefined) throw sqsErrors.purgeQueueInProgress(queue.name);
    queue.purgeStartedAt = t;
    // API_PurgeQueue.html: "Deletes available messages in a queue (including in-flight
    // messages)"; "Messages sent to the queue before you call PurgeQueue might be received but
    // are deleted within the next minute."
    for (const message of queue.messages.values()) {
      message.purgeAt = t + Math.floor(this.rng() * purgeMs);
    }
    return {};
  }

  // --- helpers using the rng ---

  private transientEntryFailure(): boolean {
    return this.rng() < this.p.batchEntryFailure;
  }

  private shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.rng() * (i + 1));
      const a = out[i];
      const b = out[j];
      if (a !== undefined && b !== undefined) {
        out[i] = b;
        out[j] = a;
      }
    }
    return out;
  }

  private uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.rng() * 16).toString(16));
    hex[12] = "4";
    hex[16] = (Math.floor(this.rng() * 4) + 8).toString(16);
    const s = hex.join("");
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  private newHandle(queue: Queue, message: StoredMessage): string {
    this.handleSeq += 1;
    const raw = `${queue.name}/${message.messageId}/${String(this.handleSeq)}/${String(this.rng())}`;
    const handle = `AQEB${Buffer.from(raw, "utf8").toString("base64")}`;
    queue.handles.set(handle, message.messageId);
    return handle;
  }
}

// --- faults ---

const modeledCommands = new Set([
  "SendMessage",
  "SendMessageBatch",
  "ReceiveMessage",
  "DeleteMessage",
  "DeleteMessageBatch",
  "ChangeMessageVisibility",
  "ChangeMessageVisibilityBatch",
  "GetQueueAttributes",
  "PurgeQueue",
]);

const commonErrorsUrl =
  "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html";

/**
 * RequestThrottled: every modeled action's API page lists it ("The request was denied due to
 * request throttling ... Exceeds the permitted request rate for the queue"), status 403 per the
 * SDK's model. CommonErrors.html: "InternalFailure ... HTTP Status Code: 500"; Unconfirmed: the
 * same list's ServiceUnavailable (503) and ThrottlingException (400), common to AWS services.
 */
function sqsFaults(command: string): readonly DocumentedFault[] {
  return [
    {
      name: "RequestThrottled",
      httpStatusCode: 403,
      source: `https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_${command}.html`,
      error: () => sqsErrors.requestThrottled(),
    },
    ...commonFaults,
  ];
}

const commonFaults: readonly DocumentedFault[] = [
  {
    name: "ThrottlingException",
    httpStatusCode: 400,
    source: commonErrorsUrl,
    error: () => unmodeledError("ThrottlingException", 400, "Rate exceeded"),
  },
  {
    name: "InternalFailure",
    httpStatusCode: 500,
    source: commonErrorsUrl,
    error: () =>
      unmodeledError(
        "InternalFailure",
        500,
        "The request processing has failed because of an unknown error, exception or failure.",
      ),
  },
  {
    name: "ServiceUnavailable",
    httpStatusCode: 503,
    source: commonErrorsUrl,
    error: () =>
      unmodeledError(
        "ServiceUnavailable",
        503,
        "The request has failed due to a temporary failure of the server.",
      ),
  },
];

// --- pure helpers ---

function now(finish: () => Output): ModelOperation {
  return { durationMs: 0, finish };
}

/** A parameter's value as an error message shows it. */
function display(value: unknown): string {
  return typeof value === "number" || typeof value === "string"
    ? String(value)
    : JSON.stringify(value);
}

function earliest(a: number | undefined, b: number): number {
  return a === undefined || b < a ? b : a;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringField(record: Input, key: string): string | undefined {
  const value = record[key];
  return typeof value === "string" ? value : undefined;
}

function requiredString(record: Input, key: string): string {
  const value = stringField(record, key);
  if (value === undefined) throw sqsErrors.missingParameter(key);
  return value;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function optionalInteger(
  input: Input,
  key: string,
  min: number,
  max: number,
  reason: string,
): number | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw sqsErrors.invalidParameterValue(
      `Value ${display(value)} for parameter ${key} is invalid. Reason: ${reason}`,
    );
  }
  return value;
}

function requestedNames(input: Input, ...keys: string[]): Set<string> {
  return new Set(keys.flatMap((key) => stringArray(input[key])));
}

/**
 * API_*Batch.html: "up to ten" entries; the Ids "need to be unique within a request" and "can
 * have up to 80 characters. The following characters are accepted: alphanumeric characters,
 * hyphens(-), and underscores (_)."
 */
function batchEntries(input: Input, entryType: string): Input[] {
  const raw = input.Entries;
  const entries = Array.isArray(raw) ? raw.filter(isRecord) : [];
  if (entries.length === 0) throw sqsErrors.emptyBatchRequest(entryType);
  if (entries.length > maxBatchEntries) throw sqsErrors.tooManyEntries(entries.length);
  const seen = new Set<string>();
  for (const entry of entries) {
    const id = stringField(entry, "Id");
    if (id === undefined || !/^[A-Za-z0-9_-]{1,80}$/.test(id))
      throw sqsErrors.invalidBatchEntryId();
    if (seen.has(id)) throw sqsErrors.batchEntryIdsNotDistinct(id);
    seen.add(id);
  }
  return entries;
}

function entryFailure(id: string, error: Error): BatchFailure {
  const code = "Code" in error && typeof error.Code === "string" ? error.Code : error.name;
  return { Id: id, SenderFault: true, Code: code, Message: error.message };
}

/** Silent (header): a batch entry that fails on the service's side. */
function internalEntryFailure(id: string): BatchFailure {
  return {
    Id: id,
    SenderFault: false,
    Code: "InternalError",
    Message: "We encountered an internal error. Please try again.",
  };
}

function batchResult(successful: Output[], failed: BatchFailure[]): Output {
  const out: Output = {};
  if (successful.length > 0) out.Successful = successful;
  if (failed.length > 0) out.Failed = failed;
  return out;
}

interface SendEntry {
  readonly body: string;
  readonly attributes: Record<string, SqsMessageAttribute>;
  readonly delaySeconds: number;
  readonly size: number;
}

/** Validates one message as SendMessage does; returns the error rather than throwing it. */
function parseSendEntry(input: Input): SendEntry | SQSServiceException {
  const body = input.MessageBody;
  if (typeof body !== "string") return sqsErrors.missingParameter("MessageBody");
  // API_SendMessage.html MessageBody: "The minimum size is one character."
  if (body.length === 0) {
    return sqsErrors.invalidParameterValue(
      "Value for parameter MessageBody is invalid. Reason: Empty message.",
    );
  }
  const invalid = firstInvalidCharacter(body);
  if (invalid !== undefined) {
    // API_SendMessage.html: "If a message contains characters outside the allowed set, Amazon
    // SQS rejects the message and returns an InvalidMessageContents error."
    return sqsErrors.invalidMessageContents(
      `Invalid binary character '#x${invalid.toString(16).toUpperCase()}' was found in the ` +
        "message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | " +
        "#xE000 to #xFFFD | #x10000 to #x10FFFF",
    );
  }
  const attributes = parseAttributes(input.MessageAttributes);
  if (attributes instanceof Error) return attributes;
  const delay = input.DelaySeconds ?? 0;
  if (
    typeof delay !== "number" ||
    !Number.isInteger(delay) ||
    delay < 0 ||
    delay > maxDelaySeconds
  ) {
    return sqsErrors.invalidParameterValue(
      `Value ${display(delay)} for parameter DelaySeconds is invalid. ` +
        "Reason: DelaySeconds must be >= 0 and <= 900.",
    );
  }
  const size = Buffer.byteLength(body, "utf8") + attributesSize(attributes);
  if (size > maxMessageBytes) {
    return sqsErrors.invalidParameterValue(
      `One or more parameters are invalid. Reason: Message must be shorter than ${String(maxMessageBytes)} bytes.`,
    );
  }
  return { body, attributes, delaySeconds: delay, size };
}

/** API_SendMessage.html: "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF". */
const disallowedCharacter = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function firstInvalidCharacter(text: string): number | undefined {
  const match = disallowedCharacter.exec(text);
  return match === null ? undefined : match[0].codePointAt(0);
}

/**
 * MessageAttributeValue: "Amazon SQS supports the following logical data types: String, Number,
 * and Binary. For the Number data type, you must use StringValue"; "Name, type, value and the
 * message body must not be empty or null". sqs-message-metadata.html: up to 10 attributes.
 */
function parseAttributes(raw: unknown): Record<string, SqsMessageAttribute> | SQSServiceException {
  const out: Record<string, SqsMessageAttribute> = {};
  if (raw === undefined) return out;
  if (!isRecord(raw)) return sqsErrors.invalidParameterValue("MessageAttributes must be a map.");
  const names = Object.keys(raw);
  if (names.length > maxMessageAttributes) {
    return sqsErrors.invalidParameterValue(
      `Number of message attributes [${String(names.length)}] exceeds the allowed maximum [10].`,
    );
  }
  for (const name of names) {
    const value = raw[name];
    const parsed = isRecord(value) ? parseAttribute(name, value) : undefined;
    if (parsed === undefined) {
      return sqsErrors.invalidParameterValue(
        `The message attribute '${name}' must contain non-empty message attribute value.`,
      );
    }
    if (parsed instanceof Error) return parsed;
    out[name] = parsed;
  }
  return out;
}

function parseAttribute(
  name: string,
  value: Input,
): SqsMessageAttribute | SQSServiceException | undefined {
  const dataType = stringField(value, "DataType");
  const base = dataType?.split(".")[0];
  if (dataType === undefined || (base !== "String" && base !== "Number" && base !== "Binary")) {
    return sqsErrors.invalidParameterValue(
      `The message attribute '${name}' has an invalid message attribute type, the set of ` +
        "supported type prefixes is Binary, Number, and String.",
    );
  }
  if (base === "Binary") {
    const binary = value.BinaryValue;
    return binary instanceof Uint8Array && binary.length > 0
      ? { DataType: dataType, BinaryValue: binary }
      : undefined;
  }
  const text = stringField(value, "StringValue");
  return text === undefined || text.length === 0
    ? undefined
    : { DataType: dataType, StringValue: text };
}

function attributesSize(attributes: Readonly<Record<string, SqsMessageAttribute>>): number {
  let size = 0;
  for (const [name, a] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, "utf8") + Buffer.byteLength(a.DataType, "utf8");
    size += a.BinaryValue?.length ?? Buffer.byteLength(a.StringValue ?? "", "utf8");
  }
  return size;
}

/**
 * API_ReceiveMessage.html MessageAttributeNames: "you can return all of the attributes by
 * specifying All or .* in your request. You can also use all message attributes starting with a
 * prefix, for example bar.*."
 */
function selectAttributes(
  attributes: Readonly<Record<string, SqsMessageAttribute>>,
  names: readonly string[],
): Record<string, SqsMessageAttribute> | undefined {
  const out: Record<string, SqsMessageAttribute> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const wanted = names.some(
      (n) =>
        n === "All" ||
        n === ".*" ||
        n === name ||
        (n.endsWith(".*") && name.startsWith(n.slice(0, -1))),
    );
    if (wanted) out[name] = { ...value };
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function viewAttributes(
  attributes: Readonly<Record<string, SqsMessageAttribute>>,
): Record<string, { DataType: string; StringValue?: string }> {
  const out: Record<string, { DataType: string; StringValue?: string }> = {};
  for (const [name, a] of Object.entries(attributes)) {
    out[name] =
      a.StringValue === undefined
        ? { DataType: a.DataType }
        : { DataType: a.DataType, StringValue: a.StringValue };
  }
  return out;
}

function sendResult(message: StoredMessage): Output {
  const out: Output = { MD5OfMessageBody: message.md5OfBody, MessageId: message.messageId };
  if (Object.keys(message.attributes).length > 0) {
    out.MD5OfMessageAttributes = md5OfAttributes(message.attributes);
  }
  return out;
}

function md5Hex(data: Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

/**
 * sqs-message-metadata.html, "Calculating the MD5 message digest for message attributes": sort
 * the names; for each, the name, the data type and the value, each "encoded as a 4-byte length
 * followed by" its bytes, with a one-byte transport type (1 for String and Number, 2 for Binary)
 * before the value; the MD5 of the concatenation.
 */
export function md5OfAttributes(attributes: Readonly<Record<string, SqsMessageAttribute>>): string {
  const parts: Buffer[] = [];
  const lengthPrefixed = (bytes: Uint8Array): void => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, Buffer.from(bytes));
  };
  for (const name of Object.keys(attributes).sort()) {
    const a = attributes[name];
    if (a === undefined) continue;
    lengthPrefixed(Buffer.from(name, "utf8"));
    lengthPrefixed(Buffer.from(a.DataType, "utf8"));
    if (a.BinaryValue === undefined) {
      parts.push(Buffer.from([1]));
      lengthPrefixed(Buffer.from(a.StringValue ?? "", "utf8"));
    } else {
      parts.push(Buffer.from([2]));
      lengthPrefixed(a.BinaryValue);
    }
  }
  return md5Hex(Buffer.concat(parts));
}

/** API_GetQueueAttributes.html / QueueAttributeName: names that are valid but unset here. */
const knownQueueAttributes = new Set([
  "All",
  "Policy",
  "RedrivePolicy",
  "RedriveAllowPolicy",
  "KmsMasterKeyId",
  "KmsDataKeyReusePeriodSeconds",
  "FifoQueue",
  "ContentBasedDeduplication",
  "DeduplicationScope",
  "FifoThroughputLimit",
]);
