/**
 * The equation ledger: every numbered equation of the article, (3.1) … (5.10) and the
 * reparameterization of §6, checked in numbers on a seeded linear-Gaussian model where
 * the truth is known. Each check computes the two sides INDEPENDENTLY (different
 * formulas, different code paths) and says how it compares them:
 *
 * - "identity": both sides exact in float64; pass if |lhs − rhs| / max(|lhs|, |rhs|, 1) ≤ 1e-10.
 * - "monte-carlo": one side is an estimate; pass if |lhs − rhs| ≤ 4 standard errors.
 *   (With a fixed seed the result is deterministic; for a correct estimator a 4-SE miss
 *   has probability ≈ 6e-5 per check.)
 * - "inequality": the row reports the gap lhs − rhs and its sign (must be > 0).
 * - "optimum": lhs is the claimed maximum; no other method may beat it, and an
 *   independent optimizer must reach it.
 *
 * `runLedger()` returns all rows; `formatLedger(rows)` prints them as a table.
 */
import { Matrix, determinant } from "ml-matrix";
import { ArgumentError, checkOptions } from "./errors";
import { formatNumber } from "./format";
import { elboMonteCarlo, elboSplit, importanceSamplingMarginal, jensenGap, monteCarloMean, naiveMonteCarloMarginal } from "./estimators";
import { LinearGaussian } from "./exact/linear-gaussian";
import { MvNormal64 } from "./exact/mvnormal";
import { GridOptions, quadratureLogMarginal } from "./exact/quadrature";
import { exactElboGradient, reparameterizationGradient } from "./gradients";
import { LOG_2PI, Vector, VectorLike, inverseSpd, logSumExp, symmetrize, trace } from "./linalg";
import { Rng } from "./random";

/** One checked equation. */
export interface LedgerRow {
  /** Equation tag as in the article: "3.1" … "5.10", "6". */
  tag: string;
  /** What the equation says, in words. */
  title: string;
  /** Left-hand side as computed. */
  lhs: number;
  /** Right-hand side as computed (independently). */
  rhs: number;
  /** identity: relative |Δ|; monte-carlo: |Δ|; inequality: the gap lhs − rhs; optimum: lhs − rhs. */
  residual: number;
  /** The pass criterion, in words with numbers (e.g. "≤ 4 SE (SE = 3.1e-3)"). */
  tolerance: string;
  /** How each side was computed. */
  method: string;
  pass: boolean;
  kind: "identity" | "monte-carlo" | "inequality" | "optimum";
  /** Standard error of the Monte Carlo side, when there is one. */
  stdError?: number;
  /** Secondary numbers behind the row (also part of `pass` where stated in `tolerance`). */
  details?: Record<string, number>;
}

/** Ledger options. */
export interface LedgerOptions {
  /** Seed of the model, the observation, q and every Monte Carlo stream (default 0). */
  seed?: number;
  /** Only these tags (default: all, in article order). */
  tags?: string[];
  /** Monte Carlo draws per estimate (default 20000). */
  samples?: number;
  /** Test hook: multiply the left-hand side of row `tag` by (1 + relative) before comparing. */
  perturb?: { tag: string; relative: number };
}

/** Relative tolerance of exact float64 identities. */
export const IDENTITY_TOLERANCE = 1e-10;
/** Number of standard errors a Monte Carlo side may deviate. */
export const MC_STANDARD_ERRORS = 4;

/** Everything the checks share: one seeded model, one observation, one q. */
interface LedgerContext {
  seed: number;
  samples: number;
  model: LinearGaussian;
  x: Vector;
  z: Vector;
  q: MvNormal64;
  qParams: { mean: Vector; logStd: Vector };
  data: Vector[];
  grid: { pointsPerDim: number; extent: number };
  perturb: (tag: string, v: number) => number;
}

function makeContext(options: LedgerOptions): LedgerContext {
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) throw new ArgumentError("seed", `must be a finite number, got ${seed}`);
  const samples = options.samples ?? 20000;
  if (!(Number.isInteger(samples) && samples >= 100)) throw new ArgumentError("samples", `must be an integer ≥ 100, got ${samples}`);
  const perturb = options.perturb;
  if (perturb !== undefined) {
    if (!LEDGER_TAGS.includes(perturb.tag)) throw new ArgumentError("perturb.tag", `unknown tag "${perturb.tag}"`);
    if (!Number.isFinite(perturb.relative)) throw new ArgumentError("perturb.relative", `must be finite, got ${perturb.relative}`);
  }
  // d = 2 so a grid is exact to float64; σ = 0.7 keeps the posterior wide enough for a 201² grid on [−10, 10]².
  const model = LinearGaussian.random(seed, { latentDim: 2, dataDim: 3, noiseStd: 0.7 });
  const rng = new Rng(seed).fork("ledger");
  const pair = model.sample(rng.fork("pair"), 1);
  const x = pair.x[0];
  // q: a diagonal Gaussian near, but not at, the posterior — wider, so importance weights are well behaved.
  const post = model.posterior(x);
  const qr = rng.fork("q");
  const pstd = post.std;
  const mean = Float64Array.from(post.mean, (m, i) => m + 0.5 * pstd[i] * qr.normal());
  const logStd = Float64Array.from(pstd, (s) => Math.log(1.3 * s) + 0.1 * qr.normal());
  const q = MvNormal64.diag(mean, Array.from(logStd, Math.exp));
  const data = model.sample(rng.fork("data"), 200).x;
  return {
    seed,
    samples,
    model,
    x,
    z: pair.z[0],
    q,
    qParams: { mean, logStd },
    data,
    grid: { pointsPerDim: 201, extent: 10 },
    perturb: (tag, v) => (perturb && perturb.tag === tag ? v * (1 + perturb.relative) : v),
  };
}

function relResidual(lhs: number, rhs: number): number {
  return Math.abs(lhs - rhs) / Math.max(Math.abs(lhs), Math.abs(rhs), 1);
}

function identityRow(tag: string, title: string, method: string, lhs: number, rhs: number, details?: Record<string, number>, extraPass = true, extraTol = ""): LedgerRow {
  const residual = relResidual(lhs, rhs);
  return {
    tag,
    title,
    lhs,
    rhs,
    residual,
    tolerance: `relative ≤ ${IDENTITY_TOLERANCE.toExponential(0)}${extraTol}`,
    method,
    pass: residual <= IDENTITY_TOLERANCE && extraPass,
    kind: "identity",
    details,
  };
}

function monteCarloRow(tag: string, title: string, method: string, lhs: number, rhs: number, se: number, details?: Record<string, number>): LedgerRow {
  const residual = Math.abs(lhs - rhs);
  return {
    tag,
    title,
    lhs,
    rhs,
    residual,
    tolerance: `≤ ${MC_STANDARD_ERRORS} SE (SE = ${se.toExponential(1)})`,
    method,
    pass: residual <= MC_STANDARD_ERRORS * se,
    kind: "monte-carlo",
    stdError: se,
    details: { zScore: residual / se, ...details },
  };
}

/** log p(x) through the latent space only: matrix determinant lemma and Woodbury (d×d algebra). */
function logMarginalWoodbury(model: LinearGaussian, x: Vector): number {
  const D = model.dataDim;
  const d = model.latentDim;
  const s2 = model.noiseStd ** 2;
  const M = model.W.transpose().mmul(model.W);
  for (let i = 0; i < d; i++) M.set(i, i, M.get(i, i) + s2);
  const Minv = inverseSpd(symmetrize(M));
  // |C| = σ^{2(D−d)} |M|;  C⁻¹ = (I − W M⁻¹ Wᵀ)/σ².
  const logDetM = Math.log(determinant(M)); // LU, not Cholesky: a different code path
  const r = Matrix.columnVector(Array.from(x, (v, i) => v - model.b[i]));
  const Wtr = model.W.transpose().mmul(r);
  const quad = (r.transpose().mmul(r).get(0, 0) - Wtr.transpose().mmul(Minv).mmul(Wtr).get(0, 0)) / s2;
  return -0.5 * (D * LOG_2PI + (D - d) * Math.log(s2) + logDetM + quad);
}

/** log ∫ exp(logDensity(z)) dz over the latent grid: the trapezoid rule of quadratureLogMarginal for any integrand. */
function logIntegral(latentDim: number, logDensity: (z: VectorLike) => number, grid: GridOptions): number {
  return quadratureLogMarginal({ latentDim, logJoint: (_x, z) => logDensity(z) }, [], grid).value;
}

type Check = { title: string; run: (ctx: LedgerContext) => LedgerRow };

const CHECKS: Record<string, Check> = {
  "3.1": {
    title: "joint = prior × likelihood",
    run(ctx) {
      const { model, x, z } = ctx;
      const stacked = new Float64Array(model.dataDim + model.latentDim);
      stacked.set(x, 0);
      stacked.set(z, model.dataDim);
      const lhs = ctx.perturb("3.1", model.jointDistribution().logProb(stacked));
      const rhs = model.logPrior(z) + model.logLikelihood(x, z);
      return identityRow("3.1", this.title, "lhs: log N([x; z]; [b; 0], [[WWᵀ+σ²I, W], [Wᵀ, I]]) via Cholesky of the (D+d)-dim joint; rhs: log N(z; 0, I) + log N(x; Wz+b, σ²I)", lhs, rhs);
    },
  },
  "3.2": {
    title: "p(x) = ∫ p(z) p(x|z) dz",
    run(ctx) {
      const { model, x } = ctx;
      const lhs = ctx.perturb("3.2", model.logMarginal(x));
      const quad = quadratureLogMarginal(model, x, ctx.grid);
      const mc = naiveMonteCarloMarginal(model, x, { n: ctx.samples, seed: ctx.seed }).log;
      const z = Math.abs(mc.value - lhs) / mc.stdError;
      return identityRow(
        "3.2",
        this.title,
        `lhs: log N(x; b, WWᵀ+σ²I); rhs: log of the trapezoid rule on a ${ctx.grid.pointsPerDim}² grid of p(z)p(x|z); also prior-sampling MC (n=${mc.n})`,
        lhs,
        quad.value,
        { monteCarlo: mc.value, monteCarloStdError: mc.stdError, monteCarloZScore: z, gridPoints: quad.cost.gridPoints },
        z <= MC_STANDARD_ERRORS,
        `; MC within ${MC_STANDARD_ERRORS} SE (SE = ${mc.stdError.toExponential(1)})`,
      );
    },
  },
  "3.3": {
    title: "MLE: max Σ log p(x_i)",
    run(ctx) {
      const { data } = ctx;
      const closed = LinearGaussian.fitClosedForm(data, 2);
      const fitted = LinearGaussian.fitGradientAscent(data, 2, { steps: 3000, seed: ctx.seed });
      const lhs = ctx.perturb("3.3", closed.logLikelihoodOf(data));
      const rhs = fitted.model.logLikelihoodOf(data);
      const gap = lhs - rhs;
      const grad = closed.averageLogLikelihoodGradient(data).grad;
      const gradNorm = Math.sqrt(grad.reduce((a, g) => a + g * g, 0));
      const beaten = rhs > lhs + 1e-10 * Math.abs(lhs);
      const reached = gap <= 1e-6 * Math.abs(lhs);
      return {
        tag: "3.3",
        title: this.title,
        lhs,
        rhs,
        residual: gap,
        tolerance: "0 ≤ lhs − rhs ≤ 1e-6·|lhs| (gradient ascent reaches, never beats, the closed form)",
        method: `lhs: Σ log p(x_i) at the Tipping–Bishop closed-form MLE (N=${data.length}); rhs: at the end of gradient ascent from a random start (≤ 3000 steps, ${fitted.trace.length - 1} taken)`,
        pass: !beaten && reached,
        kind: "optimum",
        details: { gradientNormAtClosedForm: gradNorm },
      };
    },
  },
  "3.4": {
    title: "log p(x_i) = log ∫ p(z) p(x_i|z) dz, summed",
    run(ctx) {
      const { model, data } = ctx;
      const points = data.slice(0, 8);
      const lhs = ctx.perturb("3.4", model.logLikelihoodOf(points));
      let rhs = 0;
      for (const x of points) rhs += quadratureLogMarginal(model, x, { pointsPerDim: 161, extent: 10 }).value;
      return identityRow("3.4", this.title, "lhs: Σ_i log N(x_i; b, WWᵀ+σ²I) over 8 data points; rhs: Σ_i log of a 161² trapezoid rule each", lhs, rhs);
    },
  },
  "4.1": {
    title: "Bayes: p(z|x) = p(x,z) / ∫ p(x,z') dz'",
    run(ctx) {
      const { model, x, z } = ctx;
      const lhs = ctx.perturb("4.1", model.posterior(x).logProb(z));
      const rhs = model.logJoint(x, z) - quadratureLogMarginal(model, x, ctx.grid).value;
      return identityRow("4.1", this.title, "lhs: log N(z; M⁻¹Wᵀ(x−b), σ²M⁻¹), M = WᵀW+σ²I; rhs: log p(x,z) − log of the grid normalizer, at the z that generated x", lhs, rhs);
    },
  },
  "5.1": {
    title: "log p(x) = log ∫ p(x,z) dz",
    run(ctx) {
      const { model, x } = ctx;
      const lhs = ctx.perturb("5.1", logMarginalWoodbury(model, x));
      const joint = model.jointDistribution();
      const stacked = new Float64Array(model.dataDim + model.latentDim);
      stacked.set(x, 0);
      const rhs = logIntegral(model.latentDim, (zz) => {
        stacked.set(zz, model.dataDim);
        return joint.logProb(stacked);
      }, ctx.grid);
      return identityRow("5.1", this.title, "lhs: determinant lemma + Woodbury in the d-dim latent space; rhs: log of the trapezoid rule over z of the stacked (x,z) Gaussian density", lhs, rhs);
    },
  },
  "5.2": {
    title: "log p(x) = log ∫ [p(x,z)/q(z)] q(z) dz",
    run(ctx) {
      const { model, x, q } = ctx;
      const lhs = ctx.perturb("5.2", model.logMarginal(x));
      // Quadrature in q's own coordinates z = μ_q + L_q u: ∫ (p/q)(z) q(z) dz = ∫ (p/q)(μ+Lu) N(u; 0, I) du.
      const standard = MvNormal64.standard(model.latentDim);
      const rhs = logIntegral(model.latentDim, (u) => {
        const zz = q.rsample(u);
        return model.logJoint(x, zz) - q.logProb(zz) + standard.logProb(u);
      }, { pointsPerDim: ctx.grid.pointsPerDim, extent: 9 });
      return identityRow("5.2", this.title, "lhs: log N(x; b, WWᵀ+σ²I); rhs: trapezoid rule of (p(x,z)/q(z))·N(u;0,I) over u, z = μ_q + L_q u", lhs, rhs);
    },
  },
  "5.3": {
    title: "log p(x) = log E_q[p(x,z)/q(z)]",
    run(ctx) {
      const { model, x, q } = ctx;
      const est = importanceSamplingMarginal(model, x, q, { n: ctx.samples, seed: ctx.seed }).log;
      const lhs = ctx.perturb("5.3", est.value);
      const rhs = model.logMarginal(x);
      return monteCarloRow("5.3", this.title, `lhs: importance sampling with q (n=${est.n}), log of the mean weight, delta-method SE; rhs: exact log p(x)`, lhs, rhs, est.stdError);
    },
  },
  "5.4": {
    title: "Jensen: log E_q[Y] ≥ E_q[log Y], Y = p(x,z)/q(z)",
    run(ctx) {
      const { model, x, q } = ctx;
      const j = jensenGap(model, x, q, { n: ctx.samples, seed: ctx.seed });
      const lhs = ctx.perturb("5.4", j.logMeanY.value);
      const rhs = j.meanLogY.value;
      const gap = lhs - rhs;
      const exactGap = model.klToPosterior(x, q);
      const z = Math.abs(gap - exactGap) / j.gap.stdError;
      return {
        tag: "5.4",
        title: this.title,
        lhs,
        rhs,
        residual: gap,
        tolerance: `gap > 0, and gap = KL(q‖p(z|x)) = ${exactGap.toExponential(3)} within ${MC_STANDARD_ERRORS} SE (SE = ${j.gap.stdError.toExponential(1)})`,
        method: `both sides by MC on the same n=${ctx.samples} draws z ~ q; exact gap from the closed-form KL to the posterior`,
        pass: gap > 0 && z <= MC_STANDARD_ERRORS,
        kind: "inequality",
        stdError: j.gap.stdError,
        details: { exactGap, gapZScore: z },
      };
    },
  },
  "5.5": {
    title: "ELBO ≤ log p(x)",
    run(ctx) {
      const { model, x, q, seed } = ctx;
      const lhs = ctx.perturb("5.5", model.logMarginal(x));
      const est = elboMonteCarlo(model, x, q, { n: ctx.samples, seed });
      const closed = model.elbo(x, q);
      const zClosed = Math.abs(est.value - closed) / est.stdError;
      // Many other q's: random means and full covariances; the closed-form ELBO never exceeds log p(x).
      const r = new Rng(seed).fork("ledger/5.5");
      let minGap = Infinity;
      for (let k = 0; k < 100; k++) {
        const A = new Matrix(2, 2);
        for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) A.set(i, j, 0.8 * r.normal());
        const cov = symmetrize(A.mmul(A.transpose()).add(Matrix.eye(2).mul(0.01)));
        const qk = new MvNormal64([2 * r.normal(), 2 * r.normal()], cov);
        minGap = Math.min(minGap, lhs - model.elbo(x, qk));
      }
      const gap = lhs - est.value;
      return {
        tag: "5.5",
        title: this.title,
        lhs,
        rhs: est.value,
        residual: gap,
        tolerance: `gap > ${MC_STANDARD_ERRORS} SE (SE = ${est.stdError.toExponential(1)}); MC ELBO = closed form within ${MC_STANDARD_ERRORS} SE; gap ≥ 0 for 100 random q`,
        method: `lhs: exact log p(x); rhs: ELBO (5.5) by MC, n=${est.n}; plus the closed-form ELBO of 100 random full-covariance q`,
        pass: gap > MC_STANDARD_ERRORS * est.stdError && zClosed <= MC_STANDARD_ERRORS && minGap >= 0,
        kind: "inequality",
        stdError: est.stdError,
        details: { closedFormElbo: closed, zScoreVsClosedForm: zClosed, minGapOver100q: minGap },
      };
    },
  },
  "5.6": {
    title: "p(x,z) = p(z) p(x|z) = p(z|x) p(x)",
    run(ctx) {
      const { model, x, z } = ctx;
      const lhs = ctx.perturb("5.6", model.posterior(x).logProb(z) + model.logMarginal(x));
      const rhs = model.logPrior(z) + model.logLikelihood(x, z);
      return identityRow("5.6", this.title, "lhs: exact posterior × exact marginal; rhs: prior × likelihood", lhs, rhs);
    },
  },
  "5.7": {
    title: "ELBO = E_q[log p(x|z)] + E_q[log p(z) − log q(z)]",
    run(ctx) {
      const { model, x, q } = ctx;
      const D = model.dataDim;
      const d = model.latentDim;
      // lhs: E_q[log p(x, z)] through the stacked joint: log N([x; μ_q]) − ½ tr(P_zz Σ_q), plus H(q).
      const joint = model.jointDistribution();
      const stacked = new Float64Array(D + d);
      stacked.set(x, 0);
      stacked.set(q.mean, D);
      const P = inverseSpd(joint.cov);
      const Pzz = P.subMatrix(D, D + d - 1, D, D + d - 1);
      const lhs = ctx.perturb("5.7", joint.logProb(stacked) - 0.5 * trace(Pzz.mmul(q.cov)) + q.entropy());
      // rhs: reconstruction term + (E_q[log p(z)] + H(q)), E_q[log p(z)] = −½(d log 2π + ‖μ‖² + tr Σ).
      let mu2 = 0;
      for (let i = 0; i < d; i++) mu2 += q.mean[i] ** 2;
      const rhs = model.reconstructionTerm(x, q) + (-0.5 * (d * LOG_2PI + mu2 + trace(q.cov)) + q.entropy());
      return identityRow("5.7", this.title, "lhs: E_q of the stacked-joint log density (precision matrix) + entropy; rhs: closed-form E_q[log p(x|z)] + E_q[log p(z)] + H(q)", lhs, rhs);
    },
  },
  "5.8": {
    title: "E_q[log p(z) − log q(z)] = −KL(q‖p(z))",
    run(ctx) {
      const { model, q } = ctx;
      const r = new Rng(ctx.seed).fork("ledger/5.8");
      const v = new Float64Array(ctx.samples);
      for (let s = 0; s < v.length; s++) {
        const z = q.sampleOne(r);
        v[s] = model.prior.logProb(z) - q.logProb(z);
      }
      const est = monteCarloMean(v);
      const lhs = ctx.perturb("5.8", est.value);
      return monteCarloRow("5.8", this.title, `lhs: MC mean of log p(z) − log q(z), z ~ q, n=${est.n}; rhs: −analytic KL`, lhs, -model.klToPrior(q), est.stdError);
    },
  },
  "5.9": {
    title: "ELBO = E_q[log p(x|z)] − KL(q‖p(z))",
    run(ctx) {
      const { model, x, q } = ctx;
      const a = elboMonteCarlo(model, x, q, { n: ctx.samples, seed: ctx.seed + 1 });
      const b = elboSplit(model, x, q, { n: ctx.samples, seed: ctx.seed + 2 });
      const se = Math.sqrt(a.stdError ** 2 + b.stdError ** 2);
      const lhs = ctx.perturb("5.9", a.value);
      return monteCarloRow("5.9", this.title, `lhs: ELBO (5.5) by MC of log p(x,z) − log q(z); rhs: MC reconstruction − analytic KL (independent draws, n=${a.n} each)`, lhs, b.value, se, {
        closedFormElbo: model.elbo(x, q),
      });
    },
  },
  "5.10": {
    title: "log p(x) = ELBO + KL(q‖p(z|x))",
    run(ctx) {
      const { model, x, q } = ctx;
      const lhs = ctx.perturb("5.10", model.logMarginal(x));
      const rhs = model.elbo(x, q) + model.klToPosterior(x, q);
      return identityRow("5.10", this.title, "lhs: log N(x; b, WWᵀ+σ²I); rhs: closed-form ELBO + analytic KL to the exact posterior", lhs, rhs);
    },
  },
  "6": {
    title: "reparameterized gradient z = μ + σ⊙ε is unbiased",
    run(ctx) {
      const { model, x, qParams } = ctx;
      const est = reparameterizationGradient(model, x, qParams, { n: ctx.samples, seed: ctx.seed });
      const exact = exactElboGradient(model, x, qParams);
      const g = Float64Array.from(est.mean, (v) => ctx.perturb("6", v));
      let maxZ = 0;
      let maxAbs = 0;
      let maxSe = 0;
      for (let j = 0; j < g.length; j++) {
        maxZ = Math.max(maxZ, Math.abs(g[j] - exact[j]) / est.stdError[j]);
        maxAbs = Math.max(maxAbs, Math.abs(g[j] - exact[j]));
        maxSe = Math.max(maxSe, est.stdError[j]);
      }
      const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((a, c) => a + c * c, 0));
      return {
        tag: "6",
        title: this.title,
        lhs: norm(g),
        rhs: norm(exact),
        residual: maxAbs,
        tolerance: `every coordinate within ${MC_STANDARD_ERRORS} SE (max SE = ${maxSe.toExponential(1)}); max z = ${maxZ.toFixed(2)}`,
        method: `lhs: ‖mean of ∇φ[log p(x|μ+σ⊙ε)] − ∇φ KL‖ over n=${est.n} draws; rhs: ‖∇φ closed-form ELBO‖; φ = (μ, log σ)`,
        pass: maxZ <= MC_STANDARD_ERRORS,
        kind: "monte-carlo",
        stdError: maxSe,
        details: { maxZScore: maxZ },
      };
    },
  },
};

/** The ledger's tags in article order. */
export const LEDGER_TAGS: string[] = ["3.1", "3.2", "3.3", "3.4", "4.1", "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.9", "5.10", "6"];

/** Run the ledger (all tags, or `options.tags`) on one seeded model. */
export function runLedger(options: LedgerOptions = {}): LedgerRow[] {
  checkOptions("options", options, "{seed?, tags?, samples?, perturb?}");
  const tags = options.tags ?? LEDGER_TAGS;
  if (!Array.isArray(tags)) throw new ArgumentError("tags", "must be an array of equation tags");
  tags.forEach((t) => {
    if (!CHECKS[t]) throw new ArgumentError("tags", `unknown tag "${t}"; known: ${LEDGER_TAGS.join(", ")}`);
  });
  const ctx = makeContext(options);
  return tags.map((t) => CHECKS[t].run(ctx));
}

/** One row of the ledger. */
export function ledgerRow(tag: string, options: Omit<LedgerOptions, "tags"> = {}): LedgerRow {
  if (!CHECKS[tag]) throw new ArgumentError("tag", `unknown tag "${tag}"; known: ${LEDGER_TAGS.join(", ")}`);
  checkOptions("options", options, "{seed?, samples?, perturb?}");
  return runLedger({ ...options, tags: [tag] })[0];
}

/** The text table's numbers: 10 digits, trailing zeros kept so the columns line up. */
const fmt = (v: number): string => formatNumber(v, 10, { exponentDigits: 3, keepZeros: true });

/** The ledger as a plain-text table: tag, kind, lhs, rhs, residual, pass, tolerance (and method, if asked). */
export function formatLedger(rows: LedgerRow[], options: { methods?: boolean } = {}): string {
  if (!Array.isArray(rows)) throw new ArgumentError("rows", "must be an array of ledger rows");
  const header = ["tag", "kind", "lhs", "rhs", "residual", "pass", "tolerance"];
  const body = rows.map((r) => [r.tag, r.kind, fmt(r.lhs), fmt(r.rhs), r.residual.toExponential(2), r.pass ? "PASS" : "FAIL", r.tolerance]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  ")];
  rows.forEach((r, k) => {
    out.push(line(body[k]));
    if (options.methods) out.push(`      ${r.title} — ${r.method}`);
  });
  const passed = rows.filter((r) => r.pass).length;
  out.push(`${passed}/${rows.length} rows pass`);
  return out.join("\n");
}
