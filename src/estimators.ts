/**
 * Monte Carlo estimators of the article's quantities, each returning an
 * {@link Estimate} with its standard error so every number can carry an error bar.
 *
 * All estimators take a model with a standard-normal prior (any {@link LatentVariableModel}),
 * an observation x, and (where the article has one) a proposal / variational q, plus a seed.
 */
import { ArgumentError, assertFinite, assertInteger, assertVector } from "./errors";
import { checkLatentQ, type LatentVariableModel } from "./exact/model";
import { klMvNormal, MvNormal64 } from "./exact/mvnormal";
// linalg's logMeanExp is the plain number; this module's logMeanExp is the estimate with its error bars.
import { logMeanExp as logOfMeanExp, maxOf, meanAndVariance, type VectorLike } from "./linalg";
import { Rng } from "./random";

/** A Monte Carlo estimate: its value, its standard error, and the number of draws behind it. */
export interface Estimate {
  value: number;
  stdError: number;
  n: number;
}

/** Options shared by the estimators: number of draws and seed. */
export interface SamplingOptions {
  /** Number of Monte Carlo draws (≥ 2 so a standard error exists). */
  n: number;
  /** Seed of the random stream (default 0). */
  seed?: number;
}

/** An estimate of p(x) together with the estimate of log p(x) derived from it. */
export interface MarginalEstimate {
  /** p(x) itself (may underflow to 0 for high-dimensional x; use `log`). */
  marginal: Estimate;
  /** log p(x) = log of the mean, with delta-method SE = SE(mean)/mean. */
  log: Estimate;
  /** Effective sample size (Σw)²/Σw² of the weights. */
  effectiveSampleSize: number;
}

function checkModel(model: LatentVariableModel): void {
  if (model === null || typeof model !== "object" || typeof model.logJoint !== "function") {
    throw new ArgumentError("model", "must be a latent-variable model with logJoint/logLikelihood/logPrior");
  }
}

/** The draws an estimator takes: their number, checked, and its own random stream of the seed. */
function draws(options: SamplingOptions, estimator: string): { n: number; rng: Rng } {
  if (options === null || typeof options !== "object") throw new ArgumentError("options", "must be {n, seed?}");
  assertInteger("n", options.n, 2);
  if (options.seed !== undefined && !Number.isFinite(options.seed)) throw new ArgumentError("seed", `must be a finite number, got ${options.seed}`);
  return { n: options.n, rng: new Rng(options.seed ?? 0).fork(estimator) };
}

/** Checks the arguments every q-based estimator takes. */
function checkModelXQ(model: LatentVariableModel, x: VectorLike, q: MvNormal64): void {
  checkModel(model);
  assertVector("x", x, model.dataDim);
  checkLatentQ(q, model.latentDim);
}

/**
 * log w_s = log p(x, z_s) − log q(z_s) for n draws z_s ~ q: the log importance weights
 * behind (5.2)–(5.5) and IWAE (their log-mean-exp → log p(x), their mean → the ELBO).
 */
function logImportanceWeights(model: LatentVariableModel, x: VectorLike, q: MvNormal64, n: number, rng: Rng, out = new Float64Array(n)): Float64Array {
  for (let s = 0; s < n; s++) {
    const z = q.sampleOne(rng);
    out[s] = model.logJoint(x, z) - q.logProb(z);
  }
  return out;
}

/** Mean of values with SE = sd/√n. */
export function monteCarloMean(values: ArrayLike<number>): Estimate {
  if (values.length < 2) throw new ArgumentError("values", `need at least 2 values for a standard error, got ${values.length}`);
  assertFinite("values", values);
  const { mean, variance } = meanAndVariance(values);
  return { value: mean, stdError: Math.sqrt(variance / values.length), n: values.length };
}

/** Weights from their logs, scaled so the largest is 1: w_i = exp(l_i − max l), nothing overflows. */
function scaledWeights(logValues: ArrayLike<number>): { max: number; w: Float64Array } {
  const max = maxOf(logValues);
  return { max, w: Float64Array.from(logValues, (l) => Math.exp(l - max)) };
}

/**
 * The mean of exp(logValues) and the log of that mean, computed stably in log space
 * (the largest term factored out), with delta-method SE for the log.
 */
export function logMeanExp(logValues: ArrayLike<number>): MarginalEstimate {
  const n = logValues.length;
  if (n < 2) throw new ArgumentError("logValues", `need at least 2 values, got ${n}`);
  for (let i = 0; i < n; i++) {
    // −∞ is log 0, a weight of zero; NaN and +∞ are not weights.
    const v = logValues[i];
    if (Number.isNaN(v) || v === Infinity) throw new ArgumentError("logValues", `must be finite or −Infinity, got ${v} at index ${i}`);
  }
  const { max: m, w } = scaledWeights(logValues);
  if (m === -Infinity) {
    // Every weight is zero: p(x) estimates to 0 and its log to −∞, with no finite error bar.
    return { marginal: { value: 0, stdError: 0, n }, log: { value: -Infinity, stdError: Infinity, n }, effectiveSampleSize: 0 };
  }
  let sw = 0;
  let sw2 = 0;
  for (let i = 0; i < n; i++) {
    sw += w[i];
    sw2 += w[i] * w[i];
  }
  const { mean, variance } = meanAndVariance(w);
  const se = Math.sqrt(variance / n);
  const scale = Math.exp(m);
  return {
    marginal: { value: mean * scale, stdError: se * scale, n },
    log: { value: m + Math.log(mean), stdError: se / mean, n },
    effectiveSampleSize: (sw * sw) / sw2,
  };
}

/**
 * Naive Monte Carlo of (3.2): p(x) = E_{z ~ p(z)}[p(x | z)] ≈ (1/n) Σ p(x | z_s), z_s ~ p(z).
 * Unbiased for p(x); its log is slightly biased downward (Jensen) and has a
 * delta-method standard error. Becomes hopeless when p(x | z) is peaked (see notebook 02).
 */
export function naiveMonteCarloMarginal(model: LatentVariableModel, x: VectorLike, options: SamplingOptions): MarginalEstimate {
  checkModel(model);
  assertVector("x", x, model.dataDim);
  const { n, rng } = draws(options, "naiveMonteCarloMarginal");
  const logLik = new Float64Array(n);
  for (let s = 0; s < n; s++) logLik[s] = model.logLikelihood(x, model.prior.sampleOne(rng));
  return logMeanExp(logLik);
}

/**
 * Importance sampling of (5.2)/(5.3): p(x) = E_{z ~ q}[p(x, z) / q(z)], z_s ~ q.
 * With q = p(z | x) every weight equals p(x): zero variance.
 */
export function importanceSamplingMarginal(model: LatentVariableModel, x: VectorLike, q: MvNormal64, options: SamplingOptions): MarginalEstimate {
  checkModelXQ(model, x, q);
  const { n, rng } = draws(options, "importanceSamplingMarginal");
  return logMeanExp(logImportanceWeights(model, x, q, n, rng));
}

/** The ELBO (5.5) by Monte Carlo: mean of log p(x, z_s) − log q(z_s), z_s ~ q. */
export function elboMonteCarlo(model: LatentVariableModel, x: VectorLike, q: MvNormal64, options: SamplingOptions): Estimate {
  checkModelXQ(model, x, q);
  const { n, rng } = draws(options, "elboMonteCarlo");
  return monteCarloMean(logImportanceWeights(model, x, q, n, rng));
}

/** The split form of the ELBO (5.9): Monte Carlo reconstruction term minus the analytic KL. */
export interface SplitElboEstimate extends Estimate {
  /** E_q[log p(x | z)] by Monte Carlo. */
  reconstruction: Estimate;
  /** KL(q ‖ p(z)), analytic (5.8). */
  kl: number;
}

/** ELBO by the split (5.9): MC estimate of E_q[log p(x | z)] − analytic KL(q ‖ p(z)). */
export function elboSplit(model: LatentVariableModel, x: VectorLike, q: MvNormal64, options: SamplingOptions): SplitElboEstimate {
  checkModelXQ(model, x, q);
  const { n, rng } = draws(options, "elboSplit");
  const v = new Float64Array(n);
  for (let s = 0; s < n; s++) v[s] = model.logLikelihood(x, q.sampleOne(rng));
  const reconstruction = monteCarloMean(v);
  const kl = klMvNormal(q, model.prior);
  return { value: reconstruction.value - kl, stdError: reconstruction.stdError, n, reconstruction, kl };
}

/** KL(q ‖ p) by Monte Carlo: mean of log q(z) − log p(z), z ~ q (compare with {@link klMvNormal}). */
export function klMonteCarlo(q: MvNormal64, p: MvNormal64, options: SamplingOptions): Estimate {
  if (!(q instanceof MvNormal64)) throw new ArgumentError("q", "must be an MvNormal64");
  if (!(p instanceof MvNormal64)) throw new ArgumentError("p", "must be an MvNormal64");
  if (q.dim !== p.dim) throw new ArgumentError("p", `shape mismatch: q has dimension ${q.dim}, p has ${p.dim}`);
  const { n, rng } = draws(options, "klMonteCarlo");
  const v = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    const z = q.sampleOne(rng);
    v[s] = q.logProb(z) - p.logProb(z);
  }
  return monteCarloMean(v);
}

/** Options of {@link iwae}. */
export interface IwaeOptions {
  /** Importance samples per bound (k ≥ 1; k = 1 is the ELBO). */
  k: number;
  /** Independent repetitions of the k-sample bound, for the standard error (≥ 2, default 200). */
  outer?: number;
  seed?: number;
}

/**
 * The importance-weighted bound IWAE-k: E[log (1/k) Σ_j p(x, z_j)/q(z_j)], z_j ~ q.
 * ELBO = IWAE-1 ≤ IWAE-k ≤ IWAE-2k ≤ log p(x). Value is the mean over `outer`
 * independent k-sample draws; SE is over those repetitions; `n` = outer.
 */
export function iwae(model: LatentVariableModel, x: VectorLike, q: MvNormal64, options: IwaeOptions): Estimate {
  checkModelXQ(model, x, q);
  if (options === null || typeof options !== "object") throw new ArgumentError("options", "must be {k, outer?, seed?}");
  assertInteger("k", options.k, 1);
  const outer = options.outer ?? 200;
  assertInteger("outer", outer, 2);
  const k = options.k;
  const rng = new Rng(options.seed ?? 0).fork(`iwae`);
  const bounds = new Float64Array(outer);
  const logW = new Float64Array(k);
  for (let o = 0; o < outer; o++) {
    bounds[o] = logOfMeanExp(logImportanceWeights(model, x, q, k, rng, logW));
  }
  return monteCarloMean(bounds);
}

/** The two sides of Jensen's inequality (5.4) for Y = p(x, z)/q(z), z ~ q, from the same draws. */
export interface JensenGapEstimate {
  /** log E_q[Y] (→ log p(x)), delta-method SE. */
  logMeanY: Estimate;
  /** E_q[log Y] (→ the ELBO). */
  meanLogY: Estimate;
  /** log E[Y] − E[log Y] ≥ 0 (→ KL(q ‖ p(z | x))), SE by the delta method on paired draws. */
  gap: Estimate;
}

/** Measure Jensen's gap (5.4): log E[Y] vs E[log Y] on the same n draws z ~ q. */
export function jensenGap(model: LatentVariableModel, x: VectorLike, q: MvNormal64, options: SamplingOptions): JensenGapEstimate {
  checkModelXQ(model, x, q);
  const { n, rng } = draws(options, "jensenGap");
  const logY = logImportanceWeights(model, x, q, n, rng);
  const lme = logMeanExp(logY);
  const meanLogY = monteCarloMean(logY);
  // Influence of draw s on log(mean w) − mean(log w): w_s / mean(w) − log w_s.
  const { w } = scaledWeights(logY);
  const wbar = meanAndVariance(w).mean;
  const influence = Float64Array.from(logY, (l, s) => w[s] / wbar - l);
  const se = Math.sqrt(meanAndVariance(influence).variance / n);
  return { logMeanY: lme.log, meanLogY, gap: { value: lme.log.value - meanLogY.value, stdError: se, n } };
}
