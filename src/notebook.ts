/**
 * Showing things in a notebook. `show.*` sends rich outputs (SVG, HTML, PNG) to a
 * display sink chosen at run time: tslab's display inside the Node kernel (found by the
 * host, src/platform), Jupyter display messages inside the browser kernel (which calls
 * `setDisplaySink`), and plain text anywhere else (tests, scripts) — so the same
 * library code runs in all three places. The figures themselves are made below this
 * module (src/plots: SVG and HTML strings); this is where they are shown.
 */
import { escapeHtml, formatNumber, textTable } from "./format";
import { CHECKS_METADATA, type CheckRow, checkRowJson, enforceChecks, markShown } from "./judge";
import { type RichDisplay, richDisplay } from "./platform";
import {
  type PlotlyBundleFlavor,
  type PlotlyFigure,
  type PlotlyFigureOptions,
  plotlyBundle,
  plotlyBundleSource,
  plotlyFigureHtml,
  scriptHashMetadata,
} from "./plots/plotly";
import { type VegaLiteSpec, vegaLiteToSvg } from "./plots/vega";

export { escapeHtml, formatNumber } from "./format";
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
   * Checked rows (ledger equations and a notebook's claims, src/judge.ts) as a table:
   * equation tag, both sides, residual, tolerance and a pass/fail mark, so a reader sees
   * at a glance which claims held. The rows travel along as JSON in the output's metadata
   * (CHECKS_METADATA): what the workbook runner and the tests read. A failing row then
   * throws ClaimFailedError unless strict checks are off.
   */
  ledger(rows: CheckRow[]): void {
    const head = ["equation", "claim", "left side", "right side", "residual", "tolerance", "method", ""];
    const cells = rows.map((r) => [
      `(${r.tag})`,
      r.title,
      formatNumber(r.lhs, 10),
      formatNumber(r.rhs, 10),
      formatNumber(r.residual, 3),
      r.tolerance,
      r.method,
      r.pass ? "✔ pass" : "✘ FAIL",
    ]);
    const html =
      `<table class="workbook-ledger"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>` +
      cells
        .map(
          (c, i) =>
            `<tr class="${rows[i].pass ? "pass" : "fail"}">` +
            c.map((v, j) => `<td${j === 7 ? ` style="color:${rows[i].pass ? "#1e7b34" : "#b00020"};font-weight:600"` : ""}>${escapeHtml(v)}</td>`).join("") +
            `</tr>`,
        )
        .join("") +
      `</tbody></table>`;
    show.html(html, textTable(head, cells), { [CHECKS_METADATA]: rows.map(checkRowJson) });
    markShown(rows);
    // Strict checks (src/judge.ts): a failing row, once shown, stops the cell.
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
    show.html(
      html,
      textTable(
        columns,
        rows.map((r) => columns.map((c) => fmt(r[c]))),
      ),
    );
  },
};

/** Shows the Plotly bundle (once per notebook, in its setup cell). */
export function showPlotlyBundle(options: { flavor?: PlotlyBundleFlavor } = {}): void {
  const html = plotlyBundle(options);
  const { version, pkg } = plotlyBundleSource(options.flavor ?? "cartesian");
  show.html(html, `[Plotly bundle ${pkg}@${version}, ${(html.length / 1e6).toFixed(2)} MB]`, scriptHashMetadata(html));
}

/** Shows one Plotly figure (the bundle must have been shown once before; see {@link showPlotlyBundle}). */
export function showPlotly(figure: PlotlyFigure, options: PlotlyFigureOptions = {}): void {
  const html = plotlyFigureHtml(figure, options);
  const title = figure.layout?.title;
  const titleText = typeof title === "string" ? title : typeof title === "object" && title !== null ? String((title as { text?: unknown }).text ?? "") : "";
  show.html(html, `[Plotly figure${titleText ? `: ${titleText}` : ""}; ${figure.data.length} traces]`, scriptHashMetadata(html));
}
