/**
 * Seeded float64 randomness for the exact (plain-number) side of the library.
 * Same seed, same stream: every figure and every ledger row is reproducible.
 * Uniforms come from seedrandom's ARC4 generator (the one tfjs uses for its own seeds).
 */
import seedrandom from "seedrandom";
import { assertInteger } from "./errors";

export class Rng {
  private readonly prng: seedrandom.PRNG;
  private spare: number | null = null;

  constructor(readonly seed: number | string) {
    this.prng = seedrandom(String(seed));
  }

  /** Uniform on the open interval (0, 1). */
  uniform(): number {
    let u = this.prng.double();
    while (u === 0) u = this.prng.double();
    return u;
  }

  /** Standard normal, by the Box–Muller transform (pairs cached). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** A vector of `n` independent standard normals. */
  normals(n: number): Float64Array {
    assertInteger("n", n, 0);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }

  /** A child generator with its own stream, derived deterministically from this one. */
  fork(label: string): Rng {
    return new Rng(`${this.seed}/${label}`);
  }

  /** An integer seed for tfjs ops that take one (tf.randomNormal(..., seed)). */
  int32(): number {
    return this.prng.int32();
  }
}

/**
 * A seed as tfjs's random ops should get it. They treat a falsy seed as "no seed" and
 * draw from Math.random, so seed 0 would silently be irreproducible; it maps to 0.5,
 * which no integer seed collides with (tfjs hashes the seed's decimal string).
 */
export function tfjsSeed(seed: number | undefined): number | undefined {
  return seed === 0 ? 0.5 : seed;
}
