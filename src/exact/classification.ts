/**
 * Article §1–2 in miniature: a 2-D, two-class data set and two classifiers.
 *
 * - Generative: model p(x, y) = p(y) p(x | y) with a class prior and Gaussian
 *   class-conditionals (closed-form MLE); it can sample new (x, y) pairs and classifies
 *   by Bayes' rule p(y | x) ∝ p(y) p(x | y).
 * - Discriminative: logistic regression models p(y | x) directly, fitted by Newton's
 *   method (IRLS); it cannot generate x.
 */
import { Matrix } from "ml-matrix";
import { ArgumentError, assertInteger, assertNonEmpty, assertPositive } from "../errors";
import { cholesky, choleskySolve, logSumExp, symmetrize, type Vector, type VectorLike } from "../linalg";
import { Rng } from "../random";
import { MvNormal64 } from "./mvnormal";

/** Labelled 2-D points: x[i] has label y[i] ∈ {0, 1}. */
export interface LabelledData {
  x: Vector[];
  y: number[];
}

/** Anything that gives p(y = 1 | x). */
export interface BinaryClassifier {
  /** p(y = 1 | x). */
  predictProba(x: VectorLike): number;
}

/** The true generating process of {@link makeTwoClassData} (for reference curves). */
export const TWO_CLASS_TRUTH = {
  prior1: 0.5,
  class0: new MvNormal64(
    [-1, -0.5],
    [
      [0.8, 0.45],
      [0.45, 0.8],
    ],
  ),
  class1: new MvNormal64(
    [1, 0.7],
    [
      [0.6, -0.2],
      [-0.2, 1.2],
    ],
  ),
};

/**
 * A seeded 2-D, two-class data set: y ~ Bernoulli(0.5), x | y ~ a Gaussian per class
 * with different covariances (so the Bayes boundary is curved).
 */
export function makeTwoClassData(seed: number, options: { n?: number } = {}): LabelledData {
  const n = options.n ?? 400;
  assertInteger("n", n, 1);
  const rng = new Rng(seed).fork("makeTwoClassData");
  const x: Vector[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = rng.uniform() < TWO_CLASS_TRUTH.prior1 ? 1 : 0;
    y.push(label);
    x.push((label ? TWO_CLASS_TRUTH.class1 : TWO_CLASS_TRUTH.class0).sampleOne(rng));
  }
  return { x, y };
}

function checkLabelled(x: VectorLike[], y: ArrayLike<number>): number {
  if (!Array.isArray(x)) throw new ArgumentError("x", "must be an array of points");
  assertNonEmpty("x", x);
  if (y === null || y === undefined || y.length !== x.length) {
    throw new ArgumentError("y", `shape mismatch: expected ${x.length} labels, got ${y?.length}`);
  }
  const D = x[0].length;
  x.forEach((p, i) => {
    if (p.length !== D) throw new ArgumentError("x", `shape mismatch: point ${i} has length ${p.length}, point 0 has ${D}`);
    for (let k = 0; k < D; k++) if (!Number.isFinite(p[k])) throw new ArgumentError("x", `must contain only finite numbers, got ${p[k]} in point ${i}`);
  });
  for (let i = 0; i < y.length; i++) if (y[i] !== 0 && y[i] !== 1) throw new ArgumentError("y", `labels must be 0 or 1, got ${y[i]} at index ${i}`);
  return D;
}

/** Gaussian class-conditional generative classifier (quadratic discriminant analysis). */
export class GaussianGenerativeClassifier implements BinaryClassifier {
  /** p(y = 1). */
  readonly prior1: number;
  /** p(x | y) for y = 0, 1. */
  readonly classConditionals: [MvNormal64, MvNormal64];

  constructor(prior1: number, classConditionals: [MvNormal64, MvNormal64]) {
    if (!(prior1 > 0 && prior1 < 1)) throw new ArgumentError("prior1", `must be in (0, 1), got ${prior1}`);
    this.prior1 = prior1;
    this.classConditionals = classConditionals;
  }

  /**
   * Closed-form maximum likelihood: p(y=1) = N₁/N, μ_y = class mean,
   * Σ_y = (1/N_y) Σ (x − μ_y)(x − μ_y)ᵀ (+ `ridge`·I, default 0, for tiny classes).
   */
  static fit(x: VectorLike[], y: ArrayLike<number>, options: { ridge?: number } = {}): GaussianGenerativeClassifier {
    const D = checkLabelled(x, y);
    const ridge = options.ridge ?? 0;
    const dists = [0, 1].map((label) => {
      const pts = x.filter((_, i) => y[i] === label);
      if (pts.length < 2) throw new ArgumentError("y", `class ${label} needs at least 2 points, got ${pts.length}`);
      const mean = new Float64Array(D);
      for (const p of pts) for (let k = 0; k < D; k++) mean[k] += p[k] / pts.length;
      const cov = new Matrix(D, D);
      for (const p of pts) {
        for (let a = 0; a < D; a++) for (let b = 0; b < D; b++) cov.set(a, b, cov.get(a, b) + ((p[a] - mean[a]) * (p[b] - mean[b])) / pts.length);
      }
      for (let a = 0; a < D; a++) cov.set(a, a, cov.get(a, a) + ridge);
      return new MvNormal64(mean, symmetrize(cov));
    });
    const n1 = Array.from(y).filter((v) => v === 1).length;
    return new GaussianGenerativeClassifier(n1 / x.length, [dists[0], dists[1]]);
  }

  /** log p(x, y) = log p(y) + log p(x | y). */
  logJoint(x: VectorLike, y: number): number {
    if (y !== 0 && y !== 1) throw new ArgumentError("y", `must be 0 or 1, got ${y}`);
    return Math.log(y === 1 ? this.prior1 : 1 - this.prior1) + this.classConditionals[y].logProb(x);
  }

  /** log p(x) = log Σ_y p(x, y). */
  logMarginal(x: VectorLike): number {
    return logSumExp([this.logJoint(x, 0), this.logJoint(x, 1)]);
  }

  /** Bayes' rule: p(y = 1 | x) = p(1) p(x | 1) / Σ_y p(y) p(x | y). */
  predictProba(x: VectorLike): number {
    return 1 / (1 + Math.exp(this.logJoint(x, 0) - this.logJoint(x, 1)));
  }

  classify(x: VectorLike): number {
    return this.predictProba(x) >= 0.5 ? 1 : 0;
  }

  /** New labelled points from the fitted p(x, y): y ~ p(y), then x ~ p(x | y). */
  sample(rng: Rng, n: number): LabelledData {
    if (!(rng instanceof Rng)) throw new ArgumentError("rng", "must be an Rng (new Rng(seed))");
    assertInteger("n", n, 0);
    const x: Vector[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const label = rng.uniform() < this.prior1 ? 1 : 0;
      y.push(label);
      x.push(this.classConditionals[label].sampleOne(rng));
    }
    return { x, y };
  }
}

/** Logistic regression p(y = 1 | x) = σ(w₀ + wᵀx), fitted by Newton's method. */
export class LogisticRegression implements BinaryClassifier {
  /** [w₀ (bias), w₁, …, w_D]. */
  readonly weights: Vector;
  /** Newton iterations used by {@link LogisticRegression.fit}. */
  readonly iterations: number;

  constructor(weights: VectorLike, iterations = 0) {
    this.weights = Float64Array.from(weights);
    this.iterations = iterations;
  }

  /**
   * Maximize Σ log p(y_i | x_i) − (l2/2)‖w‖² by Newton's method (IRLS):
   * w ← w + H⁻¹ g with g = Φᵀ(y − p) − l2·w, H = Φᵀ diag(p(1−p)) Φ + l2·I.
   * A small `l2` (default 1e-6) keeps the optimum finite on separable data.
   */
  static fit(x: VectorLike[], y: ArrayLike<number>, options: { l2?: number; maxIterations?: number; tolerance?: number } = {}): LogisticRegression {
    const D = checkLabelled(x, y);
    const l2 = options.l2 ?? 1e-6;
    assertPositive("l2", l2);
    const maxIterations = options.maxIterations ?? 100;
    const tolerance = options.tolerance ?? 1e-12;
    const P = D + 1;
    const w = new Float64Array(P);
    let it = 0;
    for (; it < maxIterations; it++) {
      const g = new Float64Array(P);
      const H = new Matrix(P, P);
      for (let i = 0; i < x.length; i++) {
        const phi = [1, ...Array.from(x[i])];
        let a = 0;
        for (let k = 0; k < P; k++) a += w[k] * phi[k];
        const p = 1 / (1 + Math.exp(-a));
        for (let k = 0; k < P; k++) {
          g[k] += (y[i] - p) * phi[k];
          for (let l = 0; l < P; l++) H.set(k, l, H.get(k, l) + p * (1 - p) * phi[k] * phi[l]);
        }
      }
      for (let k = 0; k < P; k++) {
        g[k] -= l2 * w[k];
        H.set(k, k, H.get(k, k) + l2);
      }
      const step = choleskySolve(cholesky("hessian", symmetrize(H)), g);
      let size = 0;
      for (let k = 0; k < P; k++) {
        w[k] += step[k];
        size = Math.max(size, Math.abs(step[k]));
      }
      if (size < tolerance * (1 + Math.max(...Array.from(w, Math.abs)))) {
        it++;
        break;
      }
    }
    return new LogisticRegression(w, it);
  }

  /** p(y = 1 | x) = σ(w₀ + wᵀx). */
  predictProba(x: VectorLike): number {
    if (x.length !== this.weights.length - 1) {
      throw new ArgumentError("x", `shape mismatch: expected length ${this.weights.length - 1}, got ${x.length}`);
    }
    let a = this.weights[0];
    for (let k = 0; k < x.length; k++) a += this.weights[k + 1] * x[k];
    return 1 / (1 + Math.exp(-a));
  }

  classify(x: VectorLike): number {
    return this.predictProba(x) >= 0.5 ? 1 : 0;
  }

  /** Σ log p(y_i | x_i) (the conditional log-likelihood it maximizes, without the ridge). */
  conditionalLogLikelihood(x: VectorLike[], y: ArrayLike<number>): number {
    checkLabelled(x, y);
    let s = 0;
    for (let i = 0; i < x.length; i++) {
      const p = this.predictProba(x[i]);
      s += Math.log(y[i] === 1 ? p : 1 - p);
    }
    return s;
  }
}

/** Fraction of points classified correctly at threshold 1/2. */
export function accuracy(classifier: BinaryClassifier, x: VectorLike[], y: ArrayLike<number>): number {
  checkLabelled(x, y);
  let correct = 0;
  for (let i = 0; i < x.length; i++) if ((classifier.predictProba(x[i]) >= 0.5 ? 1 : 0) === y[i]) correct++;
  return correct / x.length;
}

/** p(y = 1 | x) on a regular 2-D grid, row-major: p[i·G + j] at (xs[i], ys[j]). */
export function probabilityGrid(
  classifier: BinaryClassifier,
  options: { xRange?: [number, number]; yRange?: [number, number]; pointsPerDim?: number } = {},
): { xs: Vector; ys: Vector; p: Float64Array } {
  const [x0, x1] = options.xRange ?? [-4, 4];
  const [y0, y1] = options.yRange ?? [-4, 4];
  const G = options.pointsPerDim ?? 61;
  assertInteger("pointsPerDim", G, 2);
  if (!(x1 > x0)) throw new ArgumentError("xRange", `must be increasing, got [${x0}, ${x1}]`);
  if (!(y1 > y0)) throw new ArgumentError("yRange", `must be increasing, got [${y0}, ${y1}]`);
  const xs = Float64Array.from({ length: G }, (_, i) => x0 + ((x1 - x0) * i) / (G - 1));
  const ys = Float64Array.from({ length: G }, (_, i) => y0 + ((y1 - y0) * i) / (G - 1));
  const p = new Float64Array(G * G);
  for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) p[i * G + j] = classifier.predictProba([xs[i], ys[j]]);
  return { xs, ys, p };
}
