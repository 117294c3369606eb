/**
 * Showing things in a notebook. `show.*` sends rich outputs (SVG, HTML, PNG) to a
 * display sink chosen at run time: tslab's display inside the Node kernel (found by the
 * host, src/platform), Jupyter display messages inside the browser kernel (which calls
 * `setDisplaySink`), and plain text anywhere else (tests, scripts) — so the same
 * library code runs in all three places.
 */
import { enforceChecks } from "./claims";
import type { LedgerRow } from "./ledger";
import { vegaLiteToSvg, type VegaLiteSpec } from "./plots/vega";
import { richDisplay, type RichDisplay } from "./platform";

export type { RichDisplay } from "./platform";

/** Set by a kernel that owns the output channel; undefined means "ask the host". */
let sink: RichDisplay | null | undefined;
let found: RichDisplay | null = null;

/**
 * Routes `show.*` to `display` (null: plain text on stdout); `undefined` returns to the
 * host's default (tslab inside the Node kernel, else text).
 */
export function setDisplaySink(display: RichDisplay | null | undefined): void {
  sink = display;
}

function out(): RichDisplay | null {
  if (sink !== undefined) return sink;
  // The host's answer can change from null to a display once the kernel starts a cell.
  if (found === null) found = richDisplay();
  return found;
}

export function inNotebook(): boolean {
  return out() !== null;
}

/** What `show.ledger` displays of a row: a ledger row, or a notebook's own check in the same shape. */
export type LedgerLike = Pick<LedgerRow, "tag" | "title" | "lhs" | "rhs" | "residual" | "tolerance" | "method" | "pass">;

export const show = {
  /**
   * Shows HTML. `metadata` travels with the output (tslab's own display sends none); the
   * Plotly helpers use it to vouch for their scripts, which the exported page's content
   * security policy then allows (src/plots/plotly.ts, scripts/export_html.py).
   */
  html(html: string, fallbackText = html.replace(/<[^>]+>/g, ""), metadata?: Record<string, unknown>): void {
    const d = out();
    d ? d.html(html, metadata) : console.log(fallbackText);
  },
  svg(svg: string): void {
    const d = out();
    d ? d.svg(svg) : console.log(`[svg ${svg.length} bytes]`);
  },
  png(png: Uint8Array): void {
    const d = out();
    d ? d.png(png) : console.log(`[png ${png.length} bytes]`);
  },
  markdown(md: string): void {
    const d = out();
    d ? d.markdown(md) : console.log(md);
  },
  /** Renders a Vega-Lite spec to SVG and shows it. */
  async chart(spec: VegaLiteSpec): Promise<void> {
    show.svg(await vegaLiteToSvg(spec));
  },
  /**
   * Ledger rows as a table: equation tag, both sides, residual, tolerance and a
   * pass/fail mark, so a reader sees at a glance which equations held. A failing row
   * then throws ClaimFailedError unless strict checks are off (src/claims.ts).
   */
  ledger(rows: LedgerLike[]): void {
    const head = ["equation", "claim", "left side", "right side", "residual", "tolerance", "method", ""];
    const cells = rows.map((r) => [
      `(${r.tag})`, r.title, formatNumber(r.lhs, 10), formatNumber(r.rhs, 10), formatNumber(r.residual, 3),
      r.tolerance, r.method, r.pass ? "✔ pass" : "✘ FAIL",
    ]);
    const html =
      `<table class="workbook-ledger"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>` +
      // Full-precision sides ride along as data attributes: the browser tests compare them
      // with the tslab run's (the cells show 10 significant digits).
      cells.map((c, i) => `<tr class="${rows[i].pass ? "pass" : "fail"}" data-tag="${escapeHtml(rows[i].tag)}" ` +
        `data-lhs="${rows[i].lhs}" data-rhs="${rows[i].rhs}" data-residual="${rows[i].residual}">` +
        c.map((v, j) => `<td${j === 7 ? ` style="color:${rows[i].pass ? "#1e7b34" : "#b00020"};font-weight:600"` : ""}>${escapeHtml(v)}</td>`).join("") +
        `</tr>`).join("") +
      `</tbody></table>`;
    show.html(html, textTable(head, cells));
    // Strict checks (src/claims.ts): a failing row, once shown, stops the cell.
    enforceChecks(rows);
  },
  /** A small table of records, as HTML in a notebook and aligned text elsewhere. */
  table(rows: Record<string, unknown>[], options: { digits?: number; caption?: string } = {}): void {
    const digits = options.digits ?? 6;
    const fmt = (v: unknown) => (typeof v === "number" ? formatNumber(v, digits) : String(v));
    const columns = rows.length ? Object.keys(rows[0]) : [];
    const cell = (v: unknown) => escapeHtml(fmt(v));
    const html =
      `<table class="workbook-table">${options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : ""}` +
      `<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>` +
      rows.map((r) => `<tr>${columns.map((c) => `<td>${cell(r[c])}</td>`).join("")}</tr>`).join("") +
      `</tbody></table>`;
    show.html(html, textTable(columns, rows.map((r) => columns.map((c) => fmt(r[c])))));
  },
};

export function formatNumber(v: number, digits = 6): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e6 ? Number(v.toPrecision(digits)).toString() : v.toExponential(Math.max(1, digits - 3));
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function textTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
