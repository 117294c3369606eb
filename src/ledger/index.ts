/**
 * The equation ledger: every numbered equation of each article of the series, checked in
 * numbers, each row `{tag, title, lhs, rhs, residual, tolerance, method, pass, kind, part}`.
 * A part's equations are declared once, as a list (./part1.ts); `runLedger()` runs them,
 * `formatLedger(rows)` prints them as a table. Tags are the article's own ("5.10") and are
 * unique within a part; `row.part` says which article a row belongs to.
 */
import { ArgumentError, checkOptions } from "../errors";
import { formatNumber } from "../format";
import { PART1_LEDGER } from "./part1";
import type { LedgerOptions, LedgerRow, PartLedger } from "./rows";

export type { LedgerEntry, LedgerKind, LedgerOptions, LedgerRow, PartLedger, Verdict } from "./rows";
export { IDENTITY_TOLERANCE, MC_STANDARD_ERRORS } from "./rows";

/** Every part's ledger, by part number. Adding an article adds its list here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const LEDGERS: ReadonlyMap<number, PartLedger<any>> = new Map([[PART1_LEDGER.part, PART1_LEDGER]]);

/** A part's ledger, or an ArgumentError naming the parts there are. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function partLedger(part = 1): PartLedger<any> {
  const ledger = LEDGERS.get(part);
  if (!ledger) throw new ArgumentError("part", `no ledger for part ${part}; parts: ${[...LEDGERS.keys()].join(", ")}`);
  return ledger;
}

/** The tags of a part's ledger (default part 1), in article order. */
export function ledgerTags(part = 1): string[] {
  return partLedger(part).entries.map((e) => e.tag);
}

/** Part 1's tags in article order. */
export const LEDGER_TAGS: string[] = ledgerTags(1);

/** Run a part's ledger (all tags, or `options.tags`) on one seeded context. */
export function runLedger(options: LedgerOptions = {}): LedgerRow[] {
  checkOptions("options", options, "{part?, seed?, tags?, samples?, perturb?}");
  const ledger = partLedger(options.part ?? 1);
  const known = ledger.entries.map((e) => e.tag);
  const tags = options.tags ?? known;
  if (!Array.isArray(tags)) throw new ArgumentError("tags", "must be an array of equation tags");
  tags.forEach((t) => {
    if (!known.includes(t)) throw new ArgumentError("tags", `unknown tag "${t}"; known: ${known.join(", ")}`);
  });
  const perturb = options.perturb;
  if (perturb !== undefined) {
    if (!known.includes(perturb.tag)) throw new ArgumentError("perturb.tag", `unknown tag "${perturb.tag}"`);
    if (!Number.isFinite(perturb.relative)) throw new ArgumentError("perturb.relative", `must be finite, got ${perturb.relative}`);
  }
  const ctx = ledger.makeContext(options);
  return tags.map((tag) => {
    const entry = ledger.entries.find((e) => e.tag === tag)!;
    const v = entry.check(ctx, (lhs) => (perturb && perturb.tag === tag ? lhs * (1 + perturb.relative) : lhs));
    return { tag, title: entry.title, lhs: v.lhs, rhs: v.rhs, residual: v.residual, tolerance: v.tolerance, method: v.method, pass: v.pass, kind: entry.kind, stdError: v.stdError, details: v.details, part: ledger.part };
  });
}

/** One row of a part's ledger. */
export function ledgerRow(tag: string, options: Omit<LedgerOptions, "tags"> = {}): LedgerRow {
  checkOptions("options", options, "{part?, seed?, samples?, perturb?}");
  const known = ledgerTags(options.part ?? 1);
  if (!known.includes(tag)) throw new ArgumentError("tag", `unknown tag "${tag}"; known: ${known.join(", ")}`);
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
