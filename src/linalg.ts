/**
 * Float64 linear algebra for the exact side of the library: thin helpers over
 * `ml-matrix` (Cholesky, triangular solves, log-determinants, inverses), and sums in
 * log space (log-sum-exp, log-mean-exp).
 *
 * Conventions: a vector is a `Float64Array` (`Vector`); public functions also accept
 * `number[]` (`VectorLike`) and convert once at the boundary. Matrices are
 * `ml-matrix` `Matrix` objects; `number[][]` is accepted where natural.
 */
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix } from "ml-matrix";
import { ArgumentError, assertFinite, assertLength, assertNonEmpty } from "./errors";

export { Matrix };

/** A float64 vector. */
export type Vector = Float64Array;
/** Anything that reads like a vector: `Float64Array`, `number[]`, ... */
export type VectorLike = ArrayLike<number>;
/** A matrix, or its rows as plain arrays. */
export type MatrixLike = Matrix | number[][];

export const LOG_2PI = Math.log(2 * Math.PI);

/** Copy `v` into a fresh `Float64Array`, checking finiteness and (optionally) length. */
export function toVector(name: string, v: VectorLike, expectedLength?: number): Vector {
  if (v === null || v === undefined || typeof (v as ArrayLike<number>).length !== "number") {
    throw new ArgumentError(name, "must be an array of numbers");
  }
  if (expectedLength !== undefined) assertLength(name, v, expectedLength);
  assertFinite(name, v);
  return Float64Array.from(v as ArrayLike<number>);
}

/** Convert to an `ml-matrix` Matrix, checking finiteness and (optionally) shape. */
export function toMatrix(name: string, m: MatrixLike, rows?: number, columns?: number): Matrix {
  let out: Matrix;
  if (m instanceof Matrix) {
    out = m.clone();
  } else if (Array.isArray(m)) {
    assertNonEmpty(name, m);
    const width = m[0].length;
    m.forEach((row, i) => {
      if (row.length !== width) {
        throw new ArgumentError(name, `shape mismatch: row ${i} has length ${row.length}, row 0 has ${width}`);
      }
    });
    out = new Matrix(m);
  } else {
    throw new ArgumentError(name, "must be a Matrix or an array of rows");
  }
  if (rows !== undefined && out.rows !== rows) {
    throw new ArgumentError(name, `shape mismatch: expected ${rows} rows, got ${out.rows}`);
  }
  if (columns !== undefined && out.columns !== columns) {
    throw new ArgumentError(name, `shape mismatch: expected ${columns} columns, got ${out.columns}`);
  }
  for (let i = 0; i < out.rows; i++) assertFinite(name, out.getRow(i));
  return out;
}

/** Lower-triangular Cholesky factor L with A = L Lᵀ; throws if A is not symmetric positive definite. */
export function cholesky(name: string, a: Matrix): Matrix {
  if (!a.isSquare()) throw new ArgumentError(name, `must be square, got ${a.rows}×${a.columns}`);
  const n = a.rows;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const x = a.get(i, j);
      const y = a.get(j, i);
      if (Math.abs(x - y) > 1e-10 * Math.max(1, Math.abs(x), Math.abs(y))) {
        throw new ArgumentError(name, `must be symmetric, entry (${i},${j}) = ${x} but (${j},${i}) = ${y}`);
      }
    }
  }
  const chol = new CholeskyDecomposition(a);
  if (!chol.isPositiveDefinite()) throw new ArgumentError(name, "must be positive definite");
  return chol.lowerTriangularMatrix;
}

/** Row-major copy of a matrix, for tight loops. */
export function flatten(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows * m.columns);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.columns; j++) out[i * m.columns + j] = m.get(i, j);
  return out;
}

/** Solve L y = b for lower-triangular L given row-major (`n`×`n`), into `out`. */
export function forwardSubstitute(l: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * out[k];
    out[i] = s / l[i * n + i];
  }
  return out;
}

/** Solve Lᵀ y = b for lower-triangular L given row-major, into `out`. */
export function backSubstitute(l: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * out[k];
    out[i] = s / l[i * n + i];
  }
  return out;
}

/** Solve A x = b given A's Cholesky factor L (A = L Lᵀ). */
export function choleskySolve(lower: Matrix, b: VectorLike): Vector {
  const n = lower.rows;
  assertLength("b", b, n);
  const l = flatten(lower);
  return backSubstitute(l, n, forwardSubstitute(l, n, b));
}

/** log det A from A's Cholesky factor: 2 Σ log L_ii. */
export function logDetFromCholesky(lower: Matrix): number {
  let s = 0;
  for (let i = 0; i < lower.rows; i++) s += Math.log(lower.get(i, i));
  return 2 * s;
}

/** log det A of a symmetric positive-definite matrix. */
export function logDet(a: MatrixLike): number {
  return logDetFromCholesky(cholesky("a", toMatrix("a", a)));
}

/** Matrix trace. */
export function trace(a: Matrix): number {
  let s = 0;
  for (let i = 0; i < Math.min(a.rows, a.columns); i++) s += a.get(i, i);
  return s;
}

/** Inverse of a symmetric positive-definite matrix through its Cholesky factor. */
export function inverseSpd(a: Matrix): Matrix {
  const lower = cholesky("a", a);
  const n = a.rows;
  const l = flatten(lower);
  const out = new Matrix(n, n);
  const e = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    const col = backSubstitute(l, n, forwardSubstitute(l, n, e));
    for (let i = 0; i < n; i++) out.set(i, j, col[i]);
  }
  // Symmetrize away rounding so downstream Cholesky checks see an exactly symmetric matrix.
  return symmetrize(out);
}

/** (A + Aᵀ) / 2. */
export function symmetrize(a: Matrix): Matrix {
  return a.clone().add(a.transpose()).mul(0.5);
}

/** Symmetric eigendecomposition, eigenvalues in descending order with matching eigenvector columns. */
export function symmetricEigen(a: Matrix): { values: Vector; vectors: Matrix } {
  const evd = new EigenvalueDecomposition(symmetrize(a), { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const order = values.map((_, i) => i).sort((i, j) => values[j] - values[i]);
  const vectors = new Matrix(a.rows, a.rows);
  order.forEach((src, dst) => {
    for (let i = 0; i < a.rows; i++) vectors.set(i, dst, evd.eigenvectorMatrix.get(i, src));
  });
  return { values: Float64Array.from(order.map((i) => values[i])), vectors };
}

/**
 * The largest of values[start..end), NaN if one is NaN. A loop: spreading 10⁵ values into
 * Math.max overflows the stack.
 */
export function maxOf(values: ArrayLike<number>, start = 0, end = values.length): number {
  let m = -Infinity;
  for (let i = start; i < end; i++) m = Math.max(m, values[i]);
  return m;
}

/** Σ exp(v_i − shift) over values[start..end). */
function sumExp(values: ArrayLike<number>, shift: number, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += Math.exp(values[i] - shift);
  return s;
}

/**
 * log Σ exp(v_i) over values[start..end), stably: the largest value m is factored out,
 * m + log Σ exp(v_i − m), so no exp overflows. When m is ±∞ or NaN, that is the answer.
 */
export function logSumExp(values: ArrayLike<number>, start = 0, end = values.length): number {
  const m = maxOf(values, start, end);
  if (!Number.isFinite(m)) return m;
  return m + Math.log(sumExp(values, m, start, end));
}

/** log of the mean of exp(v_i) over values[start..end), stably: m + log(Σ exp(v_i − m) / n). */
export function logMeanExp(values: ArrayLike<number>, start = 0, end = values.length): number {
  const m = maxOf(values, start, end);
  if (!Number.isFinite(m)) return m;
  return m + Math.log(sumExp(values, m, start, end) / (end - start));
}

/** Sample mean and unbiased sample variance of a list of numbers. */
export function meanAndVariance(a: ArrayLike<number>): { mean: number; variance: number } {
  const n = a.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += a[i];
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (a[i] - m) ** 2;
  return { mean: m, variance: n > 1 ? v / (n - 1) : NaN };
}
