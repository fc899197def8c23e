/**
 * The simulation's only source of randomness: a seeded generator (sfc32, a small fast counter
 * generator), so that a run is reproducible from its seed. Every model and the scheduler draw
 * from their own stream, split off the run's seed by a label, so that a change in how often one
 * of them draws does not shift the others' choices.
 */
import type { Rng } from "./model/types";

/** 32-bit FNV-1a of a text: a label's contribution to a stream's seed. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A generator of numbers in [0, 1) from a seed and a label. */
export function seededRng(seed: number, label = ""): Rng {
  let a = seed >>> 0;
  let b = hash(label);
  let c = 0x9e3779b9;
  let d = (seed ^ 0x6a09e667) >>> 0;
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  // Warm up: the first outputs of a counter generator are close to its seed.
  for (let i = 0; i < 12; i++) next();
  return () => next() / 4294967296;
}

/** A uniform integer in [0, bound). */
export const below = (rng: Rng, bound: number): number =>
  Math.min(bound - 1, Math.floor(rng() * bound));

/** True with the given probability. */
export const chance = (rng: Rng, probability: number): boolean => rng() < probability;
