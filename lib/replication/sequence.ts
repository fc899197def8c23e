/**
 * Ordering of changes to one key. S3 `sequencer` values are hex strings of varying length:
 * right-pad the shorter with '0' and compare as hex (meaningful for the same key only).
 * DynamoDB stream `SequenceNumber`s are decimal strings: compare as integers.
 */

/** Metadata key (without `x-amz-meta-`) holding the applied S3 sequencer on a replica object. */
export const OBJECT_SEQUENCE_METADATA = "replication-sequencer";

/** Metadata key holding the fingerprint of the source state a replica object was copied from. */
export const OBJECT_SOURCE_METADATA = "replication-source";

/** Attribute holding the applied stream sequence number on a replica item. */
export const ITEM_SEQUENCE_ATTRIBUTE = "_replicationSequence";

/** Attribute holding the masking version a masked replica item was written under. */
export const ITEM_MASKING_ATTRIBUTE = "_replicationMasking";

/** Metadata key holding the masking version a masked replica object was written under. */
export const OBJECT_MASKING_METADATA = "replication-masking";

const HEX = /^[0-9A-Fa-f]+$/;
const DECIMAL = /^[0-9]+$/;

export function isS3Sequencer(value: string): boolean {
  return HEX.test(value);
}

export function isStreamSequence(value: string): boolean {
  return DECIMAL.test(value);
}

/** Negative when `a` is older than `b`, zero when equal, positive when newer. */
export function compareS3Sequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const left = BigInt(`0x${a.padEnd(width, "0")}`);
  const right = BigInt(`0x${b.padEnd(width, "0")}`);
  return left === right ? 0 : left < right ? -1 : 1;
}

/** Width of the zero-padded stream sequence stored on items, so string order is numeric order. */
export const STREAM_SEQUENCE_WIDTH = 48;

/**
 * A stream sequence number as a fixed-width decimal string: DynamoDB numbers hold only 38
 * digits, so the item attribute is a string that compares in numeric order.
 */
export function paddedStreamSequence(sequence: string): string {
  return BigInt(sequence).toString().padStart(STREAM_SEQUENCE_WIDTH, "0");
}
