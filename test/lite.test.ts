/**
 * The browser edition in a real browser: the JupyterLite site that `npm start` builds
 * (build/lite, rebuilt here from this checkout), served from loopback under a blog-like
 * sub-path, opened in headless Chromium with every request outside the server blocked.
 *
 * For each notebook 01–08: Run ▸ Run All Cells through the interface, then no error
 * output, every ledger row and checked claim ✔, SVG figures and PNG grids drawn, 06's slider
 * moves its figure, 08 trains and its IWAE ladder rises — and the numbers are tslab's: each ledger
 * row and float64 claim to a relative 1e-12 (the float64 code is the same; Node 20's V8 and Chromium's round
 * the last bit of Math.exp, log, sin … differently for about one argument in ten), 08's
 * final test −ELBO within 0.5 nats (float32 training, possibly on another backend). Then a reader's
 * edits: a new seed gives new numbers; a syntax error and a throw each show a clear error
 * and the next cells run after a fix; an endless loop is interrupted.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { skipWithoutChromium } from "../scripts/chromium";
import { notebookPanel, plotlyState, readCells, runAllCells, waitForCellsDone, waitForIdleKernel } from "../scripts/notebook-ui";
import { paths } from "../scripts/paths";
import { listNotebooks } from "../scripts/workbook";
import { CHECKS_METADATA } from "../src/judge";
import { loadDefaultDigits } from "../src/vae/data";
import { executedByTslab } from "./support/executed";
import { appendAndRun as appendCellAndRun, type CheckJson, checkRowsInPage, isErrorOutput, LiteSite, openNotebook } from "./support/lite-site";
import { dragSlider } from "./support/plotly";

const SCREENSHOTS = path.join(paths.build, "screenshots");

interface CheckValues {
  tag: string;
  lhs: number;
  rhs: number;
  pass: boolean;
  /**
   * Its digits depend on where it ran: a claim computed in float32 by tfjs (its tolerance or
   * method says float32: the backend's digits) or a side measured on the machine (a speed: its
   * method says "measured").
   */
  machineDigits: boolean;
}

const checkValues = (r: CheckJson): CheckValues => ({
  tag: r.tag,
  lhs: Number(r.lhs),
  rhs: Number(r.rhs),
  pass: r.pass === true,
  machineDigits: /float32|measured/.test(`${r.tolerance} ${r.method}`),
});

type Output = { data?: Record<string, string | string[]>; metadata?: Record<string, unknown> };

function outputsOf(executedFile: string): Output[] {
  const nb = JSON.parse(fs.readFileSync(executedFile, "utf8")) as { cells: { outputs?: Output[] }[] };
  return nb.cells.flatMap((c) => c.outputs ?? []);
}

/** Ledger rows and checked claims in an executed notebook, in order, from its outputs' metadata. */
function checkRowsIn(executedFile: string): CheckValues[] {
  return outputsOf(executedFile).flatMap((o) => ((o.metadata?.[CHECKS_METADATA] as CheckJson[] | undefined) ?? []).map(checkValues));
}

function htmlOutputs(executedFile: string): string {
  return outputsOf(executedFile)
    .map((o) => o.data?.["text/html"] ?? "")
    .map((h) => (Array.isArray(h) ? h.join("") : h))
    .join("\n");
}

/** The checked rows the open notebook shows, in order, from its outputs' metadata in the notebook model. */
async function checkRowsInBrowser(page: Page): Promise<CheckValues[]> {
  return (await checkRowsInPage(page)).map(checkValues);
}

/** A number in a two-column table row whose label matches, from an executed notebook's HTML. */
function tableValue(html: string, label: RegExp): number {
  const re = new RegExp(`<td>${label.source}</td><td>([^<]+)</td>`);
  const m = re.exec(html);
  assert.ok(m, `no table row ${label} in tslab's run`);
  return Number(m![1]);
}

const relativeDifference = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), Number.MIN_VALUE);

describe("the browser edition: every notebook in JupyterLite, in Chromium", function () {
  this.timeout(20 * 60 * 1000);
  let site: LiteSite | undefined;
  let context: BrowserContext | undefined;
  let page: Page;

  before(async function () {
    skipWithoutChromium(this);
    site = await LiteSite.open();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });

  // Each test is a new reader: a fresh browser profile, so JupyterLite's stored
  // workspace and files (IndexedDB) start empty.
  beforeEach(async () => {
    ({ context, page } = await site!.newReader());
  });

  afterEach(async () => {
    await site?.closeReader(context);
  });

  after(async () => {
    await site?.close();
  });

  /** Opens a notebook of the site (its path in notebooks/, without .ipynb) and waits for the browser kernel to be idle. */
  const open = (name: string) => openNotebook(page, site!.url, name);

  for (const notebook of listNotebooks()) {
    const name = path.basename(notebook, ".ipynb");
    // Its path in the site's file tree: the notebooks folder's layout, part folders included.
    const source = path.relative(paths.notebooks, notebook).split(path.sep).join("/");
    const number = name.slice(0, 2);
    it(`${name}: Run All Cells — no error, every ledger row ✔, figures drawn, tslab's numbers`, async () => {
      const tslab = executedByTslab(notebook);
      await open(source.replace(/\.ipynb$/, ""));
      const seconds = await runAllCells(page, 10 * 60_000);
      const cells = await readCells(page);
      cells.forEach((c, i) => {
        assert.match(c.prompt, /^\[\d+\]:$/, `code cell ${i + 1} (${c.source}) did not run`);
        const bad = c.outputs.filter((m) => m === "application/vnd.jupyter.stderr" || m.includes("error"));
        assert.deepEqual(bad, [], `code cell ${i + 1} (${c.source}) shows an error: ${c.text.slice(0, 400)}`);
      });
      const images = cells.flatMap((c) => c.images);
      for (const img of images) assert.ok(img.natural > 0 && img.width > 10 && img.height > 10, `a figure is not drawn: ${JSON.stringify(img)}`);
      assert.ok(
        images.some((i) => i.mime === "image/svg+xml"),
        "no SVG figure",
      );
      if (number === "08") assert.ok(images.filter((i) => i.mime === "image/png").length >= 4, "08 draws its digit grids as PNG");

      const shown = await checkRowsInBrowser(page);
      assert.ok(shown.length > 0, "no checked rows shown");
      for (const row of shown) assert.ok(row.pass, `checked row (${row.tag}) shows ✘ in the browser`);

      const run = await tslab;
      assert.ok(run.ok, `tslab's run of ${name} failed`);
      const html = htmlOutputs(run.executed);
      if (number !== "08") {
        const expected = checkRowsIn(run.executed);
        assert.deepEqual(
          shown.map((r) => r.tag),
          expected.map((r) => r.tag),
          "the ledger rows differ from tslab's",
        );
        shown.forEach((r, i) => {
          // A claim in float32 (07's autodiff) or a measured speed (03) was checked ✔ above; its digits are the machine's.
          if (r.machineDigits || expected[i].machineDigits) return;
          for (const side of ["lhs", "rhs"] as const) {
            const [a, b] = [r[side], expected[i][side]];
            const d = relativeDifference(a, b);
            // A side that is itself round-off (a residual shown as a side, ≤ 1e-12) is zero in
            // both engines; its digits are noise, not a number to match.
            const bothZero = Math.abs(a) <= 1e-12 && Math.abs(b) <= 1e-12;
            assert.ok(d <= 1e-12 || bothZero, `(${r.tag}) ${side}: browser ${a}, tslab ${b} (relative difference ${d.toExponential(1)})`);
          }
        });
      } else {
        // 08: the IWAE ladder rises with k, and training lands where tslab's did.
        const gaps = await page.$$eval(`${notebookPanel} table.workbook-table`, (tables) => {
          const t = tables.find((x) => /IWAE_k − ELBO/.test(x.textContent ?? ""))!;
          const head = Array.from(t.querySelectorAll("th")).map((th) => th.textContent);
          const col = head.indexOf("IWAE_k − ELBO");
          return Array.from(t.querySelectorAll("tbody tr")).map((tr) => Number(tr.querySelectorAll("td")[col].textContent));
        });
        assert.ok(gaps.length >= 3, "no IWAE ladder");
        gaps.slice(1).forEach((g, i) => {
          assert.ok(g > gaps[i], `the IWAE ladder does not rise: ${gaps.join(", ")}`);
        });
        const final = await page.$$eval(`${notebookPanel} table.workbook-table tr`, (trs) => {
          const row = trs.find((tr) => tr.querySelector("td")?.textContent === "final test −ELBO (nats)")!;
          return Number(row.querySelectorAll("td")[1].textContent);
        });
        const expected = tableValue(html, /final test −ELBO \(nats\)/);
        assert.ok(Math.abs(final - expected) <= 0.5, `final test −ELBO: browser ${final}, tslab ${expected}`);
      }

      const graphs = await page.locator(`${notebookPanel} .js-plotly-plot`).count();
      if (number === "06") {
        assert.ok(graphs > 0, "06 shows no Plotly figure");
        const plot = page.locator(`${notebookPanel} .js-plotly-plot`).first();
        const before = await plotlyState(page, 0);
        assert.ok(await dragSlider(page, plot), "06's figure has no slider");
        await page.waitForTimeout(600);
        assert.notEqual(await plotlyState(page, 0), before, "moving the slider changed nothing");
      }
      if (number === "06" || number === "08") {
        const focus =
          number === "06"
            ? page.locator(`${notebookPanel} .js-plotly-plot`).first()
            : page.locator(`${notebookPanel} .jp-OutputArea-output img[src^="data:image/png"]`).nth(1);
        await focus.evaluate((el) => el.scrollIntoView({ block: "center" }));
        await page.waitForTimeout(300);
        await page.screenshot({ path: path.join(SCREENSHOTS, `jupyterlite-${number}.png`) });
      }
      console.log(
        `      ${name}: ${cells.length} code cells in ${seconds.toFixed(1)} s in the browser; ${shown.length} checked rows ✔; ${images.length} figures`,
      );
    });
  }

  /** The full text of code cell `index` (CodeMirror draws one element per line). */
  const cellSource = (index: number) =>
    page.$$eval(
      `${notebookPanel} .jp-CodeCell`,
      (cells, i) =>
        Array.from(cells[i].querySelectorAll(".cm-line"))
          .map((l) => l.textContent)
          .join("\n"),
      index,
    );

  /** Replaces code cell `index`'s text and runs it (Shift-Enter), as a reader types. */
  async function editAndRun(index: number, text: string): Promise<void> {
    const editor = page.locator(`${notebookPanel} .jp-CodeCell .cm-content`).nth(index);
    await editor.click();
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText(text);
    await page.keyboard.press("Shift+Enter");
    await waitForCellsDone(page, 60_000);
  }

  /**
   * Types `text` into a new code cell after the last one and runs it; returns what that
   * cell shows. (Shift-Enter on the last cell adds an empty one below, as in JupyterLab.)
   */
  const appendAndRun = (text: string) => appendCellAndRun(page, text);

  const isError = isErrorOutput;

  it("a reader edits a cell: another seed gives other numbers, and later cells use them", async () => {
    await open("02-latent-variable-model");
    await runAllCells(page);
    const cells = await readCells(page);
    const sources = await Promise.all(cells.map((_, i) => cellSource(i)));
    const index = sources.findIndex((s) => s.includes("naiveMonteCarloMarginal(model, x0, { n: 20000, seed: 3 })"));
    assert.ok(index >= 0, "02 has no Monte Carlo cell with seed 3");
    const before = cells[index].text;
    await editAndRun(index, sources[index].replace("seed: 3 }", "seed: 4 }"));
    const after = (await readCells(page))[index];
    assert.ok(!after.outputs.some(isError), after.text);
    assert.notEqual(after.text, before, "a new seed gave the same output");
    const check = await appendAndRun("mc.log.value === naiveMonteCarloMarginal(model, x0, { n: 20000, seed: 4 }).log.value");
    assert.equal(check.text.trim(), "true", "a later cell does not see the edited cell's names");
  });

  it("a syntax error and a throw each show a clear error; after a fix the next cells run", async () => {
    await open("01-discriminative-vs-generative");
    const syntax = await appendAndRun("const good = 21;\nconst bad = ;");
    assert.ok(syntax.outputs.some(isError), "a syntax error shows no error output");
    // TypeScript finds it before the cell runs, and says it as tslab does.
    assert.match(syntax.text, /^2:13 - Expression expected\.$/m);
    const thrown = await appendAndRun('function explode(): number {\n  throw new RangeError("too far");\n}\nexplode();');
    assert.match(thrown.text, /RangeError: too far/);
    assert.match(thrown.text, /at line 2 of cell \[\d+\]: throw new RangeError/);
    await editAndRun(syntax.index, "const good = 21;\nconst bad = 2;"); // the fix
    assert.ok(!(await readCells(page))[syntax.index].outputs.some(isError), "the fixed cell still shows an error");
    const next = await appendAndRun("good * bad");
    assert.equal(next.text.trim(), "42");
  });

  it("Kernel ▸ Restart Kernel starts a fresh worker: names are gone, cells run again", async () => {
    await open("01-discriminative-vs-generative");
    const before = await appendAndRun("const remembered = 7;\nremembered");
    assert.equal(before.text.trim(), "7");
    await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Kernel$/ }).click();
    await page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel", { hasText: /^Restart Kernel…$/ }).click();
    await page.locator(".jp-Dialog-button.jp-mod-accept").click();
    await waitForIdleKernel(page);
    const after = await appendAndRun("// @ts-ignore (the restarted kernel's checker has forgotten it too)\ntypeof remembered");
    assert.equal(after.text.trim(), "undefined");
    const again = await appendAndRun("6 * 7");
    assert.equal(again.text.trim(), "42");
  });

  it("the library on its own in the page: Node's digits and split, and a clean fall back to WebAssembly", async () => {
    const lib = `${site!.url}modules/vae-workbook.js`;
    await page.goto(`${site!.url}lab/index.html`);
    // Written as a string: the test file's own compiled functions do not exist in the page.
    const got = (await page.evaluate(`(async () => {
      const m = await import(${JSON.stringify(lib)});
      await m.preloadDefaultDigits();
      const split = m.loadDefaultDigits({ seed: 0 });
      const hex = async (a) => Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", a)), (b) => b.toString(16).padStart(2, "0")).join("");
      const backend = await m.initBackend({ quiet: true });
      return {
        train: await hex(split.train.images), test: await hex(split.test.images),
        labels: await hex(split.test.labels), n: [split.train.n, split.test.n],
        backend: m.describeBackend(backend),
      };
    })()`)) as { train: string; test: string; labels: string; n: number[]; backend: string };
    const split = loadDefaultDigits({ seed: 0 });
    const hex = (a: ArrayBufferView) =>
      createHash("sha256")
        .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
        .digest("hex");
    assert.deepEqual(got.n, [split.train.n, split.test.n]);
    assert.equal(got.train, hex(split.train.images), "the browser's train images differ from Node's");
    assert.equal(got.test, hex(split.test.images), "the browser's test images differ from Node's");
    assert.equal(got.labels, hex(split.test.labels));
    // No GPU here: WebGPU has no adapter, WebGL is software-rendered; both are skipped.
    assert.match(got.backend, /^tfjs backend: wasm, 1 thread \(skipped webgpu, webgl\)$/);
  });

  it("no request left the site, and the page threw nothing", () => {
    assert.deepEqual(site!.blocked, []);
    assert.deepEqual(site!.pageErrors, []);
  });
});
