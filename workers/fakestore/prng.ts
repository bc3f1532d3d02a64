/**
 * Hash-based randomness: every value the shop serves is a pure function of (seed, what, id, day),
 * so any record can be generated on its own, in any order, at any scale, without stored state.
 */

/** murmur3's 32-bit finaliser: a cheap, well-mixed bijection on uint32. */
function fmix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * A uint32 hash of the seed and up to three integer coordinates (each below 2^31 in size).
 * Positional, not an options object: it runs a few million times per large response.
 */
export function hash32(seed: number, a: number, b = 0, c = 0): number {
  let h = fmix32(seed ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(a | 0, 0x27d4eb2d));
  h = fmix32(h ^ Math.imul(b | 0, 0x165667b1));
  h = fmix32(h ^ Math.imul(c | 0, 0x2545f491));
  return h;
}

/** A uniform number in [0, 1) from the same coordinates as `hash32`. */
export function unit(seed: number, a: number, b = 0, c = 0): number {
  return hash32(seed, a, b, c) / 4294967296;
}

/** A small generator (mulberry32) for the many attributes of one record, seeded by a hash. */
export class Stream {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next uniform number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError("Cannot pick from an empty list");
    return item;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}
