/**
 * The exported pages, opened in a real browser (Debian's chromium via playwright-core)
 * with the network blocked: every request must stay on file: or data:, nothing may
 * fail, the console stays clean, math is rendered (no raw `$$`, no KaTeX error),
 * every figure has a size, CJK text is drawn with a CJK font, and moving a Plotly
 * slider changes the plotted values. Screenshots go to build/screenshots/.
 *
 * Pages come from the notebook test (test/notebooks.test.ts runs first and writes
 * them); a page that is missing or older than its notebook is produced here by
 * executing that notebook, a page older than the exporter is re-exported from the
 * executed copy, and the index page is rebuilt when older than any page.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, skipWithoutChromium } from "../scripts/chromium";
import { paths, venvPython } from "../scripts/paths";
import { computeLedger, publishDirs, writeIndex, writeLedgerJson } from "../scripts/publish";
import { describeError, executeNotebook, listNotebooks, outDirs } from "../scripts/workbook";
import { plotlyBundle, plotlyFigureHtml, scriptHashMetadata } from "../src/plots/plotly";
import { dragSlider, sliderFigure } from "./support/plotly";

const mtime = (f: string) => fs.statSync(f).mtimeMs;
const exporterFiles = [
  path.join(paths.scripts, "export_html.py"),
  path.join(paths.scripts, "katex-render.js"),
  ...fs.readdirSync(path.join(paths.scripts, "templates", "workbook")).map((f) => path.join(paths.scripts, "templates", "workbook", f)),
];

/** Makes sure build/html has a fresh page for `notebook`; returns the page's path. */
async function ensurePage(notebook: string): Promise<string> {
  const name = path.basename(notebook, ".ipynb");
  const page = path.join(outDirs.html, `${name}.html`);
  const executed = path.join(outDirs.notebooks, `${name}.ipynb`);
  const fresh = (f: string) => fs.existsSync(f) && mtime(f) >= mtime(notebook);
  // An executed copy from before the runner handed the exporter its publication (scripts/publish.ts) is run again.
  const published = () => JSON.parse(fs.readFileSync(executed, "utf8")).metadata?.workbook?.runInBrowser !== undefined;
  if (!fresh(page) || !fresh(executed) || !published()) {
    const result = await executeNotebook(notebook);
    assert.ok(result.html, result.error ? describeError(name, result) : `${name}: no page`);
    return page;
  }
  const exporterTime = Math.max(...exporterFiles.map(mtime));
  const fragment = path.join(publishDirs.blog, `${name}.md`);
  if (mtime(page) < exporterTime || !fs.existsSync(fragment) || mtime(fragment) < mtime(executed)) {
    const run = spawnSync(venvPython(), [path.join(paths.scripts, "export_html.py"), executed, "--html-dir", outDirs.html], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
  }
  return page;
}

interface PageReport {
  requests: string[];
  blocked: string[];
  failed: string[];
  consoleErrors: string[];
  pageErrors: string[];
}

/** Opens a file page with every non-file request aborted and recorded. */
async function openOffline(context: BrowserContext, file: string): Promise<{ page: Page; report: PageReport }> {
  const report: PageReport = { requests: [], blocked: [], failed: [], consoleErrors: [], pageErrors: [] };
  const page = await context.newPage();
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (/^(file|data|blob|about):/.test(url)) return route.continue();
    report.blocked.push(url);
    return route.abort("blockedbyclient");
  });
  page.on("request", (r) => report.requests.push(r.url()));
  page.on("requestfailed", (r) => report.failed.push(`${r.url().slice(0, 120)}: ${r.failure()?.errorText}`));
  page.on("console", (m) => {
    if (m.type() === "error") report.consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => report.pageErrors.push(String(e)));
  const response = await page.goto(`file://${file}`, { waitUntil: "load" });
  assert.ok(response === null || response.ok(), `${file}: could not load`);
  return { page, report };
}

/** Values and drawn geometry of a Plotly graph div, to tell whether anything moved. */
async function plotlyState(page: Page, index: number): Promise<string> {
  return page.evaluate((i) => {
    const gd = document.querySelectorAll(".js-plotly-plot")[i] as HTMLElement & { data?: Record<string, unknown>[] };
    const values = (gd.data ?? []).map((t) => [t.x, t.y, t.z, t.visible]);
    const drawn = Array.from(gd.querySelectorAll(".plot path, .plot .point, .plot image"))
      .map((el) => el.getAttribute("d") ?? el.getAttribute("transform") ?? el.getAttribute("href")?.slice(-200) ?? "")
      .join("|");
    return JSON.stringify(values) + drawn;
  }, index);
}

/** Moves the first slider of Plotly graph `index` to its far end. */
function moveSlider(page: Page, index: number): Promise<boolean> {
  return dragSlider(page, page.locator(".js-plotly-plot").nth(index));
}

/** Waits until every Plotly figure (src/plots/plotly.ts: div.workbook-plotly) is drawn. */
async function waitForPlotly(page: Page): Promise<number> {
  await page.waitForFunction(
    () => Array.from(document.querySelectorAll(".workbook-plotly")).every((d) => d.getAttribute("data-plotly-ready") === "true"),
    undefined,
    { timeout: 30_000 },
  );
  return page.locator(".js-plotly-plot").count();
}

/** Fonts Chromium actually used to draw the first Chinese paragraph (via the DevTools protocol). */
async function fontsForChinese(context: BrowserContext, page: Page): Promise<string[]> {
  const client = await context.newCDPSession(page);
  await client.send("DOM.enable");
  await client.send("CSS.enable");
  const { root } = await client.send("DOM.getDocument", { depth: 0 });
  const handle = await page.evaluateHandle(() => {
    const all = Array.from(document.querySelectorAll(".jp-RenderedMarkdown p, .jp-RenderedMarkdown li, h1, li"));
    const el = all.find((e) => /[\u4e00-\u9fff]/.test(e.textContent ?? ""));
    if (el) el.setAttribute("data-cjk-probe", "1");
    return el ?? null;
  });
  await handle.dispose();
  const { nodeId } = await client.send("DOM.querySelector", { nodeId: root.nodeId, selector: "[data-cjk-probe]" });
  if (!nodeId) return [];
  const { fonts } = await client.send("CSS.getPlatformFontsForNode", { nodeId });
  await client.detach();
  return fonts.filter((f) => f.glyphCount > 0).map((f) => f.familyName);
}

describe("exported pages work offline in Chromium", function () {
  this.timeout(10 * 60 * 1000);
  let browser: Browser | undefined;
  let context: BrowserContext;
  const notebooks = listNotebooks();
  const pages = new Map<string, string>();

  before(async function () {
    skipWithoutChromium(this);
    for (const nb of notebooks) pages.set(path.basename(nb, ".ipynb"), await ensurePage(nb));
    const index = path.join(publishDirs.html, "index.html");
    const newest = Math.max(0, ...[...pages.values()].map(mtime));
    if (!fs.existsSync(index) || mtime(index) < newest || !fs.existsSync(publishDirs.ledger)) {
      const ledger = computeLedger();
      writeLedgerJson(ledger.rows);
      writeIndex(notebooks, ledger.rows);
    }
    fs.mkdirSync(publishDirs.screenshots, { recursive: true });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
  });

  after(async () => {
    await browser?.close();
  });

  it("the index lists every notebook in reading order and the whole ledger", async () => {
    const file = path.join(publishDirs.html, "index.html");
    const { page, report } = await openOffline(context, file);
    try {
      const links = await page.locator("ol.notebooks li").allTextContents();
      assert.equal(links.length, notebooks.length);
      const hrefs = await page.locator("ol.notebooks a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
      assert.deepEqual(
        hrefs,
        notebooks.map((nb) => `${path.basename(nb, ".ipynb")}.html`),
      );
      for (const href of hrefs) assert.ok(fs.existsSync(path.join(publishDirs.html, href!)), `${href} missing`);
      const ledger = JSON.parse(fs.readFileSync(publishDirs.ledger, "utf8")) as { rows: { tag: string; pass: boolean }[] };
      const tags = await page.locator("table.ledger td.tag").allTextContents();
      assert.deepEqual(
        tags,
        ledger.rows.map((r) => `(${r.tag})`),
      );
      const marks = await page.locator("table.ledger td.mark").allTextContents();
      assert.deepEqual(
        marks.map((m) => m.includes("pass")),
        ledger.rows.map((r) => r.pass),
      );
      assert.deepEqual(report.blocked, []);
      assert.deepEqual(report.failed, []);
      assert.deepEqual(report.consoleErrors, []);
      await page.screenshot({ path: path.join(publishDirs.screenshots, "index.png") });
    } finally {
      await page.close();
    }
  });

  it("each notebook has a blog fragment with the article's front matter", () => {
    for (const notebook of notebooks) {
      const name = path.basename(notebook, ".ipynb");
      const text = fs.readFileSync(path.join(publishDirs.blog, `${name}.md`), "utf8");
      const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
      assert.ok(m, `${name}.md: no front matter`);
      // The article's shape: title, createdAt (a date), categories and tags as lists.
      assert.match(m![1], /^title: ".+"$/m);
      assert.match(m![1], /^createdAt: \d{4}-\d{2}-\d{2}$/m);
      assert.match(m![1], /^categories:\n( {2}- .+\n?)+/m);
      assert.match(m![1], /^tags:\n( {2}- .+\n?)+/m);
      // Then the link to the notebook in the browser edition, where build/ puts it.
      assert.equal(text.slice(m![0].length).split("\n")[0], `[▶ 在浏览器中运行 / Run in your browser](../lite/lab/index.html?path=${path.basename(notebook)})`);
      const source = JSON.parse(fs.readFileSync(notebook, "utf8")) as { cells: { cell_type: string; source: string | string[] }[] };
      const code = source.cells.filter((c) => c.cell_type === "code" && [c.source].flat().join("").trim()).length;
      assert.equal((text.match(/^```typescript$/gm) ?? []).length, code, `${name}.md: code blocks`);
      // Outputs are raw HTML blocks: outside <script>/<pre>/<style>, no blank line may end one early.
      const outside = text.replace(/<(script|pre|style|textarea)\b[\s\S]*?<\/\1\s*>/gi, "");
      for (const block of outside.split(/<div class="nb-output">/).slice(1)) {
        const body = block.slice(0, block.indexOf("\n</div>"));
        assert.doesNotMatch(body.replace(/^\n+/, ""), /\S\n[ \t]*\n[ \t]*[^\s<]/, `${name}.md: a blank line splits an HTML output`);
      }
    }
  });

  it("the blog fragments survive a CommonMark renderer: figures drawn, Plotly sliders work", async () => {
    // mistune (nbconvert's Markdown engine) stands in for the blog's renderer; math is left
    // to the blog, like the article's own $…$, so only the HTML outputs are checked here.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workbook-blog-"));
    try {
      const render = spawnSync(
        venvPython(),
        [
          "-c",
          [
            "import sys, os, mistune",
            "md = mistune.create_markdown(escape=False, plugins=['table', 'strikethrough'])",
            "for src in sys.argv[2:]:",
            "    text = open(src, encoding='utf-8').read().split('---\\n', 2)[2]",
            "    out = os.path.join(sys.argv[1], os.path.basename(src)[:-3] + '.html')",
            "    open(out, 'w', encoding='utf-8').write('<!DOCTYPE html><meta charset=\"utf-8\"><body>' + md(text))",
          ].join("\n"),
          dir,
          ...notebooks.map((nb) => path.join(publishDirs.blog, `${path.basename(nb, ".ipynb")}.md`)),
        ],
        { encoding: "utf8" },
      );
      assert.equal(render.status, 0, render.stderr);
      for (const notebook of notebooks) {
        const name = path.basename(notebook, ".ipynb");
        const { page, report } = await openOffline(context, path.join(dir, `${name}.html`));
        try {
          const graphs = await waitForPlotly(page);
          const broken = await page.evaluate(() =>
            Array.from(document.images)
              .filter((i) => !i.complete || i.naturalWidth === 0)
              .map((i) => i.src.slice(0, 40)),
          );
          assert.deepEqual(broken, [], `${name}.md: images that do not load`);
          const executed = JSON.parse(fs.readFileSync(path.join(outDirs.notebooks, `${name}.ipynb`), "utf8")) as {
            cells: { outputs?: { data?: Record<string, unknown> }[] }[];
          };
          const figures = executed.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data && ("image/svg+xml" in o.data || "image/png" in o.data)).length;
          assert.equal(await page.locator("img.nb-figure").count(), figures, `${name}.md: figures`);
          for (let i = 0; i < graphs; i++) {
            const before = await plotlyState(page, i);
            if (!(await moveSlider(page, i))) continue;
            await page.waitForTimeout(600);
            assert.notEqual(await plotlyState(page, i), before, `${name}.md: the slider of Plotly figure ${i} changed nothing`);
          }
          assert.deepEqual([...report.blocked, ...report.failed, ...report.pageErrors, ...report.consoleErrors], [], `${name}.md: errors`);
        } finally {
          await page.close();
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the pages' content security policy runs the workbook's own figures and nothing else an output carries", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workbook-csp-"));
    try {
      const bundle = plotlyBundle();
      const { figure, script } = sliderFigure();
      const drawn = plotlyFigureHtml(figure, { script: `${script}\ngd.setAttribute("data-figure-script", "ran");` });
      const hostile =
        '<table><tr><td>a value</td></tr></table><script>window.injected = "script";</script><img alt="x" src="data:," onerror="window.injected = \'handler\'">';
      const output = (html: string, metadata: Record<string, unknown>) => ({
        output_type: "display_data",
        data: { "text/html": html, "text/plain": "[html]" },
        metadata,
      });
      const cell = (id: string, outputs: unknown[]) => ({ cell_type: "code", id, metadata: {}, execution_count: 1, source: "show()", outputs });
      const nb = {
        cells: [
          { cell_type: "markdown", id: "title", metadata: {}, source: "# CSP" },
          cell("bundle", [output(bundle, scriptHashMetadata(bundle))]),
          cell("figure", [output(drawn, scriptHashMetadata(drawn))]),
          cell("hostile", [output(hostile, {})]),
        ],
        metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
        nbformat: 4,
        nbformat_minor: 5,
      };
      const file = path.join(dir, "csp.ipynb");
      fs.writeFileSync(file, JSON.stringify(nb));
      const run = spawnSync(venvPython(), [path.join(paths.scripts, "export_html.py"), file, "--html-dir", path.join(dir, "html")], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      // The exporter names what the page will block.
      assert.deepEqual(run.stderr.trim().split("\n"), [
        "export_html: csp: code cell 3 carries a <script> the workbook's figures did not emit; the page's content security policy blocks it (the blog post keeps it)",
        "export_html: csp: code cell 3 carries an inline event handler (on...=); the page's content security policy blocks it (the blog post keeps it)",
      ]);
      const { page, report } = await openOffline(context, path.join(dir, "html", "csp.html"));
      try {
        assert.equal(await waitForPlotly(page), 1);
        assert.equal(await page.locator(".workbook-plotly").getAttribute("data-figure-script"), "ran", "the figure's own script ran");
        const before = await plotlyState(page, 0);
        assert.ok(await moveSlider(page, 0));
        await page.waitForTimeout(600);
        assert.notEqual(await plotlyState(page, 0), before, "the slider works under the policy");
        assert.equal(await page.evaluate(() => (window as unknown as { injected?: string }).injected), undefined, "an output's script or handler ran");
        assert.deepEqual([...report.blocked, ...report.failed, ...report.pageErrors], []);
        // Exactly the two blocked pieces are reported, as the policy's violations.
        const violations = report.consoleErrors.map(
          (e) => /^Executing inline (script|event handler) violates the following Content Security Policy directive 'script-src /.exec(e)?.[1] ?? e,
        );
        assert.deepEqual(violations.sort(), ["event handler", "script"]);
      } finally {
        await page.close();
      }
      // The index page runs nothing at all.
      assert.match(
        fs.readFileSync(path.join(publishDirs.html, "index.html"), "utf8"),
        /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const notebook of notebooks) {
    const name = path.basename(notebook, ".ipynb");
    it(`${name}.html renders offline: math, figures, CJK, interactivity`, async () => {
      const file = pages.get(name)!;
      const html = fs.readFileSync(file, "utf8");
      // Links in the prose may point anywhere; what loads by itself may not.
      assert.doesNotMatch(
        html,
        /<(script|img|iframe|link|source|video|audio|embed|object)\b[^>]*\s(src|href|data)\s*=\s*["']?\s*(https?:|file:|\/\/)/i,
        "the page loads from a network or file:// URL",
      );
      assert.doesNotMatch(html, /url\(\s*["']?(https?:|file:|\/\/)/i, "the page's CSS loads from a network or file:// URL");
      assert.doesNotMatch(html, /require\.min\.js|text\/x-mathjax-config|MathJax\.Hub\.Config/, "require.js or MathJax left in the page");
      // "Run in your browser": the notebook in the browser edition, where build/ puts it beside html/.
      assert.match(
        html,
        new RegExp(`<a class="workbook-run-in-browser" href="\\.\\./lite/lab/index\\.html\\?path=${path.basename(notebook).replace(/\./g, "\\.")}">`),
      );

      const { page, report } = await openOffline(context, file);
      try {
        const graphs = await waitForPlotly(page);
        await page.evaluate(() => document.fonts.ready);

        // Math: KaTeX output present, no raw TeX delimiters, no KaTeX error.
        const source = JSON.parse(fs.readFileSync(notebook, "utf8")) as { cells: { cell_type: string; source: string | string[] }[] };
        const markdown = source.cells
          .filter((c) => c.cell_type === "markdown")
          .map((c) => [c.source].flat().join(""))
          .join("\n");
        const math = await page.evaluate(() => {
          const prose = Array.from(document.querySelectorAll(".jp-RenderedMarkdown, .jp-RenderedHTMLCommon:not(.jp-RenderedHTML)"));
          // innerText, not textContent: the text as rendered, without scripts' or KaTeX's hidden TeX source.
          // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is checked.
          const text = prose.map((e) => (e as HTMLElement).innerText).join("\n");
          return {
            katex: document.querySelectorAll(".katex").length,
            errors: Array.from(document.querySelectorAll(".katex-error")).map((e) => e.getAttribute("title") ?? e.textContent),
            // biome-ignore lint/performance/useDomNodeTextContent: as above, the rendered text.
            rawDisplay: document.body.innerText.includes("$$"),
            rawInline: (text.match(/\$[^$\s][^$\n]{0,80}\$/g) ?? []).slice(0, 3),
          };
        });
        if (/\$[^$]+\$/.test(markdown)) assert.ok(math.katex > 0, "the notebook has math but the page shows no KaTeX");
        assert.deepEqual(math.errors, [], "KaTeX could not render some math");
        assert.equal(math.rawDisplay, false, "raw $$ left in the page");
        assert.deepEqual(math.rawInline, [], "raw $...$ left in the prose");

        // Figures: every image loaded with a size, every inline SVG drawn with a size.
        const figures = await page.evaluate(() => {
          const out: string[] = [];
          let count = 0;
          for (const img of Array.from(document.querySelectorAll(".jp-OutputArea-output img, .jp-RenderedMarkdown img"))) {
            const i = img as HTMLImageElement;
            const r = i.getBoundingClientRect();
            count++;
            if (!i.complete || i.naturalWidth === 0 || r.width < 10 || r.height < 10)
              out.push(`img ${i.src.slice(0, 40)} ${i.naturalWidth}x${i.naturalHeight} shown ${r.width}x${r.height}`);
          }
          for (const svg of Array.from(document.querySelectorAll(".jp-OutputArea-output svg"))) {
            if (svg.closest(".js-plotly-plot")) continue; // checked as a whole below
            const r = svg.getBoundingClientRect();
            count++;
            if (r.width < 10 || r.height < 10 || svg.querySelectorAll("path, rect, circle, text, image, line").length === 0)
              out.push(`svg ${r.width}x${r.height}`);
          }
          for (const gd of Array.from(document.querySelectorAll(".js-plotly-plot"))) {
            const r = gd.getBoundingClientRect();
            count++;
            if (r.width < 10 || r.height < 10 || gd.querySelectorAll(".main-svg .trace").length === 0) out.push(`plotly ${gd.id} ${r.width}x${r.height}`);
          }
          return { count, empty: out };
        });
        assert.deepEqual(figures.empty, [], "empty figures");

        // Code is highlighted by Pygments.
        assert.ok((await page.locator(".jp-CodeCell .highlight span").count()) > 0, "no highlighted code");

        // CJK: the Chinese prose is drawn with a CJK font, not boxes.
        const fonts = await fontsForChinese(context, page);
        assert.ok(
          fonts.some((f) => /CJK|Han|Hei|PingFang|YaHei|Noto Sans SC|WenQuanYi|Droid Sans Fallback/i.test(f)),
          `Chinese text drawn with: ${fonts.join(", ") || "nothing"}`,
        );

        // Interactivity: every Plotly graph with a slider reacts to it.
        let sliders = 0;
        for (let i = 0; i < graphs; i++) {
          const before = await plotlyState(page, i);
          // Control: left alone, the figure stays as it is (so a change below means the slider did it).
          assert.equal(await plotlyState(page, i), before, `Plotly figure ${i} changes by itself`);
          if (!(await moveSlider(page, i))) continue;
          sliders++;
          await page.waitForTimeout(600); // Plotly's slider transition
          const after = await plotlyState(page, i);
          assert.notEqual(after, before, `moving the slider of Plotly figure ${i} changed nothing`);
          await page
            .locator(".js-plotly-plot")
            .nth(i)
            .screenshot({ path: path.join(publishDirs.screenshots, `${name}-plotly-${i}.png`) });
        }
        const bundles = (html.match(/window\.Plotly\s*&&\s*window\.Plotly\.newPlot\)\s*return;/g) ?? []).length;
        assert.ok(bundles <= 1, `the Plotly bundle is embedded ${bundles} times`);

        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: path.join(publishDirs.screenshots, `${name}.png`) });

        assert.deepEqual(report.blocked, [], "the page tried to reach the network");
        assert.deepEqual(report.failed, [], "failed requests");
        assert.deepEqual(report.pageErrors, [], "uncaught errors in the page");
        assert.deepEqual(report.consoleErrors, [], "console errors");
        const size = fs.statSync(file).size;
        console.log(
          `      ${name}.html: ${(size / 1024).toFixed(0)} KiB, ${figures.count} figures, ${graphs} Plotly graphs (${sliders} with sliders), ${math.katex} formulas`,
        );
      } finally {
        await page.close();
      }
    });
  }
});
