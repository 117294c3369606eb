/**
 * Plotly figures as text/html: the HTML they make, and the page in a real browser
 * (Debian chromium through playwright-core) with every network request refused —
 * the figure draws, a slider moved by the mouse changes the plotted values, and the
 * bundle still sets window.Plotly when require.js' `define` (and a CommonJS `module`)
 * are on the page, as in nbconvert's export.
 */
import { strict as assert } from "node:assert";
import type { Browser, Page } from "playwright-core";
import { launchChromium, skipWithoutChromium } from "../scripts/chromium";
import { type PlotlyFigure, plotlyBundle, plotlyBundleSource, plotlyFigureHtml } from "../src/plots/plotly";
import { sliderFigure } from "./support/plotly";

interface PageReport {
  requests: string[];
  errors: string[];
}

async function openPage(browser: Browser, html: string): Promise<{ page: Page; report: PageReport }> {
  const page = await browser.newPage();
  const report: PageReport = { requests: [], errors: [] };
  // Block the network: any request at all is recorded and refused.
  await page.route("**", (route) => {
    report.requests.push(route.request().url());
    return route.abort();
  });
  page.on("console", (m) => {
    if (m.type() === "error") report.errors.push(m.text());
  });
  page.on("pageerror", (e) => report.errors.push(String(e)));
  await page.setContent(html, { waitUntil: "load" });
  return { page, report };
}

describe("plots/plotly: HTML", () => {
  it("embeds the bundle in one script that shadows define/module/exports", () => {
    const html = plotlyBundle();
    assert.equal((html.match(/<script\b/g) ?? []).length, 1);
    assert.equal((html.match(/<\/script>/g) ?? []).length, 1, "the bundle must not close its own script early");
    assert.match(html, /\(function \(define, module, exports\) \{/);
    const bundle = plotlyBundleSource();
    assert.ok("source" in bundle, "on Node the bundle is inlined, not linked");
    const { source } = bundle;
    // The bundle is included whole (only "</script" / "<!--" would be escaped; it has neither).
    assert.ok(html.includes(source.slice(1000, 3000)));
    assert.ok(html.length > source.length && html.length < source.length + 2500);
  });

  it("escapes '<' in embedded data and rejects bad ids and scripts", () => {
    const html = plotlyFigureHtml({ data: [{ type: "scatter", x: [1], y: [2], name: "</script><b>x" }] });
    assert.equal((html.match(/<\/script>/g) ?? []).length, 1);
    assert.ok(html.includes("\\u003c/script>\\u003cb>x"));
    assert.throws(() => plotlyFigureHtml({ data: [] }, { id: "bad id" }), /id/);
    assert.throws(() => plotlyFigureHtml({ data: [] }, { script: "x = '</script>'" }), /script/);
    assert.throws(() => plotlyFigureHtml({} as PlotlyFigure), /figure/);
  });

  it("gives the same figure the same content hash in its id", () => {
    const f: PlotlyFigure = { data: [{ type: "bar", x: ["a"], y: [1] }] };
    const id = (h: string) => /id="plotly-([0-9a-f]{8})-\d+"/.exec(h)![1];
    assert.equal(id(plotlyFigureHtml(f)), id(plotlyFigureHtml(f)));
    assert.notEqual(id(plotlyFigureHtml(f)), id(plotlyFigureHtml({ data: [{ type: "bar", x: ["a"], y: [2] }] })));
  });
});

describe("plots/plotly: in headless chromium with the network blocked", function () {
  this.timeout(120_000);
  let browser: Browser | undefined;

  before(async function () {
    skipWithoutChromium(this);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  for (const variant of ["plain page", "page with require.js define and a CommonJS module"] as const) {
    it(`draws, and the slider changes the plotted values (${variant})`, async () => {
      const { figure, script, table } = sliderFigure();
      const fakeLoaders =
        variant === "plain page"
          ? ""
          : `<script>window.defineCalls = 0; window.define = function () { window.defineCalls++; }; window.define.amd = {};` +
            `window.module = { exports: {} }; window.exports = window.module.exports;</script>`;
      // Figure before bundle on purpose: the figure must wait for window.Plotly.
      const html =
        `<!doctype html><html><head><meta charset="utf-8"></head><body>${fakeLoaders}` +
        `${plotlyFigureHtml(figure, { id: "fig", script })}${plotlyBundle()}</body></html>`;
      const { page, report } = await openPage(browser!, html);
      try {
        await page.waitForSelector("#fig[data-plotly-ready=true]", { timeout: 30_000 });
        assert.equal(await page.evaluate(() => typeof (window as unknown as { Plotly?: { newPlot?: unknown } }).Plotly?.newPlot), "function");
        // The UMD header's stray global is removed again.
        assert.equal(await page.evaluate(() => "moduleName" in window), false);
        if (variant !== "plain page") {
          assert.equal(
            await page.evaluate(() => (window as unknown as { defineCalls: number }).defineCalls),
            0,
            "the bundle must not register with require.js",
          );
          assert.deepEqual(await page.evaluate(() => Object.keys((window as unknown as { module: { exports: object } }).module.exports)), []);
        }
        // The drawn line: Plotly renders one path per scatter trace.
        assert.equal(await page.locator("#fig .scatterlayer .trace path.js-line").count(), 1);
        const readY = () => page.evaluate(() => Array.from((document.getElementById("fig") as unknown as { data: { y: number[] }[] }).data[0].y));
        const pathD = () => page.locator("#fig .scatterlayer .trace path.js-line").getAttribute("d");
        assert.deepEqual(await readY(), table[0]);
        const before = await pathD();

        // Move the slider as a reader would: click near the right end of its rail.
        const rail = page.locator("#fig rect.slider-rail-touch-rect");
        const box = (await rail.boundingBox())!;
        await page.mouse.click(box.x + box.width - 4, box.y + box.height / 2);
        await page.waitForFunction(
          () => (document.getElementById("fig") as unknown as { layout: { sliders: { active: number }[] } }).layout.sliders[0].active === 4,
          null,
          { timeout: 10_000 },
        );
        await page.waitForFunction(() => document.querySelector("#fig .gtitle")?.textContent === "step 4", null, { timeout: 10_000 });
        assert.deepEqual(await readY(), table[4]);
        assert.notEqual(await pathD(), before, "the drawn line must move with the slider");

        assert.deepEqual(
          report.requests.filter((u) => !u.startsWith("data:") && u !== "about:blank"),
          [],
          "no network request",
        );
        assert.deepEqual(report.errors, []);
      } finally {
        await page.close();
      }
    });
  }
});
