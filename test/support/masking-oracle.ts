/**
 * The masking strategies' outputs computed independently of lib/replication/masking.ts, as the
 * module documents them: HMAC-SHA-256 under the key of the typed input ("S:", "N:", "E:", ...),
 * lower-case RFC 4648 base32 without padding. Tests compare the module's outputs with these.
 */
import { createHmac } from "node:crypto";
import { MASKED_EMAIL_DOMAIN } from "../../lib/replication/masking";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

/** The first `characters` of `bytes` in lower-case base32. */
export function base32(bytes: Buffer, characters: number): string {
  const bits = [...bytes].map((byte) => byte.toString(2).padStart(8, "0")).join("");
  let out = "";
  for (let at = 0; at + 5 <= bits.length && out.length < characters; at += 5) {
    out += ALPHABET.charAt(parseInt(bits.slice(at, at + 5), 2));
  }
  return out;
}

/** The expected outputs under `key`. */
export function maskingOracle(key: Buffer) {
  const hmac = (text: string | Buffer, under: Buffer = key): Buffer =>
    createHmac("sha256", under).update(text).digest();
  return {
    hmac,
    hashed: (value: string): string => `h_${base32(hmac(`S:${value}`), 26)}`,
    emailed: (value: string): string =>
      `u${base32(hmac(`E:${value.trim().toLowerCase()}`), 26)}@${MASKED_EMAIL_DOMAIN}`,
    /** `canonical`: the number as DynamoDB stores it, stated by the test. */
    hashedNumber: (canonical: string): number => hmac(`N:${canonical}`).readUIntBE(0, 6),
  };
}
