/**
 * The browser edition on the reader's GPU (WebGPU), in real Chromium against the real site
 * (build/lite, rebuilt from this checkout), served from loopback — WebGPU needs a secure
 * context, and loopback is one.
 *
 * This machine has no GPU: Chromium with --enable-unsafe-webgpu offers SwiftShader's software
 * adapter, which computes correctly but slowly, so the library uses it only when asked for
 * by name (the site's `?backend=webgpu`). Every WebGPU run here is forced that way; a reader
 * with a GPU gets the same code on their adapter without asking.
 *
 *   - The library on its own skips the software adapter and says why; forced, it runs on
 *     WebGPU (its self-check product read with `await data()`).
 *   - Notebook 07, Run All on WebGPU and on WebAssembly: every ledger row ✔ on both; the
 *     float64 rows identical, the float32 ones (tfjs autodiff) within float32 round-off.
 *   - Notebook 08, shortened as a reader would edit it (SwiftShader takes seconds for a
 *     training step that WebAssembly takes milliseconds for; see SHORT_08), Run All on both
 *     backends: every cell runs; every ledger row and checked claim shows the same verdict
 *     on WebGPU as on WebAssembly, with the same numbers within float32 tolerance; so do
 *     the tables (training history, IWAE ladder, final −ELBO). The claims about a full
 *     run's training curve and trained model do not hold after a short run: the test prints
 *     which rows are ✘ on both backends, and requires every other row ✔.
 */
import { strict as assert } from "node:assert";
import type { Page } from "playwright-core";
import { skipWithoutChromium } from "../scripts/chromium";
import { notebookPanel, readCells, runAllCells, waitForIdleKernel } from "../scripts/notebook-ui";
import { checkRowsInPage, LiteSite } from "./support/lite-site";

/**
 * 08 made short, as a reader edits cells before Run All (SwiftShader takes seconds of CPU for
 * a training step of 08's model): 08's own models trained on 256 images (3 epochs of the
 * 784-400-20 one, evaluated on 200 test images; 1 epoch of the 784-256-2 one: 8 optimizer
 * steps instead of 1008), 200 images mapped into its latent plane, the IWAE ladder up to
 * k = 50 on 20 images, the ELBO identity on 200, and failing claims shown without stopping.
 */
const firstImages = (set: string, n: number) =>
  `{ ...${set}, n: ${n}, images: ${set}.images.subarray(0, ${n} * 784), labels: ${set}.labels.subarray(0, ${n}) }`;
const SHORT_08: { find: string; replace: string }[] = [
  {
    find: 'checkEvery,\n} from "vae-workbook";',
    replace: 'checkEvery, setStrictChecks,\n} from "vae-workbook";\nsetStrictChecks(false); // a short run: show ✘ rows and go on',
  },
  { find: "const EPOCHS = 10;", replace: "const EPOCHS = 3;" },
  {
    find: "const result = await trainVae(train, test, {",
    replace: `const result = await trainVae(${firstImages("train", 256)}, ${firstImages("test", 200)}, {`,
  },
  { find: "const small = await trainVae(train, null, {", replace: `const small = await trainVae(${firstImages("train", 256)}, null, {` },
  { find: "epochs: 6, batchSize: 128,", replace: "epochs: 1, batchSize: 128," },
  { find: "const nMap = 1000;", replace: "const nMap = 200;" },
  { find: "[1, 5, 50, 500], { seed: 7, subset: 100 }", replace: "[1, 5, 50], { seed: 7, subset: 20 }" },
  { find: "const nCheck = 500;", replace: "const nCheck = 200;" },
];

/**
 * How far a float32 result may move between WebAssembly (XNNPACK) and WebGPU (SwiftShader's
 * shaders): the two sum in different orders, so a product or a reduction differs in its last
 * float32 digits (ε₃₂ ≈ 1.2e-7, relative). 07's autodiff gradients: relative 2e-5, since each
 * backend's is within its claim's 1e-5 of the float64 chain rule on (nearly) the same draws
 * (measured: up to 3e-6). 08's numbers come after 8 Adam steps, which carry the differences
 * forward: relative 1e-4, some 500 times what was measured (2e-7) and still a thousandth of
 * what a wrong read gives (the synchronous read's product was off by 0.14 in values of ~0.5).
 */
const FLOAT32_ONE_PASS = 2e-5;
const FLOAT32_AFTER_TRAINING = 1e-4;

interface Row {
  tag: string;
  title: string;
  /** For a claim checked on every case of a list (checkEvery), the case it shows. */
  shownCase: string | null;
  lhs: number;
  rhs: number;
  pass: boolean;
  float32: boolean;
}

interface Run {
  /** The one status line initBackend printed or the notebook showed ("tfjs backend: …"). */
  backendLine: string;
  rows: Row[];
  /** Every workbook table: header and rows of cell texts. */
  tables: { head: string[]; rows: string[][] }[];
  seconds: number;
}

/** Relative difference, with numbers at round-off level (|x| ≤ 1e-12) taken as zero. */
function relativeDifference(a: number, b: number): number {
  if (a === b) return 0;
  if (Math.abs(a) <= 1e-12 && Math.abs(b) <= 1e-12) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

/** One unit in the fifth significant digit: tables show five (src/notebook.ts, show.table's `digits`). */
const shownDigitUnit = (a: number, b: number) => 10 ** (Math.floor(Math.log10(Math.max(Math.abs(a), Math.abs(b), 1e-300))) - 4);

describe("the browser edition on WebGPU (SwiftShader, forced): 07 and a short 08 give WebAssembly's numbers", function () {
  this.timeout(25 * 60 * 1000);
  let site: LiteSite | undefined;

  before(async function () {
    skipWithoutChromium(this);
    site = await LiteSite.open({ webgpu: true });
  });

  after(async () => {
    await site?.close();
  });

  /** A new reader: a fresh profile (JupyterLite's stored files start empty), nothing leaves loopback. */
  const newPage = async (): Promise<Page> => (await site!.newReader()).page;

  /** Opens a notebook with `?backend=`, makes the edits, runs all cells, and reads what they show. */
  async function runNotebook(name: string, backend: "wasm" | "webgpu", edits: typeof SHORT_08 = []): Promise<Run> {
    const page = await newPage();
    await page.goto(`${site!.url}lab/index.html?path=${name}.ipynb&backend=${backend}`);
    // Generous: SwiftShader's shaders compile on the CPU that a shared machine's other work also wants.
    await page.locator(`${notebookPanel} .jp-KernelName`).filter({ hasText: "TypeScript (browser)" }).waitFor({ timeout: 180_000 });
    await waitForIdleKernel(page, 180_000);
    for (const edit of edits) await editCell(page, edit.find, edit.replace);
    const seconds = await runAllCells(page, 20 * 60_000);
    const cells = await readCells(page);
    cells.forEach((c, i) => {
      assert.match(c.prompt, /^\[\d+\]:$/, `${name} on ${backend}: code cell ${i + 1} (${c.source}) did not run`);
      const bad = c.outputs.filter((m) => m === "application/vnd.jupyter.stderr" || m.includes("error"));
      assert.deepEqual(bad, [], `${name} on ${backend}: code cell ${i + 1} (${c.source}) shows an error: ${c.text.slice(0, 400)}`);
    });
    const backendLine = /tfjs backend: [^\n（]*/.exec(cells.map((c) => c.text).join("\n"))?.[0].trim() ?? "";
    const rows: Row[] = (await checkRowsInPage(page)).map((r) => ({
      tag: r.tag,
      title: r.title,
      shownCase: /^(?:closest|failing) case: ([^;]*);/.exec(r.method)?.[1] ?? null,
      lhs: Number(r.lhs),
      rhs: Number(r.rhs),
      pass: r.pass === true,
      float32: /float32/.test(`${r.tolerance} ${r.method}`),
    }));
    const tables = await page.$$eval(`${notebookPanel} table.workbook-table`, (ts) =>
      ts.map((t) => ({
        head: Array.from(t.querySelectorAll("thead th")).map((th) => th.textContent ?? ""),
        rows: Array.from(t.querySelectorAll("tbody tr")).map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent ?? "")),
      })),
    );
    await site!.closeReader(page.context());
    return { backendLine, rows, tables, seconds };
  }

  /** Replaces `find` (in exactly one code cell) with `replace`, typing the cell's new text as a reader would. */
  async function editCell(page: Page, find: string, replace: string): Promise<void> {
    const sources = await page.$$eval(`${notebookPanel} .jp-CodeCell`, (cells) =>
      cells.map((cell) =>
        Array.from(cell.querySelectorAll(".cm-line"))
          .map((l) => l.textContent)
          .join("\n"),
      ),
    );
    const hits = sources.flatMap((s, i) => (s.includes(find) ? [i] : []));
    assert.equal(hits.length, 1, `the edit "${find}" matches ${hits.length} code cells of the notebook, not one`);
    const editor = page.locator(`${notebookPanel} .jp-CodeCell .cm-content`).nth(hits[0]);
    await editor.click();
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText(sources[hits[0]].replace(find, replace));
    await page.keyboard.press("Escape");
  }

  /**
   * The two runs agree: the same rows with the same verdicts and their sides within
   * `tolerance`, and every number of every table (as shown, to five significant digits)
   * within `tableTolerance`. Not compared: wall-clock times and rates, and in a table of
   * float32 results the columns that are differences of two float32 results (the relative
   * difference of autodiff and the float64 chain rule, a z-score against the exact value):
   * those are round-off, magnified. A claim checked on every case of a list shows its
   * closest case, which round-off may pick differently: its sides are compared when both
   * runs show the same case (the tables hold every case's numbers).
   */
  function assertSameNumbers(
    name: string,
    wasm: Run,
    gpu: Run,
    tolerance: (row: Row) => number,
    tableTolerance: number,
  ): { worstRow: number; worstTable: number } {
    assert.deepEqual(
      gpu.rows.map((r) => `(${r.tag}) ${r.title}`),
      wasm.rows.map((r) => `(${r.tag}) ${r.title}`),
      `${name}: the ledger rows differ`,
    );
    let worstRow = 0;
    gpu.rows.forEach((r, i) => {
      const w = wasm.rows[i];
      assert.equal(r.pass, w.pass, `${name}: (${r.tag}) ${r.title} is ${r.pass ? "✔" : "✘"} on WebGPU, ${w.pass ? "✔" : "✘"} on WebAssembly`);
      if (r.shownCase !== w.shownCase) return;
      for (const side of ["lhs", "rhs"] as const) {
        const d = relativeDifference(r[side], w[side]);
        worstRow = Math.max(worstRow, d);
        assert.ok(
          d <= tolerance(r),
          `${name}: (${r.tag}) ${r.title}, ${side}: WebGPU ${r[side]}, WebAssembly ${w[side]} (relative difference ${d.toExponential(1)} > ${tolerance(r)})`,
        );
      }
    });
    let worstTable = 0;
    assert.equal(gpu.tables.length, wasm.tables.length, `${name}: the number of tables differs`);
    gpu.tables.forEach((t, k) => {
      const w = wasm.tables[k];
      assert.deepEqual(t.head, w.head, `${name}: table ${k + 1}'s columns differ`);
      assert.equal(t.rows.length, w.rows.length, `${name}: table ${k + 1}'s rows differ`);
      const roundOff = t.head.some((h) => /float32/.test(h)) ? /relative difference|z-score/ : null;
      t.rows.forEach((row, i) => {
        // Wall-clock times and rates are the machine's, not the backend's numbers.
        if (/time/.test(row[0])) return;
        row.forEach((text, j) => {
          if (/examples\/s/.test(t.head[j]) || roundOff?.test(t.head[j])) return;
          const [a, b] = [Number(text), Number(w.rows[i][j])];
          if (!Number.isFinite(a) || !Number.isFinite(b)) {
            assert.equal(text, w.rows[i][j], `${name}: table ${k + 1}, row ${i + 1}, "${t.head[j]}"`);
            return;
          }
          const d = Math.abs(a - b);
          worstTable = Math.max(worstTable, relativeDifference(a, b));
          const allowed = tableTolerance * Math.max(Math.abs(a), Math.abs(b)) + shownDigitUnit(a, b);
          assert.ok(d <= allowed, `${name}: table ${k + 1}, row ${i + 1} (${row[0]}), "${t.head[j]}": WebGPU ${text}, WebAssembly ${w.rows[i][j]}`);
        });
      });
    });
    return { worstRow, worstTable };
  }

  it("the library on its own skips the software adapter and says why; asked for WebGPU, it runs there", async function () {
    const page = await newPage();
    await page.goto(`${site!.url}lab/index.html`);
    const lib = `${site!.url}modules/vae-workbook.js`;
    const probe = (prefer: string) => `(async () => {
      const adapter = await navigator.gpu?.requestAdapter();
      if (!adapter) return { adapter: null };
      const m = await import(${JSON.stringify(lib)});
      const info = await m.initBackend({ quiet: true${prefer ? `, prefer: "${prefer}"` : ""} });
      return { adapter: adapter.info.architecture, line: m.describeBackend(info), skipped: info.skipped };
    })()`;
    const own = (await page.evaluate(probe(""))) as { adapter: string | null; line?: string; skipped?: string[] };
    if (own.adapter === null) {
      console.log("      skipped: this Chromium offers no WebGPU adapter, not even SwiftShader's");
      this.skip();
    }
    assert.match(own.line!, /^tfjs backend: wasm, 1 thread \(skipped webgpu, webgl\)$/);
    assert.match(own.skipped![0], /^webgpu: only a software WebGPU adapter \(google swiftshader\), slower than WebAssembly$/);
    // A fresh worker-free page for the forced choice (a page chooses its backend once).
    const forcedPage = await newPage();
    await forcedPage.goto(`${site!.url}lab/index.html`);
    const forced = (await forcedPage.evaluate(probe("webgpu"))) as { line: string };
    assert.equal(forced.line, "tfjs backend: webgpu on google swiftshader");
  });

  let wasm07: Run;
  let wasm08: Run;

  it("07 on WebGPU: every ledger row ✔, the float64 rows identical to WebAssembly's, the float32 ones within float32 round-off", async () => {
    wasm07 = await runNotebook("07-reparameterization", "wasm");
    const gpu = await runNotebook("07-reparameterization", "webgpu");
    assert.match(wasm07.backendLine, /^tfjs backend: wasm\b/);
    assert.equal(gpu.backendLine, "tfjs backend: webgpu on google swiftshader");
    for (const run of [wasm07, gpu]) for (const r of run.rows) assert.ok(r.pass, `07: (${r.tag}) ${r.title} shows ✘ on ${run.backendLine}`);
    const float32Rows = gpu.rows.filter((r) => r.float32).length;
    assert.ok(float32Rows > 0, "07 has no float32 rows: nothing of it ran on WebGPU");
    // float64 code is the same code in the same browser: bit for bit.
    const { worstRow, worstTable } = assertSameNumbers("07", wasm07, gpu, (r) => (r.float32 ? FLOAT32_ONE_PASS : 0), FLOAT32_ONE_PASS);
    console.log(
      `      07: ${gpu.rows.length} ledger rows ✔ on both (${float32Rows} float32); worst relative difference: rows ${worstRow.toExponential(1)}, tables ${worstTable.toExponential(1)}; ` +
        `Run All ${wasm07.seconds.toFixed(1)} s on WebAssembly, ${gpu.seconds.toFixed(1)} s on WebGPU (SwiftShader)`,
    );
  });

  it("08, short: every cell runs on WebGPU, each row has WebAssembly's verdict and numbers within float32 tolerance", async () => {
    wasm08 = await runNotebook("08-gaussian-vae", "wasm", SHORT_08);
    const gpu = await runNotebook("08-gaussian-vae", "webgpu", SHORT_08);
    assert.match(wasm08.backendLine, /^tfjs backend: wasm\b/);
    assert.equal(gpu.backendLine, "tfjs backend: webgpu on google swiftshader");
    const { worstRow, worstTable } = assertSameNumbers("08 (short)", wasm08, gpu, () => FLOAT32_AFTER_TRAINING, FLOAT32_AFTER_TRAINING);
    const failing = gpu.rows.filter((r) => !r.pass);
    const passing = gpu.rows.length - failing.length;
    // Short-run casualties: the claims about a full run's curve and trained model, and nothing else.
    const fullRunOnly = /ever more slowly|keep the digit|cluster in the latent plane|pairing with the ELBO/;
    for (const r of failing) assert.match(r.title, fullRunOnly, `08 (short): (${r.tag}) ${r.title} shows ✘ on both backends`);
    const final = (run: Run) => run.tables.flatMap((t) => t.rows).find((r) => r[0] === "final test −ELBO (nats)")?.[1];
    console.log(
      `      08 (short): ${gpu.rows.length} rows, ${passing} ✔ on both, ✘ on both after a short run: ${failing.map((r) => `"${r.title}"`).join(", ")}; ` +
        `worst relative difference: rows ${worstRow.toExponential(1)}, tables ${worstTable.toExponential(1)}; ` +
        `final test −ELBO ${final(gpu)} (WebGPU) vs ${final(wasm08)} (WebAssembly); Run All ${wasm08.seconds.toFixed(1)} s on WebAssembly, ${gpu.seconds.toFixed(1)} s on WebGPU`,
    );
  });

  it("no request left the site, and the pages threw nothing", () => {
    assert.deepEqual(site!.blocked, []);
    assert.deepEqual(site!.pageErrors, []);
  });
});
