/**
 * The Lambda service in front of a function run by lambda-host.ts, in one import:
 * - lambda-async.ts: an EventBridge rule (pattern, target DLQ) invoking the function
 *   asynchronously, with Lambda's retries and on-success / on-failure destinations;
 * - lambda-stream-mapping.ts: a DynamoDB stream event source mapping (batches, partial batch
 *   responses, bisection, retries, maximum record age, on-failure destination).
 * Wiring: `s3Events.onEvent((event) => rule.put(event))` feeds the rule from
 * s3-event-source.ts; the mapping reads dynamodb-stream.ts through a DynamoDBStreamsClient.
 * Every behaviour is cited in the module that implements it.
 */
export {
  seededRandom,
  startEventBridgeRule,
  type AsyncInvocation,
  type AsyncInvokeSettings,
  type AsyncReport,
  type DeliveryOrder,
  type EventBridgeRule,
  type EventBridgeRuleOptions,
  type Invoker,
} from "./lambda-async";
export {
  mappingProblems,
  MappingConfigError,
  readResponse,
  startStreamEventSourceMapping,
  type BatchOutcome,
  type DiscardedRange,
  type StreamInvocation,
  type StreamMapping,
  type StreamMappingOptions,
  type StreamReport,
} from "./lambda-stream-mapping";
export { sendToQueue, type QueueDestination } from "./lambda-destinations";
