/**
 * Interactive figures: Plotly, emitted as plain text/html (a <div> and an inline
 * <script>) so that they work both in JupyterLab and in nbconvert's exported HTML,
 * where no kernel runs and the Plotly MIME type is dropped.
 *
 * - The Plotly bundle is embedded ONCE per notebook: show {@link plotlyBundle} in the
 *   setup cell (`showPlotlyBundle()`, src/notebook.ts); figures only wait for `window.Plotly`.
 * - The bundle is wrapped so that it never sees require.js: nbconvert's page loads
 *   require.js, and a UMD bundle that finds `define.amd` (or `module`) registers itself
 *   as a module instead of setting `window.Plotly`. Inside the wrapper `define`,
 *   `module` and `exports` are undefined, so it always sets `window.Plotly`.
 * - Sliders work without a kernel: every number is computed in the kernel and embedded
 *   in the figure; the optional `script` attaches the update logic in inline JS.
 *
 * The default bundle is `plotly.js-cartesian-dist-min` (scatter, bar, histogram,
 * heatmap, contour, box …; about 1.5 MB) rather than the full `plotly.js-dist`
 * (10 MB, unminified), so an exported page stays a sensible size.
 */
import { ArgumentError } from "../errors";
import { type PlotlyBundleFile, plotlyBundleFile, sha256Base64 } from "../platform";

/** A Plotly figure: traces, layout and config, as in `Plotly.newPlot(div, data, layout, config)`. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/** Which Plotly build to embed. */
export type PlotlyBundleFlavor = "cartesian" | "full";

/** Options of {@link plotlyFigureHtml}. */
export interface PlotlyFigureOptions {
  /** Element id of the figure's <div> (default: derived from the figure's content). */
  id?: string;
  /**
   * JavaScript run once after the first draw, as the body of `function (gd, Plotly, figure)`:
   * `gd` is the plot's <div>, `figure` the embedded {data, layout, config}. Use it to attach
   * slider or button logic (e.g. `gd.on("plotly_sliderchange", …)`). Must not contain "</script".
   */
  script?: string;
  /** Height of the <div> in pixels when the layout gives none (default 450). */
  height?: number;
}

const BUNDLES: Record<PlotlyBundleFlavor, { pkg: string; file: string }> = {
  cartesian: { pkg: "plotly.js-cartesian-dist-min", file: "plotly-cartesian.min.js" },
  full: { pkg: "plotly.js-dist", file: "plotly.js" },
};

const bundleCache = new Map<PlotlyBundleFlavor, PlotlyBundleFile>();

function checkFlavor(flavor: unknown): PlotlyBundleFlavor {
  if (flavor !== "cartesian" && flavor !== "full") {
    throw new ArgumentError("flavor", `must be "cartesian" or "full", got ${String(flavor)}`);
  }
  return flavor;
}

/**
 * The Plotly bundle's version and either its JavaScript source (Node: read once from
 * node_modules, then cached) or the URL of a copy beside the library (the browser build,
 * whose bundle is a static file of the site).
 */
export function plotlyBundleSource(flavor: PlotlyBundleFlavor = "cartesian"): PlotlyBundleFile & { pkg: string } {
  const { pkg, file } = BUNDLES[checkFlavor(flavor)];
  let bundle = bundleCache.get(flavor);
  if (bundle === undefined) {
    bundle = plotlyBundleFile(pkg, file);
    bundleCache.set(flavor, bundle);
  }
  return { ...bundle, pkg };
}

/** Makes text safe inside an inline <script>: "</script" or "<!--" would end or derail it. */
function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/**
 * Plotly's UMD source wrapped so that it always sets `window.Plotly`, even on a page with
 * require.js (nbconvert's) or a CommonJS-looking global: parameters shadow the globals, so
 * the UMD header sees no AMD `define` and no CommonJS `module` and takes its browser branch.
 */
export function plotlyScriptBody(source: string, pkg: string, version: string): string {
  return (
    `/* ${pkg} ${version} (MIT license), embedded once so this page needs no network. */\n` +
    `(function (define, module, exports) {\n` +
    `if (window.Plotly && window.Plotly.newPlot) return;\n` +
    // Its UMD header also stores the library as the global "moduleName": put that back.
    `var hadModuleName = "moduleName" in window, previousModuleName = window.moduleName;\n` +
    scriptSafe(source) +
    `\nif (window.moduleName === window.Plotly) { if (hadModuleName) window.moduleName = previousModuleName; else delete window.moduleName; }\n` +
    `}).call(window);\n`
  );
}

/**
 * The Plotly bundle as one <script> that sets `window.Plotly`: inline on Node (so exported
 * pages need no network), a script element pointing at the site's own copy in the browser
 * kernel. Show it once per notebook.
 */
export function plotlyBundle(options: { flavor?: PlotlyBundleFlavor } = {}): string {
  const bundle = plotlyBundleSource(options.flavor ?? "cartesian");
  const { version, pkg } = bundle;
  const script =
    "url" in bundle
      ? `<script type="text/javascript" src="${bundle.url}" data-plotly-bundle="${pkg}@${version}"></script>\n`
      : `<script type="text/javascript" data-plotly-bundle="${pkg}@${version}">\n${plotlyScriptBody(bundle.source, pkg, version)}</script>\n`;
  return (
    script +
    `<div class="workbook-plotly-bundle" style="font-size:11px;color:#888">Plotly ${version} (${pkg}) embedded for the interactive figures below.</div>`
  );
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

let figureCounter = 0;

/** JSON for an inline script: "<" escaped so that no "</script>" or "<!--" can appear. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * One Plotly figure as HTML: a <div> and a <script> that waits for `window.Plotly`
 * (see {@link plotlyBundle}), draws the figure, then runs `options.script`.
 */
export function plotlyFigureHtml(figure: PlotlyFigure, options: PlotlyFigureOptions = {}): string {
  if (figure === null || typeof figure !== "object" || !Array.isArray(figure.data)) {
    throw new ArgumentError("figure", "must be {data: [...], layout?, config?}");
  }
  const script = options.script ?? "";
  if (typeof script !== "string") throw new ArgumentError("script", "must be a string of JavaScript");
  if (/<\/script/i.test(script)) throw new ArgumentError("script", 'must not contain "</script"');
  const json = inlineJson({ data: figure.data, layout: figure.layout ?? {}, config: { displaylogo: false, responsive: true, ...(figure.config ?? {}) } });
  figureCounter += 1;
  const id = options.id ?? `plotly-${fnv1a(json + script)}-${figureCounter}`;
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new ArgumentError("id", `must be a plain HTML id (letters, digits, - and _), got "${id}"`);
  const layoutHeight = figure.layout?.height;
  const height = typeof layoutHeight === "number" ? layoutHeight : (options.height ?? 450);
  return (
    `<div id="${id}" class="workbook-plotly" style="width:100%;min-height:${height}px"></div>\n` +
    `<script type="text/javascript">\n(function () {\n` +
    // The <div> just before this script; by id as a fallback (JupyterLab re-creates scripts).
    `var me = document.currentScript;\n` +
    `var gd = (me && me.previousElementSibling && me.previousElementSibling.id === ${JSON.stringify(id)}) ? me.previousElementSibling : document.getElementById(${JSON.stringify(id)});\n` +
    `var figure = ${json};\n` +
    `function draw(Plotly) {\n` +
    `  Plotly.newPlot(gd, figure.data, figure.layout, figure.config).then(function () {\n` +
    `    (function (gd, Plotly, figure) {\n${script}\n    })(gd, Plotly, figure);\n` +
    `    gd.setAttribute("data-plotly-ready", "true");\n` +
    `  });\n` +
    `}\n` +
    `var waited = 0;\n` +
    `(function wait() {\n` +
    `  if (!gd) return;\n` +
    `  if (window.Plotly && window.Plotly.newPlot) return draw(window.Plotly);\n` +
    `  if ((waited += 50) > 30000) { gd.textContent = "Plotly is not loaded: run the notebook's setup cell (showPlotlyBundle())."; return; }\n` +
    `  setTimeout(wait, 50);\n` +
    `})();\n` +
    `})();\n</script>`
  );
}

/** Where an output's metadata lists the hashes of the scripts the workbook itself put in it. */
export const SCRIPT_HASHES_METADATA = "vae-workbook/script-hashes";

/**
 * Output metadata vouching for the inline scripts of `html` (which this module wrote): their
 * CSP hashes, 'sha256-<base64>' of each script's text as a browser hashes it (line breaks
 * normalized to \n). The exported page's content security policy allows exactly these, so a
 * script or event handler that any other output carries does not run there.
 */
export function scriptHashMetadata(html: string): Record<string, string[]> {
  const hashes: string[] = [];
  for (const m of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script\s*>/gi)) {
    const hash = sha256Base64(m[1].replace(/\r\n?/g, "\n"));
    // No synchronous SHA-256 in the browser kernel, whose outputs are no exported pages.
    if (hash === null) return {};
    hashes.push(`sha256-${hash}`);
  }
  return { [SCRIPT_HASHES_METADATA]: hashes };
}
