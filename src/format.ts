/**
 * Numbers and tables as text, for people: notebook tables, the ledger's text table and
 * the index page all format through here.
 */

export interface FormatOptions {
  /** Decimals of the exponent notation (default: digits − 3, at least 1). */
  exponentDigits?: number;
  /** Keep trailing zeros ("1.500000000"), so that a column of numbers lines up. */
  keepZeros?: boolean;
}

/**
 * `digits` significant digits, in plain notation for 1e-3 ≤ |v| < 1e6 and in exponent
 * notation outside; 0, NaN and ±∞ as themselves.
 */
export function formatNumber(v: number, digits = 6, options: FormatOptions = {}): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e6) return options.keepZeros ? v.toPrecision(digits) : Number(v.toPrecision(digits)).toString();
  return v.toExponential(options.exponentDigits ?? Math.max(1, digits - 3));
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Rows of cells as aligned plain text, with a header and a rule. */
export function textTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
