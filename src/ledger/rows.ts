/**
 * What a ledger entry is. An entry computes the two sides of one equation on its part's
 * context and names the rule that compares them (a {@link CheckSides}, as a notebook's
 * claim does); the judge (src/judge.ts) builds the row. Part 1's entries use:
 *
 * - identities: both sides exact in float64; relative |Δ| = |Δ| / max(|lhs|, |rhs|, 1) ≤ 1e-10 (a stated
 *   bound that also covers the grids' quadrature error), see {@link identity};
 * - Monte Carlo: one side an estimate, within 4 standard errors;
 * - inequalities: the gap exceeds 4 standard errors (the rule "exceeds");
 * - optimum: an independent optimizer reaches the claimed maximum and never beats it.
 */
import type { CheckRow, CheckSides, Comparison } from "../judge";

/** What an equation is, as the README's and the index page's tables say. */
export type LedgerKind = "identity" | "monte-carlo" | "inequality" | "optimum";

/** A ledger row: a checked row that also says its part and its kind. */
export type LedgerRow = CheckRow & { part: number; kind: LedgerKind };

/** Both sides and their rule, with the method (the entry supplies tag and title). */
export type LedgerSides = CheckSides;

/** One equation of a part's ledger, declared once. */
export interface LedgerEntry<Context> {
  /** Equation tag as the article prints it: "3.1" … "5.10", "6" (unique within its part). */
  tag: string;
  /** What the equation says, in words. */
  title: string;
  kind: LedgerKind;
  /** Computes both sides on the part's context, independently, and names the rule that compares them. */
  sides(ctx: Context): LedgerSides;
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
}

/** Relative tolerance of the ledger's float64 identities. */
export const IDENTITY_TOLERANCE = 1e-10;

/** Both sides exact in float64: |Δ| / max(|lhs|, |rhs|, 1) ≤ IDENTITY_TOLERANCE. */
export function identity(sides: {
  lhs: number;
  rhs: number;
  method: string;
  also?: readonly (Comparison & { label: string })[];
  details?: Record<string, number>;
}): LedgerSides {
  return { rule: "bound", relative: true, within: IDENTITY_TOLERANCE, why: "float64 identity; quadrature error far below", ...sides };
}
