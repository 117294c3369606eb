/**
 * A nonlinear toy latent-variable model with a 1-D or 2-D latent:
 *
 *     z ~ N(0, I_d),    x | z ~ N(f(z), σ² I_D),
 *
 * with a fixed smooth decoder f that is not one-to-one, so the posterior can be
 * bimodal and curved. There is no closed form for p(x) or p(z | x): only quadrature
 * ({@link gridPosterior}) or Monte Carlo.
 *
 * Default decoders (D = 2):
 *   d = 1:  f(z) = (z², sin z)                 — x₁ cannot tell z from −z.
 *   d = 2:  f(z) = (z₁², z₂ + sin z₁)          — two curved modes in z₁.
 */
import { ArgumentError, assertInteger, assertPositive, assertVector } from "../errors";
import { LOG_2PI, type Vector, type VectorLike } from "../linalg";
import type { Rng } from "../random";
import { ancestralSample, type LatentVariableModel, logStandardNormal, type ModelSample } from "./model";
import { MvNormal64 } from "./mvnormal";

export interface NonlinearToyOptions {
  /** 1 or 2 for the default decoders; any d ≥ 1 with a custom `decoder`. */
  latentDim: number;
  /** σ > 0 (default 0.3). */
  noiseStd?: number;
  /** A custom smooth decoder f: R^d → R^D (then `dataDim` is required). */
  decoder?: (z: VectorLike) => VectorLike;
  dataDim?: number;
}

function defaultToyDecoder(latentDim: number): (z: VectorLike) => Vector {
  if (latentDim === 1) return (z) => Float64Array.of(z[0] * z[0], Math.sin(z[0]));
  if (latentDim === 2) return (z) => Float64Array.of(z[0] * z[0], z[1] + Math.sin(z[0]));
  throw new ArgumentError("latentDim", `the default decoder exists for latent dimension 1 or 2, got ${latentDim}`);
}

export class NonlinearToy implements LatentVariableModel {
  readonly latentDim: number;
  readonly dataDim: number;
  readonly noiseStd: number;
  readonly prior: MvNormal64;
  /** The decoder f. */
  readonly decoder: (z: VectorLike) => VectorLike;
  private readonly logNoiseNormalizer: number;

  constructor(options: NonlinearToyOptions) {
    if (options === null || typeof options !== "object") throw new ArgumentError("options", "must be {latentDim, noiseStd?}");
    assertInteger("latentDim", options.latentDim, 1);
    this.latentDim = options.latentDim;
    this.noiseStd = options.noiseStd ?? 0.3;
    assertPositive("noiseStd", this.noiseStd);
    if (options.decoder) {
      if (options.dataDim === undefined) throw new ArgumentError("dataDim", "is required with a custom decoder");
      assertInteger("dataDim", options.dataDim, 1);
      this.decoder = options.decoder;
      this.dataDim = options.dataDim;
    } else {
      this.decoder = defaultToyDecoder(this.latentDim);
      this.dataDim = 2;
    }
    this.prior = MvNormal64.standard(this.latentDim);
    this.logNoiseNormalizer = -0.5 * this.dataDim * (LOG_2PI + 2 * Math.log(this.noiseStd));
  }

  /** f(z). */
  decode(z: VectorLike): Vector {
    assertVector("z", z, this.latentDim);
    const f = this.decoder(z);
    if (f.length !== this.dataDim) throw new ArgumentError("decoder", `returned length ${f.length}, expected ${this.dataDim}`);
    return Float64Array.from(f);
  }

  logPrior(z: VectorLike): number {
    assertVector("z", z, this.latentDim);
    return logStandardNormal(z);
  }

  logLikelihood(x: VectorLike, z: VectorLike): number {
    assertVector("x", x, this.dataDim);
    const f = this.decode(z);
    let s = 0;
    for (let i = 0; i < this.dataDim; i++) s += (x[i] - f[i]) ** 2;
    return this.logNoiseNormalizer - (0.5 * s) / (this.noiseStd * this.noiseStd);
  }

  /** log p(x, z) = log p(z) + log p(x | z)  (3.1). */
  logJoint(x: VectorLike, z: VectorLike): number {
    return this.logPrior(z) + this.logLikelihood(x, z);
  }

  /** Ancestral sampling. */
  sample(rng: Rng, n: number): ModelSample {
    return ancestralSample(this, rng, n);
  }
}
