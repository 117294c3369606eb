/**
 * A reader's session in JupyterLab, driven in headless Chromium: `npm run lab`'s
 * server (free loopback port, token), open notebook 02 and notebook 06, Run ▸ Run All
 * Cells from the menu bar, wait for the kernel to go idle, then check that every code
 * cell ran and shows its output, none is an error, the SVG figures are visible, and
 * (06) the Plotly figure answers its slider.
 *
 * The reader's own JupyterLab state is left alone: user settings and workspaces live in
 * a temporary folder for the test (autosave off there; scripts/lab-server.ts), and the
 * source notebooks must be byte-identical afterwards. Server and browser are stopped
 * whatever happens.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, skipWithoutChromium } from "../scripts/chromium";
import { startLab } from "../scripts/lab-server";
import { blockOutsideLoopback, plotlyState, readCells, runAllCells, waitForIdleKernel } from "../scripts/notebook-ui";
import { paths } from "../scripts/paths";
import { dragSlider } from "./support/plotly";

const SCREENSHOTS = path.join(paths.build, "screenshots");
/** Notebooks a reader re-runs here, by number; a number with no notebook yet is skipped. */
const WANTED = ["02", "06"];

function findNotebook(prefix: string): string | null {
  const hit = fs.readdirSync(paths.notebooks).find((f) => f.startsWith(`${prefix}-`) && f.endsWith(".ipynb"));
  return hit ? path.join(paths.notebooks, hit) : null;
}

/** Which code cells of the headless run (build/notebooks) had outputs, when that copy is current. */
function expectedOutputs(notebook: string): boolean[] | null {
  const executed = path.join(paths.build, "notebooks", path.basename(notebook));
  if (!fs.existsSync(executed) || fs.statSync(executed).mtimeMs < fs.statSync(notebook).mtimeMs) return null;
  const nb = JSON.parse(fs.readFileSync(executed, "utf8")) as { cells: { cell_type: string; outputs?: unknown[] }[] };
  return nb.cells.filter((c) => c.cell_type === "code").map((c) => (c.outputs ?? []).length > 0);
}

describe("JupyterLab: a reader re-runs notebooks through the interface", function () {
  this.timeout(8 * 60 * 1000);
  const notebooks = WANTED.map(findNotebook).filter((f): f is string => f !== null);
  const sources = new Map<string, Buffer>();
  let listing: string[] = [];
  let lab: Awaited<ReturnType<typeof startLab>> | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const blocked: string[] = [];

  before(async function () {
    if (notebooks.length === 0) this.skip();
    skipWithoutChromium(this);
    for (const nb of notebooks) sources.set(nb, fs.readFileSync(nb));
    listing = fs.readdirSync(paths.notebooks).sort();
    // startLab gives the server a profile of its own: autosave off, checkpoints elsewhere.
    lab = await startLab();
    browser = await launchChromium({ loopback: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    // JupyterLab is served from loopback; nothing else is needed.
    await blockOutsideLoopback(context, blocked);
    page = await context.newPage();
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      await lab?.stop();
    }
  });

  for (const prefix of WANTED) {
    it(`notebook ${prefix}: Run All Cells from the Run menu, every cell shows its output`, async function () {
      const notebook = findNotebook(prefix);
      if (!notebook) this.skip();
      const name = path.basename(notebook!);
      await page.goto(`${lab!.url}/lab/tree/${encodeURIComponent(name)}?token=${lab!.token}&reset`);
      const panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)");
      await panel.locator(".jp-Notebook .jp-Cell").first().waitFor({ timeout: 60_000 });
      // The kernel is the project's tslab, and it is ready before the reader runs anything.
      await panel.locator(".jp-KernelName").filter({ hasText: "TypeScript" }).waitFor({ timeout: 60_000 });
      const indicator = panel.locator(".jp-Notebook-ExecutionIndicator");
      await waitForIdleKernel(page);

      // Run ▸ Run All Cells, with the mouse.
      const seconds = await runAllCells(page);
      assert.equal(await indicator.getAttribute("data-status"), "idle");

      const cells = await readCells(page);
      assert.ok(cells.length > 0, "no code cells");
      cells.forEach((c, i) => {
        assert.match(c.prompt, /^\[\d+\]:$/, `code cell ${i} (${c.source}) did not run: prompt "${c.prompt}"`);
        const bad = c.outputs.filter((m) => m === "application/vnd.jupyter.stderr" || m.includes("error"));
        assert.deepEqual(bad, [], `code cell ${i} (${c.source}) shows an error`);
      });
      // Every cell that draws or prints has output; against the headless run when it is current.
      const expected = expectedOutputs(notebook!);
      if (expected) {
        assert.equal(cells.length, expected.length, "code cell count differs from the headless run");
        cells.forEach((c, i) => {
          if (expected[i]) assert.ok(c.outputs.length > 0, `code cell ${i} (${c.source}) has no output in JupyterLab but had one headless`);
        });
      }
      cells.forEach((c, i) => {
        if (/\bshow\.(chart|svg|png|table|ledger|html)\(|console\.log\(/.test(c.source)) {
          assert.ok(c.outputs.length > 0, `code cell ${i} (${c.source}) shows nothing`);
        }
      });
      const svgs = cells.flatMap((c) => c.images).filter((img) => img.mime === "image/svg+xml");
      assert.ok(svgs.length > 0, "no SVG figure");
      for (const img of svgs) assert.ok(img.natural > 0 && img.width > 10 && img.height > 10, `an SVG figure is not visible: ${JSON.stringify(img)}`);

      // The interactive figure answers its slider (06 has one).
      const graphs = await panel.locator(".js-plotly-plot").count();
      if (prefix === "06") assert.ok(graphs > 0, "06 shows no Plotly figure in JupyterLab");
      for (let i = 0; i < graphs; i++) {
        const plot = panel.locator(".js-plotly-plot").nth(i);
        const before = await plotlyState(page, i);
        assert.equal(await plotlyState(page, i), before, "the figure changes by itself");
        if (!(await dragSlider(page, plot))) continue;
        await page.waitForTimeout(600);
        assert.notEqual(await plotlyState(page, i), before, `moving the slider of Plotly figure ${i} changed nothing`);
        await plot.screenshot({ path: path.join(SCREENSHOTS, `jupyterlab-${prefix}-plotly-${i}.png`) });
      }

      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      // The reader's view: the interactive figure if there is one, else the first figure.
      const focus = graphs > 0 ? panel.locator(".js-plotly-plot").first() : panel.locator(".jp-OutputArea-output img").first();
      await focus.evaluate((el) => el.scrollIntoView({ block: "center" }));
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(SCREENSHOTS, `jupyterlab-${prefix}.png`) });
      console.log(`      ${name}: ${cells.length} code cells run in ${seconds.toFixed(1)} s, ${svgs.length} SVG figures, ${graphs} Plotly figures`);
    });
  }

  it("left the source notebooks and their folder untouched", function () {
    if (notebooks.length === 0) this.skip();
    for (const [nb, bytes] of sources) assert.ok(fs.readFileSync(nb).equals(bytes), `${path.basename(nb)} was modified`);
    assert.deepEqual(fs.readdirSync(paths.notebooks).sort(), listing, "files appeared or vanished in notebooks/");
    assert.deepEqual(blocked, [], "JupyterLab tried to reach beyond loopback");
  });
});
