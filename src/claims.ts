/**
 * A notebook's own claims, checked. Where the narrative says something about a computed
 * value ("the largest difference is 0", "within a few standard errors", "rises with k",
 * "ELBO ≤ log p(x)"), the cell builds a row that computes both sides and compares them
 * with a stated tolerance, and shows it with `show.ledger` — the same table as the
 * equation ledger's rows (src/ledger/), so a reader sees both sides, the residual, the
 * tolerance and ✔ or ✘.
 *
 *   show.ledger([
 *     checkWithinSE("Monte Carlo log p(x) agrees with the closed form", { tag: "3.2", estimate: mc.log, reference: exact, method: "…" }),
 *     checkMonotone("the IWAE_k bound rises with k", { tag: "5.4", values, stdErrors, direction: "increasing", method: "…" }),
 *   ]);
 *
 * Strict checks: when `show.ledger` shows a row that fails (a claim of this module or a
 * ledger row), it throws a {@link ClaimFailedError} naming the claim, right after the
 * table is displayed — so the reader still sees the ✘, and a notebook run (npm start,
 * npm test, Run All in JupyterLab or in the browser) stops at that cell with an error. A
 * reader who wants to explore without stopping turns this off for the session with
 * `setStrictChecks(false)`, or for a whole JupyterLab server with the environment
 * variable WORKBOOK_STRICT_CHECKS=0. The workbook runner always runs strict.
 *
 * Sides computed in float32 by tfjs (a network, autodiff) differ in their last digits
 * from backend to backend: such a claim says "float32" in its tolerance or method, and the
 * browser edition's test (test/lite.test.ts) then compares only its ✔, not its digits.
 */
import { ArgumentError } from "./errors";
import type { LedgerRow } from "./ledger";
import { hostSetting } from "./platform";

/** A row of the table `show.ledger` draws: a ledger row, or a notebook's own checked claim. */
export type CheckRow = Pick<LedgerRow, "tag" | "title" | "lhs" | "rhs" | "residual" | "tolerance" | "method" | "pass">;

/**
 * A checked claim. `used` is the share of the tolerance the residual uses (≤ 1 passes),
 * where the helper can say; {@link checkEvery} shows the case with the largest.
 */
export interface ClaimRow extends CheckRow {
  kind: "claim";
  used?: number;
}

/** The machine epsilon of float64, 2⁻⁵². */
const EPSILON = Number.EPSILON;
/** Standard errors a Monte Carlo side may deviate by default (as in the ledger: ≈ 6e-5 two-sided for a correct estimator). */
export const CLAIM_STANDARD_ERRORS = 4;

/** A number for the tolerance text: 3 significant digits. */
function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(3))) : v.toExponential(1);
}

function requireText(name: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") throw new ArgumentError(name, "must be a non-empty string");
  return value;
}

/** A number; NaN is allowed (a computed NaN makes the row fail, visibly, rather than throw). */
function requireNumber(name: string, value: unknown): number {
  if (typeof value !== "number") throw new ArgumentError(name, `must be a number, got ${String(value)}`);
  return value;
}

/** What every check states: the equation or section it belongs to, and how its sides were computed. */
export interface ClaimContext {
  /** The equation or section the claim is about, as shown in the table's first column: "5.4", "§2". */
  tag: string;
  /** How each side was computed. */
  method: string;
}

/**
 * The general form: both sides, the residual, the criterion in words and whether it
 * holds. Prefer the helpers below, which compute `pass` and word the tolerance.
 */
export function check(claim: string, spec: ClaimContext & { lhs: number; rhs: number; residual?: number; tolerance: string; pass: boolean; used?: number }): ClaimRow {
  requireText("claim", claim);
  if (spec === null || typeof spec !== "object") throw new ArgumentError("spec", "must be {tag, lhs, rhs, tolerance, pass, method}");
  const lhs = requireNumber("lhs", spec.lhs);
  const rhs = requireNumber("rhs", spec.rhs);
  if (typeof spec.pass !== "boolean") throw new ArgumentError("pass", "must be true or false");
  return {
    kind: "claim",
    tag: requireText("tag", spec.tag),
    title: claim,
    lhs,
    rhs,
    residual: spec.residual ?? Math.abs(lhs - rhs),
    tolerance: requireText("tolerance", spec.tolerance),
    method: requireText("method", spec.method),
    // NaN on either side never passes.
    pass: spec.pass && !Number.isNaN(lhs) && !Number.isNaN(rhs),
    used: spec.used,
  };
}

/**
 * |lhs − rhs| ≤ within: two deterministic computations that must agree up to a known
 * error (quadrature, convergence, float32). `why` says where that bound comes from.
 */
export function checkClose(claim: string, spec: ClaimContext & { lhs: number; rhs: number; within: number; why: string }): ClaimRow {
  const within = requireNumber("within", spec.within);
  if (!(within >= 0)) throw new ArgumentError("within", `must be ≥ 0, got ${within}`);
  const residual = Math.abs(spec.lhs - spec.rhs);
  return check(claim, { ...spec, residual, tolerance: `|Δ| ≤ ${num(within)} (${requireText("why", spec.why)})`, pass: residual <= within, used: residual / within });
}

/**
 * lhs = rhs up to float64 round-off: |lhs − rhs| ≤ ulps·ε·scale, where `scale` is the
 * size of the largest term that went into either side (default: the larger side, or 1).
 */
export function checkRoundOff(claim: string, spec: ClaimContext & { lhs: number; rhs: number; scale?: number; ulps?: number }): ClaimRow {
  const ulps = spec.ulps ?? 8;
  const scale = spec.scale ?? Math.max(1, Math.abs(spec.lhs), Math.abs(spec.rhs));
  if (!(ulps > 0) || !(scale > 0)) throw new ArgumentError(spec.ulps !== undefined && !(ulps > 0) ? "ulps" : "scale", "must be positive");
  const within = ulps * EPSILON * scale;
  const residual = Math.abs(spec.lhs - spec.rhs);
  return check(claim, {
    ...spec,
    residual,
    tolerance: `|Δ| ≤ ${ulps} ε·${num(scale)} = ${num(within)} (float64 round-off)`,
    pass: residual <= within,
    used: residual / within,
  });
}

/** An estimate and its standard error. */
export interface WithStdError {
  value: number;
  stdError: number;
}

/**
 * A Monte Carlo estimate against a reference: |estimate − reference| ≤ k SE (k = 4 by
 * default). `floor` is an absolute allowance for estimates whose SE is itself round-off
 * (every draw gave the same number); it is named in the tolerance.
 */
export function checkWithinSE(claim: string, spec: ClaimContext & { estimate: WithStdError; reference: number; standardErrors?: number; floor?: number }): ClaimRow {
  const k = spec.standardErrors ?? CLAIM_STANDARD_ERRORS;
  const floor = spec.floor ?? 0;
  if (spec.estimate === null || typeof spec.estimate !== "object") throw new ArgumentError("estimate", "must be {value, stdError}");
  const se = requireNumber("estimate.stdError", spec.estimate.stdError);
  if (se < 0) throw new ArgumentError("estimate.stdError", `must be ≥ 0, got ${se}`);
  const lhs = spec.estimate.value;
  const residual = Math.abs(lhs - spec.reference);
  const within = k * se + floor;
  return check(claim, {
    tag: spec.tag,
    method: spec.method,
    lhs,
    rhs: spec.reference,
    residual,
    tolerance: `|Δ| ≤ ${k} SE${floor ? ` + ${num(floor)} (round-off, for an SE of 0)` : ""} (SE = ${num(se)}; |Δ| = ${num(se ? residual / se : residual === 0 ? 0 : Infinity)} SE)`,
    pass: residual <= within,
    used: within > 0 ? residual / within : residual === 0 ? 0 : Infinity,
  });
}

/**
 * lhs ≤ rhs, or with `slack` lhs ≤ rhs + slack (say `why`: round-off, k SE …). The
 * residual is the margin rhs − lhs (negative beyond the slack fails).
 */
export function checkAtMost(claim: string, spec: ClaimContext & { lhs: number; rhs: number; slack?: number; why?: string }): ClaimRow {
  return inequality(claim, spec, "≤");
}

/** lhs ≥ rhs, or with `slack` lhs ≥ rhs − slack; the residual is the margin lhs − rhs. */
export function checkAtLeast(claim: string, spec: ClaimContext & { lhs: number; rhs: number; slack?: number; why?: string }): ClaimRow {
  return inequality(claim, spec, "≥");
}

function inequality(claim: string, spec: ClaimContext & { lhs: number; rhs: number; slack?: number; why?: string }, relation: "≤" | "≥"): ClaimRow {
  const slack = spec.slack ?? 0;
  if (!(slack >= 0)) throw new ArgumentError("slack", `must be ≥ 0, got ${slack}`);
  if (slack > 0) requireText("why", spec.why);
  const margin = relation === "≤" ? spec.rhs - spec.lhs : spec.lhs - spec.rhs;
  return check(claim, {
    ...spec,
    residual: margin,
    tolerance: slack > 0 ? `lhs ${relation} rhs ${relation === "≤" ? "+" : "−"} ${num(slack)} (${spec.why})` : `lhs ${relation} rhs`,
    pass: margin >= -slack,
    // The smaller the margin, the closer to failing.
    used: slack > 0 ? -margin / slack : -margin,
  });
}

/**
 * lhs exceeds rhs by more than k standard errors of the difference (k = 4 by default):
 * a gap that noise alone would not produce.
 */
export function checkExceeds(claim: string, spec: ClaimContext & { lhs: number; rhs: number; stdError: number; standardErrors?: number }): ClaimRow {
  const k = spec.standardErrors ?? CLAIM_STANDARD_ERRORS;
  const se = requireNumber("stdError", spec.stdError);
  if (se < 0) throw new ArgumentError("stdError", `must be ≥ 0, got ${se}`);
  const gap = spec.lhs - spec.rhs;
  return check(claim, {
    ...spec,
    residual: gap,
    tolerance: `lhs − rhs > ${k} SE (SE = ${num(se)}; gap = ${num(se ? gap / se : Infinity)} SE)`,
    pass: gap > k * se,
    used: gap > 0 ? (k * se) / gap : Infinity,
  });
}

/**
 * A sequence that rises (or falls). Without standard errors every step must go the
 * stated way (strictly, or by at least `minStep`); with the standard errors of
 * independent estimates, no step may go the other way by more than k SE of that step
 * (small wiggles within the noise pass). The row shows the worst step's two values.
 */
export function checkMonotone(
  claim: string,
  spec: ClaimContext & { values: readonly number[]; direction: "increasing" | "decreasing"; stdErrors?: readonly number[]; standardErrors?: number; labels?: readonly string[] },
): ClaimRow {
  const values = Array.from(spec.values ?? []);
  if (values.length < 2) throw new ArgumentError("values", `must hold at least 2 numbers, got ${values.length}`);
  const ses = spec.stdErrors ? Array.from(spec.stdErrors) : undefined;
  if (ses && ses.length !== values.length) throw new ArgumentError("stdErrors", `must have one per value (${values.length}), got ${ses.length}`);
  if (spec.labels && spec.labels.length !== values.length) throw new ArgumentError("labels", `must have one per value (${values.length}), got ${spec.labels.length}`);
  const k = spec.standardErrors ?? CLAIM_STANDARD_ERRORS;
  const sign = spec.direction === "increasing" ? 1 : spec.direction === "decreasing" ? -1 : NaN;
  if (Number.isNaN(sign)) throw new ArgumentError("direction", `must be "increasing" or "decreasing", got ${String(spec.direction)}`);
  // The worst step: the smallest move in the stated direction, in SE of the step when given.
  let worst = 0;
  let worstScore = Infinity;
  for (let i = 0; i + 1 < values.length; i++) {
    const step = sign * (values[i + 1] - values[i]);
    const se = ses ? Math.hypot(ses[i], ses[i + 1]) : 1;
    const score = ses ? (se > 0 ? step / se : step >= 0 ? Infinity : -Infinity) : step;
    if (score < worstScore || Number.isNaN(score)) {
      worst = i;
      worstScore = score;
    }
  }
  const label = (i: number) => (spec.labels ? spec.labels[i] : `#${i + 1}`);
  const step = values[worst + 1] - values[worst];
  const way = spec.direction === "increasing" ? "rises" : "falls";
  const tolerance = ses
    ? `no step goes against the trend by more than ${k} SE of the step (worst: ${label(worst)} → ${label(worst + 1)}, ${num(worstScore)} SE)`
    : `every step ${way} (worst: ${label(worst)} → ${label(worst + 1)})`;
  return check(claim, {
    tag: spec.tag,
    method: spec.method,
    lhs: values[worst + 1],
    rhs: values[worst],
    residual: step,
    tolerance,
    pass: ses ? worstScore >= -k : worstScore > 0,
  });
}

/**
 * One claim over several cases ("for every q …"): passes when every case does, and shows
 * the case that came closest to failing (the first failing one, if any) with its label.
 */
export function checkEvery(claim: string, cases: readonly { label: string; row: ClaimRow }[]): ClaimRow {
  if (!Array.isArray(cases) || cases.length === 0) throw new ArgumentError("cases", "must be a non-empty array of {label, row}");
  const failing = cases.find((c) => !c.row.pass);
  const shown = failing ?? cases.reduce((a, b) => ((b.row.used ?? 0) > (a.row.used ?? 0) ? b : a));
  return {
    ...shown.row,
    title: claim,
    tolerance: `each of ${cases.length}: ${shown.row.tolerance}`,
    method: `${failing ? "failing" : "closest"} case: ${shown.label}; ${shown.row.method}`,
    pass: !failing,
  };
}

/** Thrown by `show.ledger` in strict mode when a row it shows fails; names the claim. */
export class ClaimFailedError extends Error {
  /** The failing rows (not enumerable: the message says it all when Node prints the error). */
  declare readonly rows: readonly CheckRow[];
  constructor(rows: readonly CheckRow[]) {
    super(rows.map(describeFailure).join("; "));
    this.name = "ClaimFailedError";
    Object.defineProperty(this, "rows", { value: rows, enumerable: false });
  }
}

/** `(5.4) ELBO ≤ IWAE_5 does not hold: lhs …, rhs …, residual …; tolerance: …`. */
export function describeFailure(row: CheckRow): string {
  return `(${row.tag}) ${row.title} does not hold: lhs ${row.lhs}, rhs ${row.rhs}, residual ${row.residual}; tolerance: ${row.tolerance}`;
}

let strictSetting: boolean | undefined;

/**
 * Whether a failing row shown by `show.ledger` throws. `setStrictChecks(false)` lets a
 * reader explore (the ✘ rows still show) for the rest of the kernel session;
 * `setStrictChecks(undefined)` returns to the default. The workbook runner sets
 * WORKBOOK_STRICT_CHECKS=1 in the kernel's environment and also fails a notebook on any
 * ✘ row in its outputs, so a notebook cannot opt out of its own run.
 */
export function setStrictChecks(strict: boolean | undefined): void {
  if (strict !== undefined && typeof strict !== "boolean") throw new ArgumentError("strict", "must be true, false or undefined");
  strictSetting = strict;
}

/** Strict unless turned off: by setStrictChecks(false), else by WORKBOOK_STRICT_CHECKS=0 (Node's environment; globalThis in a browser). */
export function strictChecks(): boolean {
  if (strictSetting !== undefined) return strictSetting;
  const setting = hostSetting("WORKBOOK_STRICT_CHECKS");
  if (setting === undefined || /^(1|true|yes|on)$/i.test(setting)) return true;
  if (/^(0|false|no|off)$/i.test(setting)) return false;
  throw new ArgumentError("WORKBOOK_STRICT_CHECKS", `must be 1 (strict, the default) or 0 (show ✘ without stopping), got "${setting}"`);
}

/** Called by `show.ledger` after it displayed the rows: in strict mode a failing row throws. */
export function enforceChecks(rows: readonly CheckRow[]): void {
  const failed = rows.filter((r) => !r.pass);
  if (failed.length && strictChecks()) throw new ClaimFailedError(failed);
}
