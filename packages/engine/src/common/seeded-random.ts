/**
 * A small deterministic PRNG (mulberry32): numbers in [0, 1) from a 32-bit seed. For tools that pick at
 * random but must be replayable from a printed seed (the fuzzer's samples, the chaos suite's victims);
 * never for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
