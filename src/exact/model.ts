/**
 * The shape every exact latent-variable model shares: a standard-normal prior p(z),
 * a likelihood p(x | z), and their product, the joint (3.1).
 */
import { ArgumentError, assertInteger } from "../errors";
import { LOG_2PI, type Vector, type VectorLike } from "../linalg";
import { Rng } from "../random";
import { MvNormal64 } from "./mvnormal";

export interface LatentVariableModel {
  /** Dimension d of the latent z. */
  readonly latentDim: number;
  /** Dimension D of the data x. */
  readonly dataDim: number;
  /** The prior p(z) (here always N(0, I_d)). */
  readonly prior: MvNormal64;
  /** log p(z). */
  logPrior(z: VectorLike): number;
  /** log p(x | z). */
  logLikelihood(x: VectorLike, z: VectorLike): number;
  /** log p(x, z) = log p(z) + log p(x | z)  (3.1). */
  logJoint(x: VectorLike, z: VectorLike): number;
}

/** Anything with a latent dimension and a log joint: all that quadrature needs. */
export interface JointDensity {
  readonly latentDim: number;
  logJoint(x: VectorLike, z: VectorLike): number;
}

/** Data drawn from a model: latent codes and observations, paired by index. */
export interface ModelSample {
  z: Vector[];
  x: Vector[];
}

/** A model whose likelihood is x | z ~ N(decode(z), σ²I): both exact models are of this kind. */
export interface GaussianDecoderModel {
  readonly latentDim: number;
  readonly dataDim: number;
  readonly noiseStd: number;
  decode(z: VectorLike): Vector;
}

/** Ancestral sampling: z ~ N(0, I), then x = decode(z) + σε. */
export function ancestralSample(model: GaussianDecoderModel, rng: Rng, n: number): ModelSample {
  if (!(rng instanceof Rng)) throw new ArgumentError("rng", "must be an Rng (new Rng(seed))");
  assertInteger("n", n, 0);
  const z: Vector[] = [];
  const x: Vector[] = [];
  for (let k = 0; k < n; k++) {
    const zk = rng.normals(model.latentDim);
    const xk = model.decode(zk);
    for (let i = 0; i < model.dataDim; i++) xk[i] += model.noiseStd * rng.normal();
    z.push(zk);
    x.push(xk);
  }
  return { z, x };
}

/** The q of the estimators and the ELBO: an MvNormal64 over the model's `latentDim` latent dimensions. */
export function checkLatentQ(q: MvNormal64, latentDim: number): void {
  if (!(q instanceof MvNormal64)) throw new ArgumentError("q", "must be an MvNormal64");
  if (q.dim !== latentDim) {
    throw new ArgumentError("q", `shape mismatch: expected a distribution over ${latentDim} latent dimensions, got ${q.dim}`);
  }
}

/** log N(z; 0, I): the prior p(z) of every model here. */
export function logStandardNormal(z: VectorLike): number {
  let s = 0;
  for (let i = 0; i < z.length; i++) s += z[i] * z[i];
  return -0.5 * (z.length * LOG_2PI + s);
}
