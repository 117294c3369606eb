/**
 * The judge: one place that decides whether a computed claim holds. Every row the
 * workbook shows — an equation of the ledger (src/ledger/) or a sentence of a notebook —
 * is built here from two independently computed sides and a tolerance rule; the verdict,
 * the residual and the tolerance's wording come from the rule, never from the caller.
 *
 *   show.ledger([
 *     checkWithinSE("Monte Carlo log p(x) agrees with the closed form", { tag: "3.2", estimate: mc.log, reference: exact, method: "…" }),
 *     checkAtMost("ELBO ≤ log p(x) for every q", { tag: "5.5", lhs: highest, rhs: logPx, method: "…" }),
 *   ]);
 *
 * The rules, each with its one constant:
 *
 *   round-off        |lhs − rhs| ≤ 8 ε · scale             exact float64 identities (ROUND_OFF_ULPS)
 *   bound            |lhs − rhs| ≤ within, and why          quadrature, convergence, float32 (stated)
 *   standard-errors  |estimate − reference| ≤ 4 SE          Monte Carlo (STANDARD_ERRORS)
 *   at-most/at-least lhs ≤ rhs (≥), with a stated slack or an allowance of 4 SE
 *   exceeds          lhs − rhs > 4 SE (or > 0 without an SE): a gap noise would not make
 *   monotone         a sequence rises (falls); with SEs no step goes against it by > 4 SE
 *   equal            lhs === rhs                             bit-for-bit claims
 *
 * plus `checkEvery` (one claim over several cases). A side, estimate, standard error or
 * bound that is not a finite number fails its row. `check(claim, { rule, … })` is the
 * general form the shorthands `checkRoundOff`, `checkClose`, … call; `also` adds further
 * comparisons that must hold too (the row shows the first).
 *
 * Each row registers with the judge when it is built and is marked when `show.ledger`
 * shows it (or when `checkEvery` takes it as a case), so a row that is built but never
 * shown still counts: the workbook runner asks `unshownChecks()` after the last cell and
 * fails the notebook if any is left. `show.ledger` sends the rows along as JSON in its
 * output's metadata ({@link CHECKS_METADATA}), which is what the runner and the tests read.
 *
 * Strict checks: when `show.ledger` shows a row that fails, it throws a
 * {@link ClaimFailedError} naming the claim, right after the table is displayed — so the
 * reader still sees the ✘, and a notebook run (npm start, npm test, Run All in JupyterLab
 * or in the browser) stops at that cell. A reader who wants to explore turns this off for
 * the session with `setStrictChecks(false)`, or for a whole JupyterLab server with the
 * environment variable WORKBOOK_STRICT_CHECKS=0. The workbook runner always runs strict.
 *
 * Sides computed in float32 by tfjs (a network, autodiff) differ in their last digits
 * from backend to backend: such a claim says "float32" in its tolerance or method, and the
 * browser edition's test (test/lite.test.ts) then compares only its ✔, not its digits.
 */
import { ArgumentError } from "./errors";
import { hostSetting } from "./platform";

/** Float64 round-off: this many units of ε (2⁻⁵²) of the largest term's size. */
export const ROUND_OFF_ULPS = 8;
/**
 * Standard errors a Monte Carlo side may deviate, or a gap must exceed. For a correct
 * estimator a 4-SE miss has probability ≈ 6e-5 per comparison (and with a fixed seed the
 * result is deterministic).
 */
export const STANDARD_ERRORS = 4;

/** How a row's two sides were compared. */
export type Rule = "round-off" | "bound" | "standard-errors" | "at-most" | "at-least" | "exceeds" | "monotone" | "equal" | "every";

/** One checked claim or ledger equation, as `show.ledger` draws it and the runner reads it. */
export interface CheckRow {
  /** The equation or section it belongs to, as the article prints it: "5.4", "§2". */
  tag: string;
  /** What is claimed, in words. */
  title: string;
  /** Left-hand side as computed. */
  lhs: number;
  /** Right-hand side as computed, independently. */
  rhs: number;
  /** What the rule measures: |Δ| (relative for a relative bound), or the margin of an inequality. */
  residual: number;
  /** The pass criterion in words, with its numbers. */
  tolerance: string;
  /** How each side was computed. */
  method: string;
  pass: boolean;
  rule: Rule;
  /** Standard error of the Monte Carlo side (or of the gap), where the rule uses one. */
  stdError?: number;
  /** Secondary numbers behind the row. */
  details?: Record<string, number>;
  /** Ledger rows: the article of the series the equation belongs to (1 for "从 VAE 出发"). */
  part?: number;
  /** Ledger rows: what the equation is ("identity", "monte-carlo", "inequality", "optimum"). */
  kind?: string;
}

/** An estimate and its standard error. */
export interface WithStdError {
  value: number;
  stdError: number;
}

/** A vector estimate (a gradient) and the standard error of each coordinate. */
export interface VectorWithStdError {
  value: ArrayLike<number>;
  stdError: ArrayLike<number>;
}

/** Both sides exact in float64: equal up to round-off of terms of size `scale` (default: the larger side, or 1). */
export interface RoundOffSides {
  lhs: number;
  rhs: number;
  scale?: number;
}
/** Two computations that agree up to a known error `within`; `why` says where that bound comes from. */
export interface BoundSides {
  lhs: number;
  rhs: number;
  within: number;
  why: string;
  /** Compare |Δ| / max(|lhs|, |rhs|, 1) instead of |Δ|. */
  relative?: boolean;
}
/**
 * A Monte Carlo estimate against a reference; `floor` is an absolute allowance for an
 * estimate whose SE is itself round-off (every draw gave the same number). A vector
 * estimate must hold in every coordinate.
 */
export interface StandardErrorSides {
  estimate: WithStdError | VectorWithStdError;
  reference: number | ArrayLike<number>;
  floor?: number;
}
/**
 * lhs ≤ rhs (at-most) or lhs ≥ rhs (at-least), allowing a `slack` (say `why`: round-off …)
 * or `stdError`: 4 SE of the noisy side.
 */
export interface InequalitySides {
  lhs: number;
  rhs: number;
  slack?: number;
  why?: string;
  stdError?: number;
}
/** lhs > rhs, by more than 4 standard errors of the difference when `stdError` is given. */
export interface ExceedsSides {
  lhs: number;
  rhs: number;
  stdError?: number;
}
/** A sequence that rises or falls; with the standard errors of independent estimates, wiggles within 4 SE pass. */
export interface MonotoneSides {
  values: readonly number[];
  direction: "increasing" | "decreasing";
  stdErrors?: readonly number[];
  labels?: readonly string[];
}
/** Bit-for-bit equality. */
export interface EqualSides {
  lhs: number;
  rhs: number;
}

/** The two sides and the rule that compares them. */
export type Comparison =
  | ({ rule: "round-off" } & RoundOffSides)
  | ({ rule: "bound" } & BoundSides)
  | ({ rule: "standard-errors" } & StandardErrorSides)
  | ({ rule: "at-most" | "at-least" } & InequalitySides)
  | ({ rule: "exceeds" } & ExceedsSides)
  | ({ rule: "monotone" } & MonotoneSides)
  | ({ rule: "equal" } & EqualSides);

/** What every check states: the equation or section it belongs to, and how its sides were computed. */
export interface ClaimContext {
  /** The equation or section the claim is about, as shown in the table's first column: "5.4", "§2". */
  tag: string;
  /** How each side was computed. */
  method: string;
}

/** A comparison and how its sides were computed; `also` lists further comparisons that must hold too, each with a label. */
export type CheckSides = Comparison & {
  method: string;
  also?: readonly (Comparison & { label: string })[];
  details?: Record<string, number>;
};

/** Everything `check` needs: the comparison, its method, and the tag it belongs to. */
export type CheckSpec = CheckSides & { tag: string };

/** What a rule decides. `used` is the share of the tolerance the residual uses (≤ 1 passes, where a rule can say). */
interface Verdict {
  lhs: number;
  rhs: number;
  residual: number;
  tolerance: string;
  pass: boolean;
  used: number;
  stdError?: number;
  /** Numbers the rule derives on the way (a z-score), kept with the row. */
  details?: Record<string, number>;
}

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

/** A number; NaN and ±∞ are allowed (a computed non-finite side makes the row fail, visibly, rather than throw). */
function requireNumber(name: string, value: unknown): number {
  if (typeof value !== "number") throw new ArgumentError(name, `must be a number, got ${String(value)}`);
  return value;
}

/** Fails the verdict, and says so, when one of the named numbers is not finite. */
function finiteOnly(verdict: Verdict, numbers: Record<string, number>): Verdict {
  const bad = Object.entries(numbers).filter(([, v]) => !Number.isFinite(v));
  if (bad.length === 0) return verdict;
  return { ...verdict, pass: false, used: Infinity, tolerance: `${verdict.tolerance}; fails: ${bad.map(([k, v]) => `${k} = ${v}`).join(", ")} is not finite` };
}

function roundOff(s: RoundOffSides): Verdict {
  const lhs = requireNumber("lhs", s.lhs);
  const rhs = requireNumber("rhs", s.rhs);
  const scale = s.scale ?? Math.max(1, Math.abs(lhs), Math.abs(rhs));
  if (scale <= 0) throw new ArgumentError("scale", `must be positive, got ${scale}`);
  const within = ROUND_OFF_ULPS * Number.EPSILON * scale;
  const residual = Math.abs(lhs - rhs);
  return finiteOnly(
    {
      lhs,
      rhs,
      residual,
      tolerance: `|Δ| ≤ ${ROUND_OFF_ULPS} ε·${num(scale)} = ${num(within)} (float64 round-off)`,
      pass: residual <= within,
      used: residual / within,
    },
    { lhs, rhs, scale },
  );
}

function bound(s: BoundSides): Verdict {
  const lhs = requireNumber("lhs", s.lhs);
  const rhs = requireNumber("rhs", s.rhs);
  const within = requireNumber("within", s.within);
  if (!(within >= 0)) throw new ArgumentError("within", `must be ≥ 0, got ${within}`);
  const why = requireText("why", s.why);
  const residual = s.relative ? Math.abs(lhs - rhs) / Math.max(Math.abs(lhs), Math.abs(rhs), 1) : Math.abs(lhs - rhs);
  const measure = s.relative ? "relative |Δ|" : "|Δ|";
  return finiteOnly(
    { lhs, rhs, residual, tolerance: `${measure} ≤ ${num(within)} (${why})`, pass: residual <= within, used: residual / within },
    { lhs, rhs, within },
  );
}

function isVector(e: WithStdError | VectorWithStdError): e is VectorWithStdError {
  return typeof e.value !== "number";
}

function standardErrors(s: StandardErrorSides): Verdict {
  const k = STANDARD_ERRORS;
  const e = s.estimate;
  if (e === null || typeof e !== "object") throw new ArgumentError("estimate", "must be {value, stdError}");
  if (isVector(e)) return vectorStandardErrors(e, s.reference);
  const floor = s.floor ?? 0;
  const se = requireNumber("estimate.stdError", e.stdError);
  if (se < 0) throw new ArgumentError("estimate.stdError", `must be ≥ 0, got ${se}`);
  const lhs = requireNumber("estimate.value", e.value);
  const rhs = requireNumber("reference", s.reference);
  const residual = Math.abs(lhs - rhs);
  const within = k * se + floor;
  return finiteOnly(
    {
      lhs,
      rhs,
      residual,
      tolerance: `|Δ| ≤ ${k} SE${floor ? ` + ${num(floor)} (round-off, for an SE of 0)` : ""} (SE = ${num(se)}; |Δ| = ${num(se ? residual / se : residual === 0 ? 0 : Infinity)} SE)`,
      pass: residual <= within,
      used: within > 0 ? residual / within : residual === 0 ? 0 : Infinity,
      stdError: se,
      details: se > 0 ? { zScore: residual / se } : undefined,
    },
    { estimate: lhs, SE: se, reference: rhs },
  );
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((a, c) => a + c * c, 0));

/** Every coordinate within k SE; the row shows the vectors' norms and the largest |Δ|. */
function vectorStandardErrors(e: VectorWithStdError, reference: number | ArrayLike<number>): Verdict {
  const k = STANDARD_ERRORS;
  if (typeof reference === "number" || reference.length !== e.value.length || e.stdError.length !== e.value.length) {
    throw new ArgumentError("reference", `must have one number per coordinate of the estimate (${e.value.length})`);
  }
  let maxZ = 0;
  let maxAbs = 0;
  let maxSe = 0;
  let finite = true;
  for (let j = 0; j < e.value.length; j++) {
    const d = Math.abs(e.value[j] - reference[j]);
    finite &&= Number.isFinite(d) && Number.isFinite(e.stdError[j]);
    maxZ = Math.max(maxZ, d / e.stdError[j]);
    maxAbs = Math.max(maxAbs, d);
    maxSe = Math.max(maxSe, e.stdError[j]);
  }
  return finiteOnly(
    {
      lhs: norm(e.value),
      rhs: norm(reference),
      residual: maxAbs,
      tolerance: `every coordinate within ${k} SE (max SE = ${maxSe.toExponential(1)}); max z = ${maxZ.toFixed(2)}`,
      pass: maxZ <= k,
      used: maxZ / k,
      stdError: maxSe,
      details: { maxZScore: maxZ },
    },
    { "a coordinate's estimate or SE": finite ? 0 : NaN },
  );
}

function inequality(s: InequalitySides, relation: "≤" | "≥"): Verdict {
  const lhs = requireNumber("lhs", s.lhs);
  const rhs = requireNumber("rhs", s.rhs);
  let slack = 0;
  let why = "";
  if (s.stdError !== undefined) {
    if (s.slack !== undefined) throw new ArgumentError("slack", "give a slack or a standard error, not both");
    const se = requireNumber("stdError", s.stdError);
    if (se < 0) throw new ArgumentError("stdError", `must be ≥ 0, got ${se}`);
    slack = STANDARD_ERRORS * se;
    why = `${STANDARD_ERRORS} SE, SE = ${num(se)}`;
  } else if (s.slack !== undefined) {
    slack = requireNumber("slack", s.slack);
    if (!(slack >= 0)) throw new ArgumentError("slack", `must be ≥ 0, got ${slack}`);
    if (slack > 0) why = requireText("why", s.why);
  }
  const margin = relation === "≤" ? rhs - lhs : lhs - rhs;
  return finiteOnly(
    {
      lhs,
      rhs,
      residual: margin,
      tolerance: slack > 0 ? `lhs ${relation} rhs ${relation === "≤" ? "+" : "−"} ${num(slack)} (${why})` : `lhs ${relation} rhs`,
      pass: margin >= -slack,
      // The smaller the margin, the closer to failing.
      used: slack > 0 ? -margin / slack : -margin,
      stdError: s.stdError,
    },
    { lhs, rhs, slack },
  );
}

function exceeds(s: ExceedsSides): Verdict {
  const lhs = requireNumber("lhs", s.lhs);
  const rhs = requireNumber("rhs", s.rhs);
  const gap = lhs - rhs;
  if (s.stdError === undefined) {
    return finiteOnly({ lhs, rhs, residual: gap, tolerance: "lhs > rhs", pass: gap > 0, used: -gap }, { lhs, rhs });
  }
  const k = STANDARD_ERRORS;
  const se = requireNumber("stdError", s.stdError);
  if (se < 0) throw new ArgumentError("stdError", `must be ≥ 0, got ${se}`);
  return finiteOnly(
    {
      lhs,
      rhs,
      residual: gap,
      tolerance: `lhs − rhs > ${k} SE (SE = ${num(se)}; gap = ${num(se ? gap / se : Infinity)} SE)`,
      pass: gap > k * se,
      used: gap > 0 ? (k * se) / gap : Infinity,
      stdError: se,
    },
    { lhs, rhs, SE: se },
  );
}

function monotone(s: MonotoneSides): Verdict {
  const values = Array.from(s.values ?? []);
  if (values.length < 2) throw new ArgumentError("values", `must hold at least 2 numbers, got ${values.length}`);
  const ses = s.stdErrors ? Array.from(s.stdErrors) : undefined;
  if (ses && ses.length !== values.length) throw new ArgumentError("stdErrors", `must have one per value (${values.length}), got ${ses.length}`);
  if (s.labels && s.labels.length !== values.length) throw new ArgumentError("labels", `must have one per value (${values.length}), got ${s.labels.length}`);
  const k = STANDARD_ERRORS;
  const sign = s.direction === "increasing" ? 1 : s.direction === "decreasing" ? -1 : NaN;
  if (Number.isNaN(sign)) throw new ArgumentError("direction", `must be "increasing" or "decreasing", got ${String(s.direction)}`);
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
  const label = (i: number) => (s.labels ? s.labels[i] : `#${i + 1}`);
  const way = s.direction === "increasing" ? "rises" : "falls";
  const tolerance = ses
    ? `no step goes against the trend by more than ${k} SE of the step (worst: ${label(worst)} → ${label(worst + 1)}, ${num(worstScore)} SE)`
    : `every step ${way} (worst: ${label(worst)} → ${label(worst + 1)})`;
  const bad = [...values, ...(ses ?? [])].find((v) => !Number.isFinite(v));
  return finiteOnly(
    {
      lhs: values[worst + 1],
      rhs: values[worst],
      residual: values[worst + 1] - values[worst],
      tolerance,
      pass: ses ? worstScore >= -k : worstScore > 0,
      used: -worstScore,
    },
    { [ses ? "a value or SE" : "a value"]: bad ?? 0 },
  );
}

function equal(s: EqualSides): Verdict {
  const lhs = requireNumber("lhs", s.lhs);
  const rhs = requireNumber("rhs", s.rhs);
  const residual = Math.abs(lhs - rhs);
  return finiteOnly({ lhs, rhs, residual, tolerance: "exactly equal", pass: lhs === rhs, used: lhs === rhs ? 0 : Infinity }, { lhs, rhs });
}

/** The verdict of one comparison. */
function decide(c: Comparison): Verdict {
  if (c === null || typeof c !== "object") throw new ArgumentError("spec", "must be an object with a rule and both sides");
  switch (c.rule) {
    case "round-off":
      return roundOff(c);
    case "bound":
      return bound(c);
    case "standard-errors":
      return standardErrors(c);
    case "at-most":
      return inequality(c, "≤");
    case "at-least":
      return inequality(c, "≥");
    case "exceeds":
      return exceeds(c);
    case "monotone":
      return monotone(c);
    case "equal":
      return equal(c);
    default:
      throw new ArgumentError(
        "rule",
        `must be one of round-off, bound, standard-errors, at-most, at-least, exceeds, monotone, equal; got ${String((c as { rule: unknown }).rule)}`,
      );
  }
}

// ---- the registry: every row built, until it is shown (or taken as a case) ----

/** Rows built and not yet shown, in the order they were built. */
const unshown = new Set<CheckRow>();
/** The share of its tolerance each row used (checkEvery shows the case closest to failing). */
const usedShare = new WeakMap<CheckRow, number>();

function register(row: CheckRow, used: number): CheckRow {
  unshown.add(row);
  usedShare.set(row, used);
  return row;
}

/** Called by `show.ledger` once it has displayed the rows. */
export function markShown(rows: readonly CheckRow[]): void {
  for (const r of rows) unshown.delete(r);
}

/** Rows built in this session (this kernel) that no `show.ledger` has shown. The workbook runner fails a notebook that leaves any. */
export function unshownChecks(): CheckRow[] {
  return [...unshown];
}

/** The output-metadata key under which `show.ledger` sends its rows as JSON. */
export const CHECKS_METADATA = "vae-workbook/checks";

/** A row as JSON: non-finite numbers as the strings "NaN", "Infinity", "-Infinity" (JSON has none). */
export function checkRowJson(row: CheckRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === undefined) continue;
    out[k] = typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
  }
  return out;
}

// The runner's window onto the registry: its last cell reads the unshown rows from here
// without importing anything (a notebook that never loaded the library finds nothing).
(globalThis as Record<symbol, unknown>)[Symbol.for(CHECKS_METADATA)] = { unshown: () => unshownChecks().map(checkRowJson) };

// ---- building rows ----

/**
 * The general form: both sides, the rule that compares them, the tag and the method. The
 * shorthands below fill in the rule; ledger entries return a spec that the ledger passes here.
 */
export function check(claim: string, spec: CheckSpec): CheckRow {
  requireText("claim", claim);
  if (spec === null || typeof spec !== "object") throw new ArgumentError("spec", "must be {rule, tag, method, and both sides}");
  const tag = requireText("tag", spec.tag);
  const method = requireText("method", spec.method);
  const v = decide(spec);
  let { pass, tolerance, used } = v;
  for (const extra of spec.also ?? []) {
    const w = decide(extra);
    pass &&= w.pass;
    used = Math.max(used, w.used);
    tolerance += `; and ${requireText("also[].label", extra.label)}: ${w.tolerance}`;
  }
  const row: CheckRow = { tag, title: claim, lhs: v.lhs, rhs: v.rhs, residual: v.residual, tolerance, method, pass, rule: spec.rule };
  if (v.stdError !== undefined) row.stdError = v.stdError;
  if (v.details || spec.details) row.details = { ...v.details, ...spec.details };
  return register(row, used);
}

/** lhs = rhs up to float64 round-off: |lhs − rhs| ≤ 8 ε·scale, `scale` the size of the largest term that went into either side. */
export function checkRoundOff(claim: string, spec: ClaimContext & RoundOffSides): CheckRow {
  return check(claim, { ...spec, rule: "round-off" });
}

/** |lhs − rhs| ≤ within: two deterministic computations that agree up to a known error (quadrature, convergence, float32); `why` says where it comes from. */
export function checkClose(claim: string, spec: ClaimContext & BoundSides): CheckRow {
  return check(claim, { ...spec, rule: "bound" });
}

/** A Monte Carlo estimate against a reference: |estimate − reference| ≤ 4 SE (+ `floor`, for an SE that is itself round-off). */
export function checkWithinSE(claim: string, spec: ClaimContext & StandardErrorSides): CheckRow {
  return check(claim, { ...spec, rule: "standard-errors" });
}

/** lhs ≤ rhs, or lhs ≤ rhs + slack (say `why`), or lhs ≤ rhs + 4 SE; the residual is the margin rhs − lhs. */
export function checkAtMost(claim: string, spec: ClaimContext & InequalitySides): CheckRow {
  return check(claim, { ...spec, rule: "at-most" });
}

/** lhs ≥ rhs, or lhs ≥ rhs − slack (say `why`), or lhs ≥ rhs − 4 SE; the residual is the margin lhs − rhs. */
export function checkAtLeast(claim: string, spec: ClaimContext & InequalitySides): CheckRow {
  return check(claim, { ...spec, rule: "at-least" });
}

/** lhs > rhs; with `stdError` (of the difference), by more than 4 SE: a gap that noise alone would not produce. */
export function checkExceeds(claim: string, spec: ClaimContext & ExceedsSides): CheckRow {
  return check(claim, { ...spec, rule: "exceeds" });
}

/**
 * A sequence that rises (or falls). Without standard errors every step must go the
 * stated way; with the standard errors of independent estimates, no step may go the other
 * way by more than 4 SE of that step. The row shows the worst step's two values.
 */
export function checkMonotone(claim: string, spec: ClaimContext & MonotoneSides): CheckRow {
  return check(claim, { ...spec, rule: "monotone" });
}

/** lhs === rhs, bit for bit (counts, draws that must repeat exactly, an exact 0). */
export function checkEqual(claim: string, spec: ClaimContext & EqualSides): CheckRow {
  return check(claim, { ...spec, rule: "equal" });
}

/**
 * One claim over several cases ("for every q …"): passes when every case does, and shows
 * the case that came closest to failing (the first failing one, if any) with its label.
 * The cases are rows built for this purpose; they count as shown with this row.
 */
export function checkEvery(claim: string, cases: readonly { label: string; row: CheckRow }[]): CheckRow {
  requireText("claim", claim);
  if (!Array.isArray(cases) || cases.length === 0) throw new ArgumentError("cases", "must be a non-empty array of {label, row}");
  cases.forEach((c, i) => {
    if (c === null || typeof c !== "object" || !usedShare.has(c.row))
      throw new ArgumentError(`cases[${i}].row`, "must be a row built by a check (checkWithinSE, checkClose, …)");
  });
  markShown(cases.map((c) => c.row));
  const failing = cases.find((c) => !c.row.pass);
  const closest = cases.reduce((a, b) => (usedShare.get(b.row)! > usedShare.get(a.row)! ? b : a));
  const shown = failing ?? closest;
  const row: CheckRow = {
    ...shown.row,
    title: claim,
    tolerance: `each of ${cases.length}: ${shown.row.tolerance}`,
    method: `${failing ? "failing" : "closest"} case: ${shown.label}; ${shown.row.method}`,
    pass: !failing,
    rule: "every",
  };
  return register(row, usedShare.get(closest.row)!);
}

// ---- strictness ----

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
