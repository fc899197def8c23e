/** Unit tests of change ordering (lib/replication/sequence.ts). */
import {
  compareS3Sequencers,
  isS3Sequencer,
  isStreamSequence,
  paddedStreamSequence,
  STREAM_SEQUENCE_WIDTH,
} from "../../lib/replication/sequence";

describe("compareS3Sequencers", () => {
  it("orders equal-length sequencers as hex numbers", () => {
    expect(compareS3Sequencers("0055AED6DCD90281E5", "0055AED6DCD90281E6")).toBeLessThan(0);
    expect(compareS3Sequencers("0055AED6DCD90281F0", "0055AED6DCD90281E6")).toBeGreaterThan(0);
    expect(compareS3Sequencers("0055AED6DCD90281E5", "0055aed6dcd90281e5")).toBe(0);
  });

  it("right-pads the shorter one with zeros before comparing", () => {
    // "1" padded to "1000" is greater than "0FFF", although 0x1 < 0xFFF unpadded.
    expect(compareS3Sequencers("1", "0FFF")).toBeGreaterThan(0);
    expect(compareS3Sequencers("0FFF", "1")).toBeLessThan(0);
    expect(compareS3Sequencers("10", "1000")).toBe(0);
    expect(compareS3Sequencers("0064D3901D00059242", "0064D3901D000592")).toBeGreaterThan(0);
  });

  it("validates the formats", () => {
    expect(isS3Sequencer("0064D3901D00059242")).toBe(true);
    expect(isS3Sequencer("00G1")).toBe(false);
    expect(isS3Sequencer("")).toBe(false);
    expect(isStreamSequence("111111111111111111111")).toBe(true);
    expect(isStreamSequence("12a")).toBe(false);
  });
});

describe("paddedStreamSequence", () => {
  it("gives fixed-width strings whose order is numeric order", () => {
    const small = paddedStreamSequence("999999999999999999999");
    const large = paddedStreamSequence("1000000000000000000000");
    expect(small).toHaveLength(STREAM_SEQUENCE_WIDTH);
    expect(large).toHaveLength(STREAM_SEQUENCE_WIDTH);
    expect(small < large).toBe(true);
  });

  it("normalises leading zeros", () => {
    expect(paddedStreamSequence("0042")).toBe(paddedStreamSequence("42"));
  });
});
