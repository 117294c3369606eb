/**
 * A float64 multivariate normal with full covariance, held through its Cholesky
 * factor Σ = L Lᵀ (the `scale_tril` of torch.distributions.MultivariateNormal).
 */
import { Matrix } from "ml-matrix";
import { ArgumentError, assertInteger, assertPositive } from "../errors";
import {
  backSubstitute,
  cholesky,
  flatten,
  forwardSubstitute,
  LOG_2PI,
  logDetFromCholesky,
  type MatrixLike,
  toMatrix,
  toVector,
  type Vector,
  type VectorLike,
} from "../linalg";
import { Rng } from "../random";

export class MvNormal64 {
  /** Dimension of the event space. */
  readonly dim: number;
  /** The mean μ. */
  readonly mean: Vector;
  /** The covariance Σ. */
  readonly cov: Matrix;
  /** The lower Cholesky factor L of Σ (reparameterization: x = μ + L ε). */
  readonly scaleTril: Matrix;
  private readonly l: Float64Array;
  private readonly logNormalizer: number;
  private readonly work: Float64Array;

  /**
   * @param mean μ, length d.
   * @param cov Σ, d×d, symmetric positive definite.
   */
  constructor(mean: VectorLike, cov: MatrixLike) {
    this.mean = toVector("mean", mean);
    if (this.mean.length === 0) throw new ArgumentError("mean", "must not be empty");
    this.dim = this.mean.length;
    this.cov = toMatrix("cov", cov, this.dim, this.dim);
    this.scaleTril = cholesky("cov", this.cov);
    this.l = flatten(this.scaleTril);
    this.logNormalizer = -0.5 * (this.dim * LOG_2PI + logDetFromCholesky(this.scaleTril));
    this.work = new Float64Array(this.dim);
  }

  /** N(mean, diag(std²)). */
  static diag(mean: VectorLike, std: VectorLike): MvNormal64 {
    const m = toVector("mean", mean);
    const s = toVector("std", std, m.length);
    assertPositive("std", s);
    return new MvNormal64(m, Matrix.diag(Array.from(s, (v) => v * v)));
  }

  /** The standard normal N(0, I_d). */
  static standard(dim: number): MvNormal64 {
    assertInteger("dim", dim, 1);
    return new MvNormal64(new Float64Array(dim), Matrix.eye(dim));
  }

  /** Standard deviations √Σ_ii. */
  get std(): Vector {
    return Float64Array.from({ length: this.dim }, (_, i) => Math.sqrt(this.cov.get(i, i)));
  }

  /** True if Σ is diagonal. */
  get isDiagonal(): boolean {
    for (let i = 0; i < this.dim; i++) for (let j = 0; j < this.dim; j++) if (i !== j && this.cov.get(i, j) !== 0) return false;
    return true;
  }

  /** log N(x; μ, Σ) = -½[d log 2π + log|Σ| + (x-μ)ᵀ Σ⁻¹ (x-μ)]. */
  logProb(x: VectorLike): number {
    if (x.length !== this.dim) {
      throw new ArgumentError("x", `shape mismatch: expected length ${this.dim}, got ${x.length}`);
    }
    const d = this.dim;
    const w = this.work;
    for (let i = 0; i < d; i++) {
      const v = x[i];
      if (!Number.isFinite(v)) throw new ArgumentError("x", `must contain only finite numbers, got ${v} at index ${i}`);
      w[i] = v - this.mean[i];
    }
    forwardSubstitute(this.l, d, w, w);
    let q = 0;
    for (let i = 0; i < d; i++) q += w[i] * w[i];
    return this.logNormalizer - 0.5 * q;
  }

  /** The reparameterized sample x = μ + L ε for a given standard-normal ε (§6). */
  rsample(eps: VectorLike): Vector {
    if (eps.length !== this.dim) {
      throw new ArgumentError("eps", `shape mismatch: expected length ${this.dim}, got ${eps.length}`);
    }
    const out = Float64Array.from(this.mean);
    for (let i = 0; i < this.dim; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += this.l[i * this.dim + k] * eps[k];
      out[i] += s;
    }
    return out;
  }

  /** One draw. */
  sampleOne(rng: Rng): Vector {
    return this.rsample(rng.normals(this.dim));
  }

  /** `n` independent draws. */
  sample(rng: Rng, n: number): Vector[] {
    assertInteger("n", n, 0);
    if (!(rng instanceof Rng)) throw new ArgumentError("rng", "must be an Rng (new Rng(seed))");
    const out: Vector[] = [];
    for (let i = 0; i < n; i++) out.push(this.sampleOne(rng));
    return out;
  }

  /** Differential entropy ½[d(1 + log 2π) + log|Σ|]. */
  entropy(): number {
    return 0.5 * (this.dim * (1 + LOG_2PI) + logDetFromCholesky(this.scaleTril));
  }

  /** Σ⁻¹ v. */
  precisionTimes(v: VectorLike): Vector {
    return backSubstitute(this.l, this.dim, forwardSubstitute(this.l, this.dim, v));
  }
}

/**
 * Analytic KL(q ‖ p) between two multivariate normals:
 * ½[tr(Σp⁻¹Σq) + (μp-μq)ᵀΣp⁻¹(μp-μq) - d + log|Σp| - log|Σq|].
 */
export function klMvNormal(q: MvNormal64, p: MvNormal64): number {
  if (!(q instanceof MvNormal64)) throw new ArgumentError("q", "must be an MvNormal64");
  if (!(p instanceof MvNormal64)) throw new ArgumentError("p", "must be an MvNormal64");
  if (q.dim !== p.dim) throw new ArgumentError("p", `shape mismatch: q has dimension ${q.dim}, p has ${p.dim}`);
  const d = q.dim;
  const lp = flatten(p.scaleTril);
  const lq = flatten(q.scaleTril);
  // tr(Σp⁻¹ Σq) = ‖Lp⁻¹ Lq‖²_F, column by column.
  let tr = 0;
  const col = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < d; i++) col[i] = lq[i * d + j];
    const y = forwardSubstitute(lp, d, col);
    for (let i = 0; i < d; i++) tr += y[i] * y[i];
  }
  const diff = new Float64Array(d);
  for (let i = 0; i < d; i++) diff[i] = p.mean[i] - q.mean[i];
  const y = forwardSubstitute(lp, d, diff);
  let maha = 0;
  for (let i = 0; i < d; i++) maha += y[i] * y[i];
  return 0.5 * (tr + maha - d + logDetFromCholesky(p.scaleTril) - logDetFromCholesky(q.scaleTril));
}
