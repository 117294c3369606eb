/**
 * Gradients of the ELBO with respect to the parameters φ = (μ, log σ) of a diagonal
 * Gaussian q(z) = N(μ, diag σ²) on the linear-Gaussian model — article §6.
 *
 * - reparameterization: z = μ + σ ⊙ ε, ε ~ N(0, I), differentiate through z;
 * - score function (REINFORCE): ∇φ E_q[f] = E_q[f(z) ∇φ log q(z)];
 * - exact: the gradient of the closed-form ELBO.
 *
 * Gradient vectors are flat, length 2d: [∂/∂μ₁ … ∂/∂μ_d, ∂/∂log σ₁ … ∂/∂log σ_d]
 * (see {@link gradientLabels}).
 */
import { ArgumentError, assertInteger, assertVector } from "./errors";
import { LinearGaussian } from "./exact/linear-gaussian";
import { MvNormal64 } from "./exact/mvnormal";
import { LOG_2PI, toVector, type Vector, type VectorLike } from "./linalg";
import { Rng } from "./random";

/** A diagonal Gaussian q = N(mean, diag(exp(logStd)²)). */
export interface DiagonalGaussianParams {
  mean: VectorLike;
  logStd: VectorLike;
}

/** Which ELBO integrand the Monte Carlo gradients differentiate. */
export type KlMode = "analytic" | "monte-carlo";

/** Options of the gradient estimators. */
export interface GradientOptions {
  /** Number of draws (≥ 2). */
  n: number;
  seed?: number;
  /**
   * "analytic" (default): the §6 form E_ε[log p(x | μ + σ⊙ε)] − KL(q ‖ p(z)) with the KL's
   * gradient exact; "monte-carlo": the full (5.5) integrand log p(x, z) − log q(z).
   */
  kl?: KlMode;
}

/** A Monte Carlo gradient: mean over draws, per-coordinate variance of one draw, SE of the mean. */
export interface GradientEstimate {
  /** Mean gradient (length 2d). */
  mean: Vector;
  /** Per-coordinate sample variance of a single draw. */
  variance: Vector;
  /** Per-coordinate standard error of the mean, √(variance / n). */
  stdError: Vector;
  n: number;
}

/** Names of the gradient coordinates: ["mu[0]", …, "logStd[0]", …]. */
export function gradientLabels(latentDim: number): string[] {
  assertInteger("latentDim", latentDim, 1);
  return [...Array.from({ length: latentDim }, (_, i) => `mu[${i}]`), ...Array.from({ length: latentDim }, (_, i) => `logStd[${i}]`)];
}

function checkParams(model: LinearGaussian, x: VectorLike, params: DiagonalGaussianParams): { mu: Vector; s: Vector } {
  if (!(model instanceof LinearGaussian)) throw new ArgumentError("model", "must be a LinearGaussian");
  assertVector("x", x, model.dataDim);
  if (params === null || typeof params !== "object") throw new ArgumentError("params", "must be {mean, logStd}");
  const mu = toVector("params.mean", params.mean, model.latentDim);
  const logStd = toVector("params.logStd", params.logStd, model.latentDim);
  return { mu, s: Float64Array.from(logStd, Math.exp) };
}

/** The q of these parameters as an {@link MvNormal64}. */
function diagonalGaussian(params: DiagonalGaussianParams): MvNormal64 {
  const mu = toVector("params.mean", params.mean);
  const logStd = toVector("params.logStd", params.logStd, mu.length);
  return MvNormal64.diag(mu, Array.from(logStd, Math.exp));
}

/** The closed-form ELBO of a diagonal q (= model.elbo(x, diagonalGaussian(params))). */
export function elboOfParams(model: LinearGaussian, x: VectorLike, params: DiagonalGaussianParams): number {
  checkParams(model, x, params);
  return model.elbo(x, diagonalGaussian(params));
}

/**
 * Exact gradient of the closed-form ELBO
 *   L = −(D/2)log 2πσ² − [‖x − b − Wμ‖² + Σᵢ sᵢ² ‖W₍:,i₎‖²]/(2σ²) − ½ Σᵢ (sᵢ² + μᵢ² − 1 − 2 log sᵢ):
 *   ∂L/∂μ = Wᵀ(x − b − Wμ)/σ² − μ,   ∂L/∂log sᵢ = 1 − sᵢ² (1 + ‖W₍:,i₎‖²/σ²).
 */
export function exactElboGradient(model: LinearGaussian, x: VectorLike, params: DiagonalGaussianParams): Vector {
  const { mu, s } = checkParams(model, x, params);
  const d = model.latentDim;
  const g = new Float64Array(2 * d);
  const gl = model.gradLogLikelihood(x, mu);
  const s2n = model.noiseStd ** 2;
  for (let i = 0; i < d; i++) {
    g[i] = gl[i] - mu[i];
    let colNorm2 = 0;
    for (let r = 0; r < model.dataDim; r++) colNorm2 += model.W.get(r, i) ** 2;
    g[d + i] = 1 - s[i] * s[i] * (1 + colNorm2 / s2n);
  }
  return g;
}

/** One draw of each estimator, for histograms. */
export type GradientEstimator = "reparameterization" | "score-function";

/**
 * Raw per-draw gradients (each length 2d) of one estimator, n draws from `seed`.
 * The estimators' means are the averages of these draws.
 */
export function gradientSamples(
  model: LinearGaussian,
  x: VectorLike,
  params: DiagonalGaussianParams,
  estimator: GradientEstimator,
  options: GradientOptions,
): Vector[] {
  const { mu, s } = checkParams(model, x, params);
  if (options === null || typeof options !== "object") throw new ArgumentError("options", "must be {n, seed?, kl?}");
  assertInteger("n", options.n, 1);
  const kl = options.kl ?? "analytic";
  if (kl !== "analytic" && kl !== "monte-carlo") throw new ArgumentError("kl", `must be "analytic" or "monte-carlo", got ${kl}`);
  if (estimator !== "reparameterization" && estimator !== "score-function") {
    throw new ArgumentError("estimator", `must be "reparameterization" or "score-function", got ${estimator}`);
  }
  const d = model.latentDim;
  const rng = new Rng(options.seed ?? 0).fork(`gradient/${estimator}`);
  let logDetS = 0;
  for (let i = 0; i < d; i++) logDetS += Math.log(s[i]);
  const out: Vector[] = [];
  const z = new Float64Array(d);
  for (let k = 0; k < options.n; k++) {
    const eps = rng.normals(d);
    for (let i = 0; i < d; i++) z[i] = mu[i] + s[i] * eps[i]; // z = μ + σ ⊙ ε  (§6)
    const g = new Float64Array(2 * d);
    if (estimator === "reparameterization") {
      const gl = model.gradLogLikelihood(x, z);
      for (let i = 0; i < d; i++) {
        if (kl === "analytic") {
          // ∇ of log p(x | z(φ, ε)) by the chain rule, minus ∇ of the analytic KL(q ‖ N(0, I)).
          g[i] = gl[i] - mu[i];
          g[d + i] = gl[i] * eps[i] * s[i] - (s[i] * s[i] - 1);
        } else {
          // ∇ of log p(x, z) − log q(z) with z = μ + σ⊙ε: ∇_z log p(x, z) = gl − z; log q's ∂/∂ log σᵢ = −1.
          g[i] = gl[i] - z[i];
          g[d + i] = (gl[i] - z[i]) * eps[i] * s[i] + 1;
        }
      }
    } else {
      // Score ∇φ log q(z): ∂/∂μᵢ = εᵢ/σᵢ, ∂/∂log σᵢ = εᵢ² − 1.
      let f = model.logLikelihood(x, z);
      if (kl === "monte-carlo") {
        let e2 = 0;
        for (let i = 0; i < d; i++) e2 += eps[i] * eps[i];
        const logQ = -0.5 * (d * LOG_2PI + e2) - logDetS;
        f += model.logPrior(z) - logQ;
      }
      for (let i = 0; i < d; i++) {
        g[i] = f * (eps[i] / s[i]);
        g[d + i] = f * (eps[i] * eps[i] - 1);
        if (kl === "analytic") {
          g[i] -= mu[i];
          g[d + i] -= s[i] * s[i] - 1;
        }
      }
    }
    out.push(g);
  }
  return out;
}

/** Mean, per-coordinate variance and SE of a list of gradient draws. */
export function summarizeGradients(samples: Vector[]): GradientEstimate {
  if (!Array.isArray(samples) || samples.length < 2) throw new ArgumentError("samples", "need at least 2 gradient draws");
  const n = samples.length;
  const P = samples[0].length;
  const mean = new Float64Array(P);
  for (const g of samples) for (let j = 0; j < P; j++) mean[j] += g[j] / n;
  const variance = new Float64Array(P);
  for (const g of samples) for (let j = 0; j < P; j++) variance[j] += (g[j] - mean[j]) ** 2 / (n - 1);
  return { mean, variance, stdError: Float64Array.from(variance, (v) => Math.sqrt(v / n)), n };
}

/** The reparameterization gradient (§6): mean of ∇φ f(μ + σ⊙ε) over n draws of ε. */
export function reparameterizationGradient(model: LinearGaussian, x: VectorLike, params: DiagonalGaussianParams, options: GradientOptions): GradientEstimate {
  assertInteger("n", options?.n, 2);
  return summarizeGradients(gradientSamples(model, x, params, "reparameterization", options));
}

/** The score-function (REINFORCE) gradient: mean of f(z) ∇φ log q(z) over n draws z ~ q. */
export function scoreFunctionGradient(model: LinearGaussian, x: VectorLike, params: DiagonalGaussianParams, options: GradientOptions): GradientEstimate {
  assertInteger("n", options?.n, 2);
  return summarizeGradients(gradientSamples(model, x, params, "score-function", options));
}

/** One row of {@link gradientVarianceCurve}. */
export interface GradientVarianceRow {
  /** Draws per gradient estimate. */
  n: number;
  estimator: GradientEstimator;
  /** Σ_j Var[ĝ_j] of the n-draw estimate, measured across `repeats` independent estimates. */
  totalVariance: number;
  /** Per-coordinate variance of the n-draw estimate across repeats. */
  variance: Vector;
  /** Mean squared error Σ_j (ĝ_j − g_j)² against the exact gradient, averaged over repeats. */
  meanSquaredError: number;
}

/**
 * Variance of the n-draw gradient estimate vs n for both estimators (for a log-log plot;
 * both should fall like 1/n, at very different heights).
 */
export function gradientVarianceCurve(
  model: LinearGaussian,
  x: VectorLike,
  params: DiagonalGaussianParams,
  options: { sampleSizes?: number[]; repeats?: number; seed?: number; kl?: KlMode } = {},
): GradientVarianceRow[] {
  const sizes = options.sampleSizes ?? [1, 4, 16, 64, 256];
  const repeats = options.repeats ?? 100;
  assertInteger("repeats", repeats, 2);
  sizes.forEach((n) => {
    assertInteger("sampleSizes", n, 1);
  });
  const exact = exactElboGradient(model, x, params);
  const rows: GradientVarianceRow[] = [];
  for (const estimator of ["reparameterization", "score-function"] as GradientEstimator[]) {
    for (const n of sizes) {
      const means: Vector[] = [];
      for (let r = 0; r < repeats; r++) {
        const draws = gradientSamples(model, x, params, estimator, { n, seed: (options.seed ?? 0) * 1_000_003 + n * 7919 + r, kl: options.kl });
        const m = new Float64Array(exact.length);
        for (const g of draws) for (let j = 0; j < m.length; j++) m[j] += g[j] / n;
        means.push(m);
      }
      const summary = summarizeGradients(means);
      let mse = 0;
      for (const m of means) for (let j = 0; j < m.length; j++) mse += (m[j] - exact[j]) ** 2 / repeats;
      rows.push({ n, estimator, totalVariance: summary.variance.reduce((a, b) => a + b, 0), variance: summary.variance, meanSquaredError: mse });
    }
  }
  return rows;
}

/** Options of {@link fitVariational}. */
export interface FitVariationalOptions {
  /** Number of Adam steps (default 500). */
  steps?: number;
  /** Adam learning rate (default 0.05). */
  learningRate?: number;
  /** "exact" (closed-form gradient) or a Monte Carlo estimator (default "reparameterization"). */
  gradient?: "exact" | GradientEstimator;
  /** Draws per Monte Carlo gradient (default 16). */
  n?: number;
  seed?: number;
  /** Starting point (default μ = 0, log σ = 0: the prior). */
  init?: DiagonalGaussianParams;
}

/** One step of {@link fitVariational}'s trace (closed-form values, for plotting). */
export interface VariationalTraceRow {
  step: number;
  /** ELBO of the current q (closed form). */
  elbo: number;
  /** KL(q ‖ p(z | x)) of the current q; log p(x) = elbo + kl at every step (5.10). */
  klToPosterior: number;
}

/**
 * Maximize the ELBO over a diagonal Gaussian q by Adam, with the exact or a Monte Carlo
 * gradient. Since log p(x) = ELBO + KL(q ‖ p(z|x)) is fixed, raising the ELBO lowers the KL;
 * with a diagonal q the KL reaches 0 only if the exact posterior is itself diagonal
 * (always for d = 1), otherwise it stops at the mean-field gap.
 */
export function fitVariational(
  model: LinearGaussian,
  x: VectorLike,
  options: FitVariationalOptions = {},
): { params: { mean: Vector; logStd: Vector }; q: MvNormal64; logMarginal: number; trace: VariationalTraceRow[] } {
  const d = model instanceof LinearGaussian ? model.latentDim : 0;
  const init = options.init ?? { mean: new Float64Array(d), logStd: new Float64Array(d) };
  checkParams(model, x, init);
  const steps = options.steps ?? 500;
  const lr = options.learningRate ?? 0.05;
  const n = options.n ?? 16;
  const which = options.gradient ?? "reparameterization";
  assertInteger("steps", steps, 1);
  assertInteger("n", n, 1);
  if (!(lr > 0)) throw new ArgumentError("learningRate", `must be positive, got ${lr}`);
  if (which !== "exact" && which !== "reparameterization" && which !== "score-function") {
    throw new ArgumentError("gradient", `must be "exact", "reparameterization" or "score-function", got ${which}`);
  }
  const theta = Float64Array.from([...Array.from(init.mean), ...Array.from(init.logStd)]);
  const m = new Float64Array(2 * d);
  const v = new Float64Array(2 * d);
  const params = () => ({ mean: theta.slice(0, d), logStd: theta.slice(d) });
  const trace: VariationalTraceRow[] = [];
  const record = (step: number) => {
    const q = diagonalGaussian(params());
    trace.push({ step, elbo: model.elbo(x, q), klToPosterior: model.klToPosterior(x, q) });
  };
  for (let t = 1; t <= steps; t++) {
    record(t - 1);
    let g: Vector;
    if (which === "exact") g = exactElboGradient(model, x, params());
    else {
      const draws = gradientSamples(model, x, params(), which, { n, seed: (options.seed ?? 0) * 1_000_003 + t });
      g = new Float64Array(2 * d);
      for (const s of draws) for (let j = 0; j < 2 * d; j++) g[j] += s[j] / n;
    }
    for (let j = 0; j < 2 * d; j++) {
      m[j] = 0.9 * m[j] + 0.1 * g[j];
      v[j] = 0.999 * v[j] + 0.001 * g[j] * g[j];
      theta[j] += (lr * (m[j] / (1 - 0.9 ** t))) / (Math.sqrt(v[j] / (1 - 0.999 ** t)) + 1e-8);
    }
  }
  record(steps);
  const final = params();
  return { params: final, q: diagonalGaussian(final), logMarginal: model.logMarginal(x), trace };
}
