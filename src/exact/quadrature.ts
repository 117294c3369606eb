/**
 * Marginals and posteriors by brute force: the trapezoid rule on a regular grid over
 * [−extent, extent]^d. This is the honest picture of why (4.1)'s denominator is "hard":
 * it needs G^d evaluations of the joint for G points per axis.
 */
import { Matrix } from "ml-matrix";
import { ArgumentError, assertInteger, assertPositive } from "../errors";
import { logSumExp, type Vector, type VectorLike } from "../linalg";
import { Rng } from "../random";
import { LinearGaussian } from "./linear-gaussian";
import type { JointDensity } from "./model";

/** Grid settings. */
export interface GridOptions {
  /** Grid points per latent axis, G (default 201 for d ≤ 2, 21 otherwise). */
  pointsPerDim?: number;
  /** The grid covers [−extent, extent] on each axis (default 6: the N(0,1) prior mass outside is < 1e-8). */
  extent?: number;
}

/** What a quadrature cost. */
export interface QuadratureCost {
  /** G^d. */
  gridPoints: number;
  /** Number of log-joint evaluations (= gridPoints). */
  densityEvaluations: number;
  /** Wall-clock seconds. */
  seconds: number;
}

/** Result of {@link quadratureLogMarginal}. */
export interface QuadratureResult {
  /** log ∫ p(x, z) dz by the trapezoid rule. */
  value: number;
  cost: QuadratureCost;
}

/** Result of {@link gridPosterior}. */
export interface GridPosterior {
  /** Grid coordinates per latent axis. */
  axes: Vector[];
  /** log p(x) ≈ log Σ_g w_g p(x, z_g). */
  logMarginal: number;
  /**
   * Normalized posterior density p(z_g | x) = p(x, z_g) / p(x) at each grid point,
   * row-major: for d = 2, index i·G + j holds z = (axes[0][i], axes[1][j]).
   */
  density: Float64Array;
  /** Posterior probability of each grid point's cell (quadrature weight × density); sums to 1. */
  mass: Float64Array;
  /** E[z | x] on the grid. */
  posteriorMean: Vector;
  /** Cov[z | x] on the grid. */
  posteriorCov: Matrix;
  cost: QuadratureCost;
}

function gridSettings(model: JointDensity, options: GridOptions, maxDim: number): { G: number; extent: number; d: number } {
  if (model === null || typeof model !== "object" || typeof model.logJoint !== "function") {
    throw new ArgumentError("model", "must have latentDim and logJoint(x, z)");
  }
  const d = model.latentDim;
  if (!(d >= 1 && d <= maxDim)) throw new ArgumentError("model", `latent dimension must be between 1 and ${maxDim} for a grid, got ${d}`);
  const G = options.pointsPerDim ?? (d <= 2 ? 201 : 21);
  assertInteger("pointsPerDim", G, 2);
  const extent = options.extent ?? 6;
  assertPositive("extent", extent);
  return { G, extent, d };
}

function axis(G: number, extent: number): { points: Vector; logWeights: Vector } {
  const h = (2 * extent) / (G - 1);
  const points = Float64Array.from({ length: G }, (_, i) => -extent + i * h);
  // Trapezoid weights: h inside, h/2 at both ends.
  const logWeights = Float64Array.from({ length: G }, (_, i) => Math.log(i === 0 || i === G - 1 ? h / 2 : h));
  return { points, logWeights };
}

/** Visit every point of the G^d grid; calls visit(flatIndex, z, logWeight). */
function forEachGridPoint(d: number, G: number, extent: number, visit: (index: number, z: Float64Array, logWeight: number) => void): number {
  const { points, logWeights } = axis(G, extent);
  const idx = new Int32Array(d);
  const z = new Float64Array(d).fill(points[0]);
  const total = G ** d;
  for (let flat = 0; flat < total; flat++) {
    let lw = 0;
    for (let k = 0; k < d; k++) lw += logWeights[idx[k]];
    visit(flat, z, lw);
    // Odometer increment, last axis fastest (row-major).
    for (let k = d - 1; k >= 0; k--) {
      idx[k]++;
      if (idx[k] < G) {
        z[k] = points[idx[k]];
        break;
      }
      idx[k] = 0;
      z[k] = points[0];
    }
  }
  return total;
}

/**
 * log p(x) = log ∫ p(x, z) dz by the trapezoid rule on a G^d grid (any d ≤ 6).
 * For a Gaussian integrand that the grid resolves, the error falls exponentially with G.
 */
export function quadratureLogMarginal(model: JointDensity, x: VectorLike, options: GridOptions = {}): QuadratureResult {
  const { G, extent, d } = gridSettings(model, options, 6);
  const start = performance.now();
  const total = G ** d;
  const terms = new Float64Array(total);
  forEachGridPoint(d, G, extent, (i, z, lw) => {
    terms[i] = lw + model.logJoint(x, z);
  });
  const value = logSumExp(terms);
  const seconds = (performance.now() - start) / 1000;
  return { value, cost: { gridPoints: total, densityEvaluations: total, seconds } };
}

/**
 * Bayes' rule (4.1) on a grid: p(z | x) = p(x, z) / ∫ p(x, z') dz', with the
 * denominator by quadrature. For latent dimension 1 or 2 (plots); returns the log
 * marginal, the normalized posterior on the grid, its mean and covariance, and the cost.
 */
export function gridPosterior(model: JointDensity, x: VectorLike, options: GridOptions = {}): GridPosterior {
  const { G, extent, d } = gridSettings(model, options, 2);
  const start = performance.now();
  const total = G ** d;
  const logJoint = new Float64Array(total);
  const logW = new Float64Array(total);
  forEachGridPoint(d, G, extent, (i, z, lw) => {
    logJoint[i] = model.logJoint(x, z);
    logW[i] = lw;
  });
  const logMarginal = logSumExp(Float64Array.from(logJoint, (l, i) => l + logW[i]));
  const density = Float64Array.from(logJoint, (l) => Math.exp(l - logMarginal));
  const mass = Float64Array.from(logJoint, (l, i) => Math.exp(l + logW[i] - logMarginal));
  const { points } = axis(G, extent);
  // Coordinate k of flat index i (row-major, last axis fastest).
  const coord = (i: number, k: number) => points[Math.floor(i / G ** (d - 1 - k)) % G];
  const mean = new Float64Array(d);
  for (let i = 0; i < total; i++) for (let k = 0; k < d; k++) mean[k] += mass[i] * coord(i, k);
  const cov = new Matrix(d, d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let i = 0; i < total; i++) s += mass[i] * (coord(i, a) - mean[a]) * (coord(i, b) - mean[b]);
      cov.set(a, b, s);
      cov.set(b, a, s);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const axes = Array.from({ length: d }, () => axis(G, extent).points);
  return { axes, logMarginal, density, mass, posteriorMean: mean, posteriorCov: cov, cost: { gridPoints: total, densityEvaluations: total, seconds } };
}

/** One row of {@link normalizerCost}. */
export interface NormalizerCostRow {
  latentDim: number;
  pointsPerDim: number;
  gridPoints: number;
  densityEvaluations: number;
  seconds: number;
  /** Quadrature log p(x). */
  logMarginal: number;
  /** Closed-form log p(x) of the same linear-Gaussian model. */
  exactLogMarginal: number;
  absError: number;
}

/**
 * How the cost of the normalizer ∫ p(x, z) dz grows with latent dimension: for each d,
 * a seeded linear-Gaussian model, one observation, and a G^d trapezoid grid.
 * Defaults: dims 1…5, G = 15 points per axis on [−5, 5], D = 4, σ = 2, seed 0
 * (d = 5 is 759,375 evaluations, about half a second).
 */
export function normalizerCost(
  options: { dims?: number[]; pointsPerDim?: number; extent?: number; dataDim?: number; noiseStd?: number; seed?: number } = {},
): NormalizerCostRow[] {
  const dims = options.dims ?? [1, 2, 3, 4, 5];
  const G = options.pointsPerDim ?? 15;
  const dataDim = options.dataDim ?? 4;
  const seed = options.seed ?? 0;
  assertInteger("pointsPerDim", G, 2);
  dims.forEach((d) => {
    assertInteger("dims", d, 1);
  });
  return dims.map((d) => {
    const model = LinearGaussian.random(seed + d, { latentDim: d, dataDim, noiseStd: options.noiseStd ?? 2 });
    const x = model.sample(new Rng(seed).fork(`normalizerCost/${d}`), 1).x[0];
    const q = quadratureLogMarginal(model, x, { pointsPerDim: G, extent: options.extent ?? 5 });
    const exact = model.logMarginal(x);
    return {
      latentDim: d,
      pointsPerDim: G,
      gridPoints: q.cost.gridPoints,
      densityEvaluations: q.cost.densityEvaluations,
      seconds: q.cost.seconds,
      logMarginal: q.value,
      exactLogMarginal: exact,
      absError: Math.abs(q.value - exact),
    };
  });
}
