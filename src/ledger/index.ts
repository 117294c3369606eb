/**
 * The equation ledger: every numbered equation of each article of the series, checked in
 * numbers, each row `{tag, title, lhs, rhs, residual, tolerance, method, pass, rule, kind, part}`
 * — the same row a notebook's checked claim is, built by the same judge (src/judge.ts).
 * A part's equations are declared once, as a list (./part1.ts); `runLedger()` runs them,
 * `formatLedger(rows)` prints them as a table. Tags are the article's own ("5.10") and are
 * unique within a part; `row.part` says which article a row belongs to.
 */
import { ArgumentError, assertOptions } from "../errors";
import { formatNumber } from "../format";
import { check } from "../judge";
import { PART1_LEDGER } from "./part1";
import type { LedgerEntry, LedgerOptions, LedgerRow, PartLedger } from "./rows";

export type { LedgerEntry, LedgerKind, LedgerOptions, LedgerRow, LedgerSides, PartLedger } from "./rows";
export { IDENTITY_TOLERANCE } from "./rows";

/** Every part's ledger, by part number. Adding an article adds its list here. */
// biome-ignore lint/suspicious/noExplicitAny: each part's ledger has a context type of its own; a map of them all needs an existential type TypeScript cannot spell.
export const LEDGERS: ReadonlyMap<number, PartLedger<any>> = new Map([[PART1_LEDGER.part, PART1_LEDGER]]);

/** A part's ledger, or an ArgumentError naming the parts there are. */
// biome-ignore lint/suspicious/noExplicitAny: as LEDGERS above.
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

/** One entry's row: its sides on `ctx`, judged. */
function judgeEntry<Context>(ledger: PartLedger<Context>, entry: LedgerEntry<Context>, ctx: Context): LedgerRow {
  const row = check(entry.title, { ...entry.sides(ctx), tag: entry.tag });
  return Object.assign(row, { kind: entry.kind, part: ledger.part });
}

/** Run a part's ledger (all tags, or `options.tags`) on one seeded context. */
export function runLedger(options: LedgerOptions = {}): LedgerRow[] {
  assertOptions("options", options, "{part?, seed?, tags?, samples?}");
  for (const key of Object.keys(options)) {
    if (!["part", "seed", "tags", "samples"].includes(key))
      throw new ArgumentError(`options.${key}`, "is no ledger option; the options are part, seed, tags, samples");
  }
  const ledger = partLedger(options.part ?? 1);
  const known = ledger.entries.map((e) => e.tag);
  const tags = options.tags ?? known;
  if (!Array.isArray(tags)) throw new ArgumentError("tags", "must be an array of equation tags");
  tags.forEach((t) => {
    if (!known.includes(t)) throw new ArgumentError("tags", `unknown tag "${t}"; known: ${known.join(", ")}`);
  });
  const ctx = ledger.makeContext(options);
  return tags.map((tag) => judgeEntry(ledger, ledger.entries.find((e) => e.tag === tag)!, ctx));
}

/** One row of a part's ledger. */
export function ledgerRow(tag: string, options: Omit<LedgerOptions, "tags"> = {}): LedgerRow {
  assertOptions("options", options, "{part?, seed?, samples?}");
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
