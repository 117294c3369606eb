/**
 * The publishing side of the workbook run: what each notebook's page and post say about it
 * (`publication`: its output name, titles, front matter and "Run in your browser" link,
 * handed to scripts/export_html.py, which writes them), the equation ledger of every part of
 * the series (printed, written to build/ledger.json) and the index page
 * build/html/index.html — per part (notebooks/series.json), its notebooks in reading order,
 * then its ledger rows (tag, both sides, residual, pass).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { escapeHtml as esc, formatNumber } from "../src/format";
import { formatLedger, LEDGERS, type LedgerRow, runLedger } from "../src/ledger";
import { paths } from "./paths";
import { loadSeries, outputStem, partOf, type Series, type SeriesPart } from "./series";

export const publishDirs = {
  html: path.join(paths.build, "html"),
  blog: path.join(paths.build, "blog"),
  ledger: path.join(paths.build, "ledger.json"),
  screenshots: path.join(paths.build, "screenshots"),
};

/** Runs every part's ledger (the float64 library only: no tfjs), returns rows and its text table. */
export function computeLedger(): { rows: LedgerRow[]; text: string; seconds: number } {
  const started = Date.now();
  const rows = loadSeries()
    .parts.filter((p) => LEDGERS.has(p.part))
    .flatMap((p) => runLedger({ part: p.part }));
  return { rows, text: formatLedger(rows), seconds: (Date.now() - started) / 1000 };
}

export function writeLedgerJson(rows: LedgerRow[], file = publishDirs.ledger): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const payload = {
    generated: new Date().toISOString(),
    pass: rows.every((r) => r.pass),
    rows,
  };
  fs.writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}

/** Title of a notebook: its first Markdown heading, else its file name. */
export function notebookTitle(file: string): string {
  try {
    const nb = JSON.parse(fs.readFileSync(file, "utf8")) as { cells: { cell_type: string; source: string | string[] }[] };
    for (const cell of nb.cells) {
      if (cell.cell_type !== "markdown") continue;
      const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
      const m = /^#\s+(.+?)\s*$/m.exec(source);
      if (m) return m[1].replace(/\$+([^$]*)\$+/g, "$1");
    }
  } catch {
    /* fall through */
  }
  return path.basename(file, ".ipynb");
}

export const RUN_IN_BROWSER = "在浏览器中运行 / Run in your browser";

/**
 * The browser edition (build/lite) as pages link to it: the whole workbook, or one notebook
 * by its path under notebooks/. WORKBOOK_LITE_URL sets the site's base URL; the default
 * "../lite/" works when build/ is published as it is (pages in html/, posts in blog/).
 */
export function liteUrl(source?: string): string {
  const base = (process.env.WORKBOOK_LITE_URL || "../lite/").replace(/\/?$/, "/");
  return `${base}lab/index.html${source ? `?path=${source.split("/").map(encodeURIComponent).join("/")}` : ""}`;
}

/**
 * What a notebook's page and blog post say about it, decided here once: scripts/nbexec.py
 * keeps it in the executed copy's metadata ("workbook") and scripts/export_html.py writes
 * it out, so the Python side repeats none of these rules.
 */
export interface Publication {
  /** Name of its outputs (executed copy, page, post), without extension. */
  name: string;
  /** Its path under notebooks/, as the browser edition serves it. */
  source: string;
  part: number;
  partTitle: string;
  /** Its first heading. */
  title: string;
  runInBrowser: { href: string; label: string };
  /** The blog post's front matter: the part's article's, with the series' notebook tags. */
  post: { title: string; categories: string[]; tags: string[] };
}

export function publication(notebook: string, series: Series = loadSeries()): Publication {
  const part = partOf(notebook, series);
  const source = path.relative(paths.notebooks, path.resolve(notebook)).split(path.sep).join("/");
  const title = notebookTitle(notebook);
  return {
    name: outputStem(notebook, series),
    source,
    part: part.part,
    partTitle: part.title,
    title,
    runInBrowser: { href: liteUrl(source), label: RUN_IN_BROWSER },
    post: { title: `${part.title} · 笔记 ${title}`, categories: part.categories, tags: [...part.tags, ...series.notebookTags] },
  };
}

const num = (v: number, digits = 10): string => formatNumber(v, digits, { exponentDigits: 2 });

export interface IndexEntry {
  /** Base name without extension, e.g. "02-latent-variable-mle". */
  name: string;
  title: string;
  /** Relative link to the page, or null when it has not been exported. */
  href: string | null;
  /** Seconds the notebook took, when known (from the executed copy). */
  seconds?: number;
}

/** The notebooks in reading order, with their exported pages where they exist. */
export function indexEntries(notebooks: string[], htmlDir = publishDirs.html): IndexEntry[] {
  const series = loadSeries();
  return notebooks.map((file) => {
    const name = outputStem(file, series);
    const page = path.join(htmlDir, `${name}.html`);
    let seconds: number | undefined;
    try {
      const executed = JSON.parse(fs.readFileSync(path.join(paths.build, "notebooks", `${name}.ipynb`), "utf8"));
      seconds = executed.metadata?.workbook?.seconds;
    } catch {
      /* not executed yet */
    }
    return { name, title: notebookTitle(file), href: fs.existsSync(page) ? `${name}.html` : null, seconds };
  });
}

/**
 * The index page's content security policy: its own inline stylesheet, nothing else — no
 * script, no image, no font, no request (the notebook pages carry their own, see
 * scripts/export_html.py).
 */
export const INDEX_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** One part of the series on the index page: its notebooks and its ledger rows. */
export interface IndexSection {
  part: SeriesPart;
  entries: IndexEntry[];
  rows: LedgerRow[];
}

function renderSection({ part, entries, rows }: IndexSection): string {
  const list = entries
    .map((e) => {
      const label = esc(e.title);
      const link = e.href ? `<a href="${esc(e.href)}">${label}</a>` : `${label} <span class="missing">（尚未导出）</span>`;
      const time = e.seconds !== undefined ? ` <span class="secs">${e.seconds.toFixed(1)} s</span>` : "";
      return `<li>${link}${time}</li>`;
    })
    .join("\n");
  const table = rows
    .map(
      (r) =>
        `<tr class="${r.pass ? "pass" : "fail"}"><td class="tag">(${esc(r.tag)})</td><td>${esc(r.title)}</td>` +
        `<td class="n">${num(r.lhs)}</td><td class="n">${num(r.rhs)}</td><td class="n">${num(r.residual, 3)}</td>` +
        `<td>${esc(r.tolerance)}</td><td class="kind">${esc(r.kind)}</td>` +
        `<td class="mark">${r.pass ? "✔ pass" : "✘ FAIL"}</td></tr>`,
    )
    .join("\n");
  const ledger =
    rows.length === 0
      ? ""
      : `
<h3>等式总账</h3>
<p class="sub">${rows.filter((r) => r.pass).length}/${rows.length} 条等式通过。每一行的左右两边由两段独立的代码计算；residual 的含义见 tolerance 一栏。</p>
<table class="ledger">
<thead><tr><th>等式</th><th>内容</th><th>左边</th><th>右边</th><th>residual</th><th>tolerance</th><th>kind</th><th></th></tr></thead>
<tbody>
${table}
</tbody>
</table>`;
  return `<section class="part" id="part${part.part}">
<h2>${esc(part.title)}</h2>
<ol class="notebooks">
${list}
</ol>${ledger}
</section>`;
}

/** build/html/index.html: per part, reading order + the ledger. Self-contained, no script, no network. */
export function renderIndex(sections: IndexSection[], seriesName: string): string {
  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${INDEX_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${esc(seriesName)} · 笔记目录</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
  "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; color: #212121; line-height: 1.7;
  max-width: 1100px; margin: 0 auto; padding: 2rem 1rem 4rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.3rem; margin-top: 1.6rem; }
.sub { color: #616161; margin-top: 0; }
ol.notebooks li { margin: 0.2rem 0; }
.secs, .missing { color: #757575; font-size: 0.85em; }
p.run a { font-weight: 600; color: #1565c0; text-decoration: none; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #e0e0e0; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
td.n { text-align: right; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.tag { white-space: nowrap; font-weight: 600; }
td.kind { color: #616161; }
tr.pass td.mark { color: #1e7b34; font-weight: 600; white-space: nowrap; }
tr.fail td.mark { color: #b00020; font-weight: 700; white-space: nowrap; }
tr.fail { background: #fdecea; }
</style>
</head>
<body>
<h1>${esc(seriesName)} · TypeScript 笔记本</h1>
<p class="sub">把文章里每个编号等式都用数字核对一遍。每篇文章一组笔记，按阅读顺序：</p>
<p class="run"><a class="workbook-run-in-browser" href="${esc(liteUrl())}">▶ ${RUN_IN_BROWSER}</a>
<span class="secs">（整个笔记本集，在你的浏览器里运行与修改，无需安装）</span></p>
${sections.map(renderSection).join("\n")}
</body>
</html>
`;
}

export function writeIndex(notebooks: string[], rows: LedgerRow[], htmlDir = publishDirs.html): string {
  fs.mkdirSync(htmlDir, { recursive: true });
  const series = loadSeries();
  const entries = indexEntries(notebooks, htmlDir);
  const sections = series.parts.map((part) => ({
    part,
    entries: entries.filter((_, i) => partOf(notebooks[i], series).part === part.part),
    rows: rows.filter((r) => r.part === part.part),
  }));
  const file = path.join(htmlDir, "index.html");
  fs.writeFileSync(file, renderIndex(sections, series.name));
  return file;
}
