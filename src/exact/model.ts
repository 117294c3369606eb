/**
 * The shape every exact latent-variable model shares: a standard-normal prior p(z),
 * a likelihood p(x | z), and their product, the joint (3.1).
 */
import { Vector, VectorLike } from "../linalg";
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
