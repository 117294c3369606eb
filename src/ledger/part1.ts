/**
 * Part 1's ledger ("生成模型系列（一）：从 VAE 出发"): every numbered equation of the article,
 * (3.1) … (5.10) and the reparameterization of §6, checked in numbers on a seeded
 * linear-Gaussian model where the truth is known. Each entry computes the two sides
 * INDEPENDENTLY (different formulas, different code paths) and names the rule that compares
 * them (./rows.ts); the judge (src/judge.ts) decides.
 *
 * This list is the one place the part's equations are declared: the tag list, the tests,
 * the index page and the table in docs/library.md all derive from it.
 */
import { determinant, Matrix } from "ml-matrix";
import { ArgumentError } from "../errors";
import { elboMonteCarlo, elboSplit, importanceSamplingMarginal, jensenGap, monteCarloMean, naiveMonteCarloMarginal } from "../estimators";
import { LinearGaussian } from "../exact/linear-gaussian";
import { MvNormal64 } from "../exact/mvnormal";
import { type GridOptions, quadratureLogMarginal } from "../exact/quadrature";
import { exactElboGradient, reparameterizationGradient } from "../gradients";
import { inverseSpd, LOG_2PI, symmetrize, trace, type Vector, type VectorLike } from "../linalg";
import { Rng } from "../random";
import { identity, type LedgerEntry, type LedgerOptions, type PartLedger } from "./rows";

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
}

function makeContext(options: LedgerOptions): LedgerContext {
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) throw new ArgumentError("seed", `must be a finite number, got ${seed}`);
  const samples = options.samples ?? 20000;
  if (!(Number.isInteger(samples) && samples >= 100)) throw new ArgumentError("samples", `must be an integer ≥ 100, got ${samples}`);
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

/** Part 1's equations, in article order. */
const ENTRIES: readonly LedgerEntry<LedgerContext>[] = [
  {
    tag: "3.1",
    title: "joint = prior × likelihood",
    kind: "identity",
    sides({ model, x, z }) {
      const stacked = new Float64Array(model.dataDim + model.latentDim);
      stacked.set(x, 0);
      stacked.set(z, model.dataDim);
      return identity({
        lhs: model.jointDistribution().logProb(stacked),
        rhs: model.logPrior(z) + model.logLikelihood(x, z),
        method: "lhs: log N([x; z]; [b; 0], [[WWᵀ+σ²I, W], [Wᵀ, I]]) via Cholesky of the (D+d)-dim joint; rhs: log N(z; 0, I) + log N(x; Wz+b, σ²I)",
      });
    },
  },
  {
    tag: "3.2",
    title: "p(x) = ∫ p(z) p(x|z) dz",
    kind: "identity",
    sides(ctx) {
      const { model, x } = ctx;
      const lhs = model.logMarginal(x);
      const quad = quadratureLogMarginal(model, x, ctx.grid);
      const mc = naiveMonteCarloMarginal(model, x, { n: ctx.samples, seed: ctx.seed }).log;
      return identity({
        lhs,
        rhs: quad.value,
        method: `lhs: log N(x; b, WWᵀ+σ²I); rhs: log of the trapezoid rule on a ${ctx.grid.pointsPerDim}² grid of p(z)p(x|z); also prior-sampling MC (n=${mc.n})`,
        also: [{ label: "MC", rule: "standard-errors", estimate: mc, reference: lhs }],
        details: {
          monteCarlo: mc.value,
          monteCarloStdError: mc.stdError,
          monteCarloZScore: Math.abs(mc.value - lhs) / mc.stdError,
          gridPoints: quad.cost.gridPoints,
        },
      });
    },
  },
  {
    tag: "3.3",
    title: "MLE: max Σ log p(x_i)",
    kind: "optimum",
    sides(ctx) {
      const { data } = ctx;
      const closed = LinearGaussian.fitClosedForm(data, 2);
      const fitted = LinearGaussian.fitGradientAscent(data, 2, { steps: 3000, seed: ctx.seed });
      const lhs = closed.logLikelihoodOf(data);
      const rhs = fitted.model.logLikelihoodOf(data);
      const grad = closed.averageLogLikelihoodGradient(data).grad;
      return {
        rule: "at-least",
        lhs,
        rhs,
        slack: 1e-10 * Math.abs(lhs),
        why: "round-off: the ascent never beats the closed form",
        method: `lhs: Σ log p(x_i) at the Tipping–Bishop closed-form MLE (N=${data.length}); rhs: at the end of gradient ascent from a random start (≤ 3000 steps, ${fitted.trace.length - 1} taken)`,
        also: [{ label: "reached", rule: "bound", lhs, rhs, within: 1e-6 * Math.abs(lhs), why: "relative 1e-6" }],
        details: { gradientNormAtClosedForm: Math.sqrt(grad.reduce((a, g) => a + g * g, 0)) },
      };
    },
  },
  {
    tag: "3.4",
    title: "log p(x_i) = log ∫ p(z) p(x_i|z) dz, summed",
    kind: "identity",
    sides({ model, data }) {
      const points = data.slice(0, 8);
      let rhs = 0;
      for (const x of points) rhs += quadratureLogMarginal(model, x, { pointsPerDim: 161, extent: 10 }).value;
      return identity({
        lhs: model.logLikelihoodOf(points),
        rhs,
        method: "lhs: Σ_i log N(x_i; b, WWᵀ+σ²I) over 8 data points; rhs: Σ_i log of a 161² trapezoid rule each",
      });
    },
  },
  {
    tag: "4.1",
    title: "Bayes: p(z|x) = p(x,z) / ∫ p(x,z') dz'",
    kind: "identity",
    sides(ctx) {
      const { model, x, z } = ctx;
      return identity({
        lhs: model.posterior(x).logProb(z),
        rhs: model.logJoint(x, z) - quadratureLogMarginal(model, x, ctx.grid).value,
        method: "lhs: log N(z; M⁻¹Wᵀ(x−b), σ²M⁻¹), M = WᵀW+σ²I; rhs: log p(x,z) − log of the grid normalizer, at the z that generated x",
      });
    },
  },
  {
    tag: "5.1",
    title: "log p(x) = log ∫ p(x,z) dz",
    kind: "identity",
    sides(ctx) {
      const { model, x } = ctx;
      const joint = model.jointDistribution();
      const stacked = new Float64Array(model.dataDim + model.latentDim);
      stacked.set(x, 0);
      const rhs = logIntegral(
        model.latentDim,
        (zz) => {
          stacked.set(zz, model.dataDim);
          return joint.logProb(stacked);
        },
        ctx.grid,
      );
      return identity({
        lhs: logMarginalWoodbury(model, x),
        rhs,
        method: "lhs: determinant lemma + Woodbury in the d-dim latent space; rhs: log of the trapezoid rule over z of the stacked (x,z) Gaussian density",
      });
    },
  },
  {
    tag: "5.2",
    title: "log p(x) = log ∫ [p(x,z)/q(z)] q(z) dz",
    kind: "identity",
    sides(ctx) {
      const { model, x, q } = ctx;
      // Quadrature in q's own coordinates z = μ_q + L_q u: ∫ (p/q)(z) q(z) dz = ∫ (p/q)(μ+Lu) N(u; 0, I) du.
      const standard = MvNormal64.standard(model.latentDim);
      const rhs = logIntegral(
        model.latentDim,
        (u) => {
          const zz = q.rsample(u);
          return model.logJoint(x, zz) - q.logProb(zz) + standard.logProb(u);
        },
        { pointsPerDim: ctx.grid.pointsPerDim, extent: 9 },
      );
      return identity({
        lhs: model.logMarginal(x),
        rhs,
        method: "lhs: log N(x; b, WWᵀ+σ²I); rhs: trapezoid rule of (p(x,z)/q(z))·N(u;0,I) over u, z = μ_q + L_q u",
      });
    },
  },
  {
    tag: "5.3",
    title: "log p(x) = log E_q[p(x,z)/q(z)]",
    kind: "monte-carlo",
    sides(ctx) {
      const { model, x, q } = ctx;
      const est = importanceSamplingMarginal(model, x, q, { n: ctx.samples, seed: ctx.seed }).log;
      return {
        rule: "standard-errors",
        estimate: est,
        reference: model.logMarginal(x),
        method: `lhs: importance sampling with q (n=${est.n}), log of the mean weight, delta-method SE; rhs: exact log p(x)`,
      };
    },
  },
  {
    tag: "5.4",
    title: "Jensen: log E_q[Y] ≥ E_q[log Y], Y = p(x,z)/q(z)",
    kind: "inequality",
    sides(ctx) {
      const { model, x, q } = ctx;
      const j = jensenGap(model, x, q, { n: ctx.samples, seed: ctx.seed });
      const exactGap = model.klToPosterior(x, q);
      return {
        // On one sample log(mean) ≥ mean(log) always holds; the claim with content is a gap
        // beyond the noise, and equal to the closed-form KL.
        rule: "exceeds",
        lhs: j.logMeanY.value,
        rhs: j.meanLogY.value,
        stdError: j.gap.stdError,
        method: `both sides by MC on the same n=${ctx.samples} draws z ~ q, SE of the paired gap; exact gap from the closed-form KL to the posterior`,
        also: [{ label: "gap = KL(q‖p(z|x))", rule: "standard-errors", estimate: j.gap, reference: exactGap }],
        details: { exactGap, gapZScore: Math.abs(j.gap.value - exactGap) / j.gap.stdError },
      };
    },
  },
  {
    tag: "5.5",
    title: "ELBO ≤ log p(x)",
    kind: "inequality",
    sides(ctx) {
      const { model, x, q, seed } = ctx;
      const lhs = model.logMarginal(x);
      const est = elboMonteCarlo(model, x, q, { n: ctx.samples, seed });
      const closed = model.elbo(x, q);
      // Many other q's: random means and full covariances; the closed-form ELBO never exceeds log p(x).
      const r = new Rng(seed).fork("ledger/5.5");
      let highest = -Infinity;
      for (let k = 0; k < 100; k++) {
        const A = new Matrix(2, 2);
        for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) A.set(i, j, 0.8 * r.normal());
        const cov = symmetrize(A.mmul(A.transpose()).add(Matrix.eye(2).mul(0.01)));
        const qk = new MvNormal64([2 * r.normal(), 2 * r.normal()], cov);
        highest = Math.max(highest, model.elbo(x, qk));
      }
      return {
        rule: "exceeds",
        lhs,
        rhs: est.value,
        stdError: est.stdError,
        method: `lhs: exact log p(x); rhs: ELBO (5.5) by MC, n=${est.n}; plus the closed-form ELBO of 100 random full-covariance q`,
        also: [
          { label: "MC ELBO = closed form", rule: "standard-errors", estimate: est, reference: closed },
          { label: "no ELBO of 100 random q above log p(x)", rule: "at-most", lhs: highest, rhs: lhs },
        ],
        details: { closedFormElbo: closed, zScoreVsClosedForm: Math.abs(est.value - closed) / est.stdError, minGapOver100q: lhs - highest },
      };
    },
  },
  {
    tag: "5.6",
    title: "p(x,z) = p(z) p(x|z) = p(z|x) p(x)",
    kind: "identity",
    sides({ model, x, z }) {
      return identity({
        lhs: model.posterior(x).logProb(z) + model.logMarginal(x),
        rhs: model.logPrior(z) + model.logLikelihood(x, z),
        method: "lhs: exact posterior × exact marginal; rhs: prior × likelihood",
      });
    },
  },
  {
    tag: "5.7",
    title: "ELBO = E_q[log p(x|z)] + E_q[log p(z) − log q(z)]",
    kind: "identity",
    sides({ model, x, q }) {
      const D = model.dataDim;
      const d = model.latentDim;
      // lhs: E_q[log p(x, z)] through the stacked joint: log N([x; μ_q]) − ½ tr(P_zz Σ_q), plus H(q).
      const joint = model.jointDistribution();
      const stacked = new Float64Array(D + d);
      stacked.set(x, 0);
      stacked.set(q.mean, D);
      const P = inverseSpd(joint.cov);
      const Pzz = P.subMatrix(D, D + d - 1, D, D + d - 1);
      const lhs = joint.logProb(stacked) - 0.5 * trace(Pzz.mmul(q.cov)) + q.entropy();
      // rhs: reconstruction term + (E_q[log p(z)] + H(q)), E_q[log p(z)] = −½(d log 2π + ‖μ‖² + tr Σ).
      let mu2 = 0;
      for (let i = 0; i < d; i++) mu2 += q.mean[i] ** 2;
      const rhs = model.reconstructionTerm(x, q) + (-0.5 * (d * LOG_2PI + mu2 + trace(q.cov)) + q.entropy());
      return identity({
        lhs,
        rhs,
        method: "lhs: E_q of the stacked-joint log density (precision matrix) + entropy; rhs: closed-form E_q[log p(x|z)] + E_q[log p(z)] + H(q)",
      });
    },
  },
  {
    tag: "5.8",
    title: "E_q[log p(z) − log q(z)] = −KL(q‖p(z))",
    kind: "monte-carlo",
    sides(ctx) {
      const { model, q } = ctx;
      const r = new Rng(ctx.seed).fork("ledger/5.8");
      const v = new Float64Array(ctx.samples);
      for (let s = 0; s < v.length; s++) {
        const z = q.sampleOne(r);
        v[s] = model.prior.logProb(z) - q.logProb(z);
      }
      const est = monteCarloMean(v);
      return {
        rule: "standard-errors",
        estimate: est,
        reference: -model.klToPrior(q),
        method: `lhs: MC mean of log p(z) − log q(z), z ~ q, n=${est.n}; rhs: −analytic KL`,
      };
    },
  },
  {
    tag: "5.9",
    title: "ELBO = E_q[log p(x|z)] − KL(q‖p(z))",
    kind: "monte-carlo",
    sides(ctx) {
      const { model, x, q } = ctx;
      const a = elboMonteCarlo(model, x, q, { n: ctx.samples, seed: ctx.seed + 1 });
      const b = elboSplit(model, x, q, { n: ctx.samples, seed: ctx.seed + 2 });
      return {
        rule: "standard-errors",
        // The two estimates are independent: the SE of their difference.
        estimate: { value: a.value, stdError: Math.sqrt(a.stdError ** 2 + b.stdError ** 2) },
        reference: b.value,
        method: `lhs: ELBO (5.5) by MC of log p(x,z) − log q(z); rhs: MC reconstruction − analytic KL (independent draws, n=${a.n} each)`,
        details: { closedFormElbo: model.elbo(x, q) },
      };
    },
  },
  {
    tag: "5.10",
    title: "log p(x) = ELBO + KL(q‖p(z|x))",
    kind: "identity",
    sides({ model, x, q }) {
      return identity({
        lhs: model.logMarginal(x),
        rhs: model.elbo(x, q) + model.klToPosterior(x, q),
        method: "lhs: log N(x; b, WWᵀ+σ²I); rhs: closed-form ELBO + analytic KL to the exact posterior",
      });
    },
  },
  {
    tag: "6",
    title: "reparameterized gradient z = μ + σ⊙ε is unbiased",
    kind: "monte-carlo",
    sides(ctx) {
      const { model, x, qParams } = ctx;
      const est = reparameterizationGradient(model, x, qParams, { n: ctx.samples, seed: ctx.seed });
      return {
        rule: "standard-errors",
        estimate: { value: est.mean, stdError: est.stdError },
        reference: exactElboGradient(model, x, qParams),
        method: `lhs: ‖mean of ∇φ[log p(x|μ+σ⊙ε)] − ∇φ KL‖ over n=${est.n} draws; rhs: ‖∇φ closed-form ELBO‖; φ = (μ, log σ)`,
      };
    },
  },
];

/** Part 1's ledger: its model and its entries. */
export const PART1_LEDGER: PartLedger<LedgerContext> = { part: 1, makeContext, entries: ENTRIES };
