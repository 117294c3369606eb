/**
 * What a ledger row is, and the ways its two sides are compared:
 *
 * - "identity": both sides exact in float64; pass if |lhs − rhs| / max(|lhs|, |rhs|, 1) ≤ 1e-10.
 * - "monte-carlo": one side is an estimate; pass if |lhs − rhs| ≤ 4 standard errors.
 *   (With a fixed seed the result is deterministic; for a correct estimator a 4-SE miss
 *   has probability ≈ 6e-5 per check.)
 * - "inequality": the row reports the gap lhs − rhs and its sign (must be > 0).
 * - "optimum": lhs is the claimed maximum; no other method may beat it, and an
 *   independent optimizer must reach it.
 */

export type LedgerKind = "identity" | "monte-carlo" | "inequality" | "optimum";

/** One checked equation. */
export interface LedgerRow {
  /** Equation tag as the article prints it: "3.1" … "5.10", "6" (unique within its part). */
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
  kind: LedgerKind;
  /** Standard error of the Monte Carlo side, when there is one. */
  stdError?: number;
  /** Secondary numbers behind the row (also part of `pass` where stated in `tolerance`). */
  details?: Record<string, number>;
  /** The article of the series the equation belongs to (1 for "从 VAE 出发"). */
  part: number;
}

/** What a check computes: both sides and the verdict (the entry supplies tag, title and kind). */
export type Verdict = Pick<LedgerRow, "lhs" | "rhs" | "residual" | "tolerance" | "method" | "pass" | "stdError" | "details">;

/** One equation of a part's ledger, declared once. */
export interface LedgerEntry<Context> {
  tag: string;
  title: string;
  kind: LedgerKind;
  /** Computes both sides on the part's context; `perturb` wraps the left-hand side (a test hook). */
  check(ctx: Context, perturb: (lhs: number) => number): Verdict;
}

/** A part's ledger: the shared context its checks run on, and its entries in article order. */
export interface PartLedger<Context> {
  part: number;
  makeContext(options: LedgerOptions): Context;
  entries: readonly LedgerEntry<Context>[];
}

/** Ledger options. */
export interface LedgerOptions {
  /** Which article of the series (default 1). */
  part?: number;
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

function relResidual(lhs: number, rhs: number): number {
  return Math.abs(lhs - rhs) / Math.max(Math.abs(lhs), Math.abs(rhs), 1);
}

/** Both sides exact: relative residual within IDENTITY_TOLERANCE (and `extraPass`, described by `extraTol`). */
export function identity(method: string, lhs: number, rhs: number, details?: Record<string, number>, extraPass = true, extraTol = ""): Verdict {
  const residual = relResidual(lhs, rhs);
  return {
    lhs,
    rhs,
    residual,
    tolerance: `relative ≤ ${IDENTITY_TOLERANCE.toExponential(0)}${extraTol}`,
    method,
    pass: residual <= IDENTITY_TOLERANCE && extraPass,
    details,
  };
}

/** One side estimated with standard error `se`: within MC_STANDARD_ERRORS of it. */
export function monteCarlo(method: string, lhs: number, rhs: number, se: number, details?: Record<string, number>): Verdict {
  const residual = Math.abs(lhs - rhs);
  return {
    lhs,
    rhs,
    residual,
    tolerance: `≤ ${MC_STANDARD_ERRORS} SE (SE = ${se.toExponential(1)})`,
    method,
    pass: residual <= MC_STANDARD_ERRORS * se,
    stdError: se,
    details: { zScore: residual / se, ...details },
  };
}
