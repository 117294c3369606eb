/**
 * The linear-Gaussian latent-variable model (probabilistic PCA, Tipping & Bishop 1999):
 *
 *     z ~ N(0, I_d),    x | z ~ N(W z + b, σ² I_D).
 *
 * Everything the article talks about has a closed form here — the marginal p(x) (3.2),
 * the posterior p(z | x) (4.1), the ELBO of any Gaussian q (5.5)/(5.9) and
 * KL(q ‖ p(z | x)) (5.10) — so every identity can be checked to float64 precision.
 */
import { Matrix } from "ml-matrix";
import { ArgumentError, assertInteger, assertNonEmpty, assertOptions, assertPositive, assertVector } from "../errors";
import { flatten, inverseSpd, LOG_2PI, type MatrixLike, symmetricEigen, symmetrize, toMatrix, toVector, trace, type Vector, type VectorLike } from "../linalg";
import { Rng } from "../random";
import { ancestralSample, checkLatentQ, type LatentVariableModel, logStandardNormal, type ModelSample } from "./model";
import { klMvNormal, MvNormal64 } from "./mvnormal";

/** Parameters of a linear-Gaussian model. */
export interface LinearGaussianParams {
  /** Loading matrix W, D×d. */
  W: MatrixLike;
  /** Offset b, length D. */
  b: VectorLike;
  /** Observation noise standard deviation σ > 0. */
  noiseStd: number;
}

/** Options of {@link LinearGaussian.fitGradientAscent}. */
export interface GradientAscentOptions {
  /** Maximum number of gradient steps (default 2000). */
  steps?: number;
  /** Initial step size η (default 0.05; adapted: halved on a step that would lower ℓ, ×1.1 otherwise). */
  learningRate?: number;
  /** Stop when ‖∇ℓ‖ falls below this (default 1e-8). */
  tolerance?: number;
  /** Seed for the random initial W (default 0). */
  seed?: number;
  /** Called after every step with the step index and the average log-likelihood before the update. */
  onStep?: (step: number, averageLogLikelihood: number, model: LinearGaussian) => void;
}

/** Result of {@link LinearGaussian.fitGradientAscent}. */
export interface GradientAscentResult {
  model: LinearGaussian;
  /** Average log-likelihood (1/N) Σ log p(x_i) before each step, plus the final value (never decreasing). */
  trace: number[];
}

export class LinearGaussian implements LatentVariableModel {
  readonly latentDim: number;
  readonly dataDim: number;
  /** W, D×d. */
  readonly W: Matrix;
  /** b, length D. */
  readonly b: Vector;
  /** σ. */
  readonly noiseStd: number;
  readonly prior: MvNormal64;
  private readonly w: Float64Array;
  private readonly logNoiseNormalizer: number;
  private readonly invVar: number;
  private marginalCache: MvNormal64 | null = null;

  constructor(params: LinearGaussianParams) {
    if (params === null || typeof params !== "object") throw new ArgumentError("params", "must be {W, b, noiseStd}");
    this.W = toMatrix("W", params.W);
    this.dataDim = this.W.rows;
    this.latentDim = this.W.columns;
    this.b = toVector("b", params.b, this.dataDim);
    assertPositive("noiseStd", params.noiseStd);
    this.noiseStd = params.noiseStd;
    this.prior = MvNormal64.standard(this.latentDim);
    this.w = flatten(this.W);
    this.invVar = 1 / (this.noiseStd * this.noiseStd);
    this.logNoiseNormalizer = -0.5 * this.dataDim * (LOG_2PI + 2 * Math.log(this.noiseStd));
  }

  /**
   * A random model from `seed`: W_ij ~ N(0, 1), b_i ~ N(0, 1), σ = `noiseStd` (default 0.5).
   * Same seed and shape, same model.
   */
  static random(seed: number, options: { latentDim: number; dataDim: number; noiseStd?: number }): LinearGaussian {
    assertOptions("options", options, "{latentDim, dataDim, noiseStd?}");
    const { latentDim, dataDim } = options;
    assertInteger("latentDim", latentDim, 1);
    assertInteger("dataDim", dataDim, 1);
    const noiseStd = options.noiseStd ?? 0.5;
    assertPositive("noiseStd", noiseStd);
    const rng = new Rng(seed).fork("LinearGaussian.random");
    const W = new Matrix(dataDim, latentDim);
    for (let i = 0; i < dataDim; i++) for (let j = 0; j < latentDim; j++) W.set(i, j, rng.normal());
    return new LinearGaussian({ W, b: rng.normals(dataDim), noiseStd });
  }

  /** The decoder mean W z + b. */
  decode(z: VectorLike): Vector {
    assertVector("z", z, this.latentDim);
    const out = Float64Array.from(this.b);
    const d = this.latentDim;
    for (let i = 0; i < this.dataDim; i++) for (let j = 0; j < d; j++) out[i] += this.w[i * d + j] * z[j];
    return out;
  }

  /** log p(z) = log N(z; 0, I). */
  logPrior(z: VectorLike): number {
    assertVector("z", z, this.latentDim);
    return logStandardNormal(z);
  }

  /** log p(x | z) = log N(x; W z + b, σ² I). */
  logLikelihood(x: VectorLike, z: VectorLike): number {
    assertVector("x", x, this.dataDim);
    assertVector("z", z, this.latentDim);
    const d = this.latentDim;
    let s = 0;
    for (let i = 0; i < this.dataDim; i++) {
      let r = x[i] - this.b[i];
      for (let j = 0; j < d; j++) r -= this.w[i * d + j] * z[j];
      s += r * r;
    }
    return this.logNoiseNormalizer - 0.5 * this.invVar * s;
  }

  /** log p(x, z) = log p(z) + log p(x | z)  (3.1). */
  logJoint(x: VectorLike, z: VectorLike): number {
    return this.logPrior(z) + this.logLikelihood(x, z);
  }

  /** ∇_z log p(x | z) = Wᵀ (x − W z − b) / σ². */
  gradLogLikelihood(x: VectorLike, z: VectorLike): Vector {
    assertVector("x", x, this.dataDim);
    assertVector("z", z, this.latentDim);
    const d = this.latentDim;
    const g = new Float64Array(d);
    for (let i = 0; i < this.dataDim; i++) {
      let r = x[i] - this.b[i];
      for (let j = 0; j < d; j++) r -= this.w[i * d + j] * z[j];
      for (let j = 0; j < d; j++) g[j] += this.w[i * d + j] * r * this.invVar;
    }
    return g;
  }

  /**
   * The joint of the stacked vector [x; z] as one Gaussian:
   * mean [b; 0], covariance [[W Wᵀ + σ² I, W], [Wᵀ, I]].
   */
  jointDistribution(): MvNormal64 {
    const D = this.dataDim;
    const d = this.latentDim;
    const cov = new Matrix(D + d, D + d);
    const C = this.marginalCovariance();
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) cov.set(i, j, C.get(i, j));
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < d; j++) {
        cov.set(i, D + j, this.W.get(i, j));
        cov.set(D + j, i, this.W.get(i, j));
      }
    }
    for (let j = 0; j < d; j++) cov.set(D + j, D + j, 1);
    const mean = new Float64Array(D + d);
    mean.set(this.b, 0);
    return new MvNormal64(mean, cov);
  }

  /** C = W Wᵀ + σ² I, the covariance of the marginal p(x). */
  marginalCovariance(): Matrix {
    const C = this.W.mmul(this.W.transpose());
    for (let i = 0; i < this.dataDim; i++) C.set(i, i, C.get(i, i) + this.noiseStd * this.noiseStd);
    return symmetrize(C);
  }

  /** The marginal p(x) = ∫ p(z) p(x | z) dz = N(b, W Wᵀ + σ² I)  (3.2). */
  marginal(): MvNormal64 {
    if (!this.marginalCache) this.marginalCache = new MvNormal64(this.b, this.marginalCovariance());
    return this.marginalCache;
  }

  /** log p(x), exactly. */
  logMarginal(x: VectorLike): number {
    assertVector("x", x, this.dataDim);
    return this.marginal().logProb(x);
  }

  /** Σ_i log p(x_i): the maximum-likelihood objective (3.3). */
  logLikelihoodOf(data: VectorLike[]): number {
    if (!Array.isArray(data)) throw new ArgumentError("data", "must be an array of vectors");
    assertNonEmpty("data", data);
    let s = 0;
    data.forEach((x, i) => {
      if (x.length !== this.dataDim) {
        throw new ArgumentError("data", `shape mismatch: row ${i} has length ${x.length}, expected ${this.dataDim}`);
      }
      s += this.logMarginal(x);
    });
    return s;
  }

  /**
   * The exact posterior p(z | x) = N(M⁻¹ Wᵀ (x − b), σ² M⁻¹) with M = Wᵀ W + σ² I  (4.1).
   */
  posterior(x: VectorLike): MvNormal64 {
    assertVector("x", x, this.dataDim);
    const s2 = this.noiseStd * this.noiseStd;
    const M = this.W.transpose().mmul(this.W);
    for (let i = 0; i < this.latentDim; i++) M.set(i, i, M.get(i, i) + s2);
    const Minv = inverseSpd(symmetrize(M));
    const r = new Float64Array(this.dataDim);
    for (let i = 0; i < this.dataDim; i++) r[i] = x[i] - this.b[i];
    const Wtr = this.W.transpose().mmul(Matrix.columnVector(Array.from(r)));
    const mean = Minv.mmul(Wtr).getColumn(0);
    return new MvNormal64(mean, symmetrize(Minv.mul(s2)));
  }

  /**
   * The reconstruction term E_q[log p(x | z)] in closed form, for Gaussian q = N(m, S):
   * −(D/2) log(2πσ²) − [‖x − W m − b‖² + tr(W S Wᵀ)] / (2σ²).
   */
  reconstructionTerm(x: VectorLike, q: MvNormal64): number {
    assertVector("x", x, this.dataDim);
    checkLatentQ(q, this.latentDim);
    const r = this.decode(q.mean);
    let s = 0;
    for (let i = 0; i < this.dataDim; i++) s += (x[i] - r[i]) ** 2;
    const tr = trace(this.W.mmul(q.cov).mmul(this.W.transpose()));
    return this.logNoiseNormalizer - 0.5 * this.invVar * (s + tr);
  }

  /** KL(q ‖ p(z)) analytically  (5.8). */
  klToPrior(q: MvNormal64): number {
    checkLatentQ(q, this.latentDim);
    return klMvNormal(q, this.prior);
  }

  /** The ELBO in closed form: E_q[log p(x | z)] − KL(q ‖ p(z))  (5.9). */
  elbo(x: VectorLike, q: MvNormal64): number {
    return this.reconstructionTerm(x, q) - this.klToPrior(q);
  }

  /** KL(q ‖ p(z | x)) analytically; log p(x) = ELBO + this  (5.10). */
  klToPosterior(x: VectorLike, q: MvNormal64): number {
    checkLatentQ(q, this.latentDim);
    return klMvNormal(q, this.posterior(x));
  }

  /** Ancestral sampling: z ~ p(z), then x ~ p(x | z). */
  sample(rng: Rng, n: number): ModelSample {
    return ancestralSample(this, rng, n);
  }

  /**
   * Maximum-likelihood fit in closed form (Tipping & Bishop 1999): b = sample mean,
   * σ² = average of the D − d smallest eigenvalues of the sample covariance S,
   * W = U_d (Λ_d − σ² I)^{1/2} (up to a rotation of the latent space).
   */
  static fitClosedForm(data: VectorLike[], latentDim: number): LinearGaussian {
    const { mean, S, D } = dataMoments(data);
    assertInteger("latentDim", latentDim, 1);
    if (latentDim >= D) throw new ArgumentError("latentDim", `must be smaller than the data dimension ${D}, got ${latentDim}`);
    const { values, vectors } = symmetricEigen(S);
    let s2 = 0;
    for (let j = latentDim; j < D; j++) s2 += values[j];
    s2 /= D - latentDim;
    if (!(s2 > 0)) throw new ArgumentError("data", "has a degenerate sample covariance (no noise left for σ²)");
    const W = new Matrix(D, latentDim);
    for (let j = 0; j < latentDim; j++) {
      const scale = Math.sqrt(Math.max(values[j] - s2, 0));
      for (let i = 0; i < D; i++) W.set(i, j, vectors.get(i, j) * scale);
    }
    return new LinearGaussian({ W, b: mean, noiseStd: Math.sqrt(s2) });
  }

  /**
   * Maximum likelihood by full-batch gradient ascent on the average log-likelihood
   * ℓ = −½[D log 2π + log|C| + tr(C⁻¹ S_b)], C = W Wᵀ + σ² I, S_b = S + (x̄ − b)(x̄ − b)ᵀ,
   * with ∂ℓ/∂W = 2 G W, ∂ℓ/∂ log σ = 2σ² tr G, ∂ℓ/∂b = C⁻¹ (x̄ − b), G = −½(C⁻¹ − C⁻¹ S_b C⁻¹).
   *
   * Plain steps θ ← θ + η ∇ℓ with an adaptive step size: a step that would lower ℓ is
   * rejected and η halved; an accepted step grows η by 10%. So the trace never decreases.
   * Starts from a small random W (seeded), b = 0 and σ = 1; stops early once ‖∇ℓ‖ < `tolerance`
   * or ℓ has stopped changing at float64 resolution.
   */
  static fitGradientAscent(data: VectorLike[], latentDim: number, options: GradientAscentOptions = {}): GradientAscentResult {
    const { mean, S, D } = dataMoments(data);
    assertInteger("latentDim", latentDim, 1);
    const steps = options.steps ?? 2000;
    let lr = options.learningRate ?? 0.05;
    const tolerance = options.tolerance ?? 1e-8;
    assertInteger("steps", steps, 1);
    assertPositive("learningRate", lr);
    if (!(tolerance >= 0)) throw new ArgumentError("tolerance", `must be ≥ 0, got ${tolerance}`);
    const rng = new Rng(options.seed ?? 0).fork("fitGradientAscent");
    // Parameters packed as [W (row-major), b, log σ].
    const nW = D * latentDim;
    let theta = new Float64Array(nW + D + 1);
    for (let i = 0; i < nW; i++) theta[i] = 0.1 * rng.normal();
    const unpack = (t: Float64Array): LinearGaussian =>
      new LinearGaussian({
        W: new Matrix(Array.from({ length: D }, (_, i) => Array.from(t.subarray(i * latentDim, (i + 1) * latentDim)))),
        b: t.subarray(nW, nW + D),
        noiseStd: Math.exp(t[nW + D]),
      });
    let model = unpack(theta);
    let current = averageLogLikelihoodAndGradient(model, mean, S);
    const trace: number[] = [];
    let stalled = 0;
    for (let t = 0; t < steps; t++) {
      trace.push(current.value);
      options.onStep?.(t, current.value, model);
      let gradNorm = 0;
      for (const g of current.grad) gradNorm += g * g;
      if (Math.sqrt(gradNorm) < tolerance || stalled >= 20) break;
      const before = current.value;
      // Backtrack until the step does not decrease ℓ (at most 60 halvings).
      for (let tries = 0; tries < 60; tries++) {
        const next = Float64Array.from(theta, (v, i) => v + lr * current.grad[i]);
        let candidate: LinearGaussian | null = null;
        let evaluated: { value: number; grad: Float64Array } | null = null;
        if (next.every(Number.isFinite) && Math.abs(next[nW + D]) < 50) {
          candidate = unpack(next);
          evaluated = averageLogLikelihoodAndGradient(candidate, mean, S);
        }
        if (candidate && evaluated && evaluated.value >= current.value) {
          theta = next;
          model = candidate;
          current = evaluated;
          lr *= 1.1;
          break;
        }
        lr *= 0.5;
      }
      // Converged to float64 resolution: 20 steps in a row that no longer move ℓ.
      stalled = current.value - before <= 1e-15 * Math.abs(before) ? stalled + 1 : 0;
    }
    trace.push(current.value);
    return { model, trace };
  }

  /**
   * Average log-likelihood (1/N) Σ log p(x_i) and its gradient with respect to
   * the packed parameters [W (row-major), b, log σ], from the data's moments.
   */
  averageLogLikelihoodGradient(data: VectorLike[]): { value: number; grad: Float64Array } {
    const { mean, S, D } = dataMoments(data);
    if (D !== this.dataDim) throw new ArgumentError("data", `shape mismatch: rows have length ${D}, expected ${this.dataDim}`);
    return averageLogLikelihoodAndGradient(this, mean, S);
  }
}

/** Sample mean and (1/N) sample covariance, with validation. */
function dataMoments(data: VectorLike[]): { mean: Vector; S: Matrix; D: number; N: number } {
  if (!Array.isArray(data)) throw new ArgumentError("data", "must be an array of vectors");
  assertNonEmpty("data", data);
  const D = data[0].length;
  if (D === 0) throw new ArgumentError("data", "rows must not be empty");
  const N = data.length;
  const mean = new Float64Array(D);
  data.forEach((x, k) => {
    if (x.length !== D) throw new ArgumentError("data", `shape mismatch: row ${k} has length ${x.length}, row 0 has ${D}`);
    for (let i = 0; i < D; i++) {
      if (!Number.isFinite(x[i])) throw new ArgumentError("data", `must contain only finite numbers, got ${x[i]} in row ${k}`);
      mean[i] += x[i] / N;
    }
  });
  const S = new Matrix(D, D);
  for (const x of data) {
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) S.set(i, j, S.get(i, j) + ((x[i] - mean[i]) * (x[j] - mean[j])) / N);
  }
  return { mean, S: symmetrize(S), D, N };
}

function averageLogLikelihoodAndGradient(model: LinearGaussian, xbar: Vector, S: Matrix): { value: number; grad: Float64Array } {
  const D = model.dataDim;
  const d = model.latentDim;
  const s2 = model.noiseStd ** 2;
  const C = model.marginalCovariance();
  const Ci = inverseSpd(C);
  const r = new Float64Array(D);
  for (let i = 0; i < D; i++) r[i] = xbar[i] - model.b[i];
  const Sb = S.clone();
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) Sb.set(i, j, Sb.get(i, j) + r[i] * r[j]);
  const marginal = model.marginal();
  const logDetC = 2 * (marginal.entropy() - 0.5 * D * (1 + LOG_2PI));
  const value = -0.5 * (D * LOG_2PI + logDetC + trace(Ci.mmul(Sb)));
  const G = Ci.clone().sub(Ci.mmul(Sb).mmul(Ci)).mul(-0.5);
  const gW = G.mmul(model.W).mul(2);
  const grad = new Float64Array(D * d + D + 1);
  for (let i = 0; i < D; i++) for (let j = 0; j < d; j++) grad[i * d + j] = gW.get(i, j);
  const gb = Ci.mmul(Matrix.columnVector(Array.from(r))).getColumn(0);
  for (let i = 0; i < D; i++) grad[D * d + i] = gb[i];
  grad[D * d + D] = 2 * s2 * trace(G);
  return { value, grad };
}
