/**
 * The browser kernel in a real browser, through the interface: the built site
 * (build/lite) in headless Chromium, cells typed into a notebook and run with
 * Shift-Enter, menus clicked. The same cells go through the real tslab kernel (Jupyter's
 * nbclient) and both must show the same text: every construct tslab runs, values as
 * Node's util.inspect shows them, Node's console methods. Then what tslab does not do as
 * well: big outputs capped with a note, an interrupt that keeps the notebook (an awaiting
 * cell is abandoned, its names stay; a busy loop restarts the worker, and says so), later
 * cells' outputs after an interrupt, a dead worker replaced, a thrown getter during
 * completion. Last, the kernel's wheel on a bare `jupyter lite build` of one notebook that
 * imports only `tslab`.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { liteDirs } from "../scripts/build-lite";
import { skipWithoutChromium } from "../scripts/chromium";
import { type CellView, notebookPanel, readCells, typeNewCell, waitForCellsDone, waitForIdleKernel } from "../scripts/notebook-ui";
import { jupyterEnv, venvBin } from "../scripts/paths";
import { serveStatic } from "../scripts/serve";
import { LiteSite } from "./support/lite-site";
import { runWithTslab, type TslabCellOutput } from "./support/tslab-cells";

/** Cells that both kernels must show the same way (tslab type-checks them: they are valid TypeScript). */
const AGREEING_CELLS = [
  // redeclared vars, two for-var loops
  "var a = 1;\nvar a = 2;\nfor (var i = 0; i < 2; i++) {}\nfor (var i = 0; i < 3; i++) {}\n[a, i]",
  // a class used in its own static initializer and static block
  'class Registry {\n  static readonly empty = new Registry();\n  static count = 0;\n  static { Registry.count = 1; }\n  readonly tag: string = "first";\n}\n[Registry.empty instanceof Registry, Registry.count, Registry.empty.tag]',
  // re-running such a class binds the new one
  'class Registry {\n  static readonly empty = new Registry();\n  readonly tag: string = "second";\n}\nRegistry.empty.tag',
  "namespace Geometry {\n  export const sides = 3;\n  export function angle(): number { return 180 / sides; }\n}\n[Geometry.sides, Geometry.angle()]",
  "enum Color { Red, Green = 5, Blue }\n[Color.Blue, Color[5]]",
  // decorators as tslab compiles them (experimentalDecorators) and an accessor field
  'const calls: string[] = [];\nfunction sealed(c: Function) { calls.push("sealed " + c.name); Object.seal(c); }\nfunction logged(target: any, key: string) { calls.push("member " + key); }\n@sealed\nclass Sealed {\n  @logged greet(): string { return "hi"; }\n  accessor n = 2;\n}\n[calls, Object.isSealed(Sealed), new Sealed().n]',
  '"just a string"',
  // an earlier cell's function keeps its own binding when a later cell assigns the name (tslab's exports)
  "let k = 1;\nfunction f(): number { return k; }",
  "k = 5;\n[k, f()]",
  // values through Node's util.inspect
  "new Float64Array(200000)",
  'new Map<string, unknown>([["a", { b: [1, 2, { c: { d: 1 } }] }], ["typed", new Uint8Array([1, 2, 3])]])',
  "Array.from({ length: 150 }, (_, i) => i * i)",
  'class Point { constructor(readonly x: number, readonly y: number) {} }\n[new Point(1, 2), new Set(["x"]), 10n, null, undefined]',
  // Node's console methods
  'console.table([{ a: 1, b: "x" }, { a: 2, c: [1, 2, 3, 4] }]);\nconsole.table(new Map([["k", { x: 1 }]]));\nconsole.count();\nconsole.count();\nconsole.count("z");\nconsole.group("Group");\nconsole.log("inside\\nthe group");\nconsole.groupEnd();\nconsole.dir({ a: { b: { c: {} } } }, { depth: 0 });\nconsole.log("%s has %d items: %o", "list", 3, [1, 2]);',
  'console.assert(1 > 2, "checked %d", 3);\nconsole.warn(new Error("a warning").message);\nconsole.error({ deep: { er: { than: { two: 1 } } } });',
];

/** A compile error: each kernel names line 2 in its own form. Last: tslab shows nothing for cells after an error. */
const ERROR_CELL = "const ok = 1;\nconst bad = ;";

/** What a cell shows on stdout (its value included) and on stderr, as one text each. */
interface Shown {
  stdout: string;
  stderr: string;
}

const joinLines = (parts: string[]) => parts.map((p) => (p.endsWith("\n") ? p : `${p}\n`)).join("");

function fromTslab(o: TslabCellOutput): Shown {
  return { stdout: o.stdout, stderr: o.stderr };
}

function fromBrowser(c: CellView): Shown {
  const stdout: string[] = [];
  const stderr: string[] = [];
  c.outputs.forEach((mime, i) => {
    (mime === "application/vnd.jupyter.stderr" ? stderr : stdout).push(c.texts[i]);
  });
  return { stdout: joinLines(stdout), stderr: joinLines(stderr) };
}

describe("the browser kernel in Chromium: tslab's constructs and output, interrupts, reuse", function () {
  this.timeout(15 * 60 * 1000);
  let site: LiteSite | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let tslab: Promise<TslabCellOutput[]>;

  before(async function () {
    skipWithoutChromium(this);
    // tslab runs the same cells meanwhile (another process).
    tslab = runWithTslab([...AGREEING_CELLS, ERROR_CELL]);
    tslab.catch(() => undefined);
    site = await LiteSite.open();
  });

  beforeEach(async () => {
    ({ context, page } = await site!.newReader());
  });

  afterEach(async () => {
    await site?.closeReader(context);
  });

  after(async () => {
    await site?.close();
  });

  async function open(url: string): Promise<void> {
    await page.goto(url);
    await page.locator(`${notebookPanel} .jp-Notebook .jp-Cell`).first().waitFor({ timeout: 60_000 });
    await page.locator(`${notebookPanel} .jp-KernelName`).filter({ hasText: "TypeScript (browser)" }).waitFor({ timeout: 60_000 });
    await waitForIdleKernel(page);
  }

  const openWorkbook = () => open(`${site!.url}lab/index.html?path=01-discriminative-vs-generative.ipynb`);

  async function appendAndRun(text: string, timeout = 60_000): Promise<CellView & { index: number }> {
    const index = await typeNewCell(page, text);
    await waitForCellsDone(page, timeout);
    return { ...(await readCells(page))[index], index };
  }

  async function clickMenu(menu: string, item: RegExp): Promise<void> {
    await page.locator(".lm-MenuBar-itemLabel", { hasText: new RegExp(`^${menu}$`) }).click();
    await page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel", { hasText: item }).click();
  }

  const waitForBusy = () =>
    page.waitForFunction((panel) => document.querySelector(`${panel} .jp-Notebook-ExecutionIndicator`)?.getAttribute("data-status") === "busy", notebookPanel);

  it("every construct, value and console method shows what tslab shows; a compile error names its line in both", async () => {
    await openWorkbook();
    const shown: Shown[] = [];
    for (const cell of AGREEING_CELLS) shown.push(fromBrowser(await appendAndRun(cell)));
    const syntax = await appendAndRun(ERROR_CELL);
    const fromNode = await tslab;
    AGREEING_CELLS.forEach((cell, i) => {
      const expected = fromTslab(fromNode[i]);
      assert.equal(fromNode[i].error, null, `tslab failed on: ${cell}`);
      assert.equal(expected.stderr.includes(" - "), false, `tslab reports a compile error for: ${cell}\n${expected.stderr}`);
      assert.deepEqual(shown[i], expected, `cell ${i + 1} differs from tslab:\n${cell}`);
    });
    // Spot checks that the agreement is about something.
    assert.match(shown[9].stdout, /^Float64Array\(200000\) \[\n.*\.\.\. 199900 more items\n\]\n$/s);
    assert.ok(shown[9].stdout.length < 1000);
    assert.match(shown[13].stdout, /│ \(index\) │ a │ b {3}│ c/);
    assert.match(shown[14].stderr, /^Assertion failed: checked 3\n/);
    // The compile error: TypeScript finds it before the cell runs, in both kernels, in tslab's words.
    assert.match(fromNode[AGREEING_CELLS.length].stderr, /^2:13 - Expression expected\./);
    assert.equal(fromBrowser(syntax).stderr, fromNode[AGREEING_CELLS.length].stderr);
  });

  it("a cell's big output is capped with a note saying how much was cut; the page stays responsive", async () => {
    await openWorkbook();
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the cell's own template literal
    const big = await appendAndRun('for (let i = 0; i < 50000; i++) console.log(`line ${i} ` + "·".repeat(40));');
    const text = big.texts.join("");
    assert.ok(text.length < 110_000, `${text.length} characters shown`);
    assert.match(text, /line 0 /);
    assert.doesNotMatch(text, /line 49999 /);
    assert.match(
      text,
      /… output cut: [\d,]+ more characters \([\d,]+ lines\) of this cell's stdout and stderr were not shown — the browser kernel shows the first 100,000 characters of a cell's output/,
    );
    const next = await appendAndRun("6 * 7");
    assert.equal(next.text.trim(), "42");
  });

  it("Kernel ▸ Interrupt abandons an awaiting cell: the kernel is not restarted, its names stay, later cells show their output", async () => {
    await openWorkbook();
    await appendAndRun("const keep = 42;");
    const index = await typeNewCell(page, "let ticks = 0;\nwhile (true) {\n  ticks++;\n  await new Promise((r) => setTimeout(r, 5));\n}");
    await waitForBusy();
    await page.waitForTimeout(600);
    await clickMenu("Kernel", /^Interrupt Kernel$/);
    await waitForCellsDone(page, 30_000);
    const stopped = (await readCells(page))[index];
    assert.match(
      stopped.text,
      /Interrupted: the cell was stopped where it awaited; the kernel was not restarted, so every name defined so far .* is still there/,
    );
    // The checker, like tslab's, has no declarations of a cell that did not finish: ask past it.
    const first = await appendAndRun("// @ts-ignore\n[keep, ticks > 0]");
    assert.equal(first.text.trim(), "[ 42, true ]");
    const t1 = Number((await appendAndRun("// @ts-ignore\nticks")).text.trim());
    await page.waitForTimeout(300);
    const t2 = Number((await appendAndRun("// @ts-ignore\nticks")).text.trim());
    assert.equal(t2, t1, "the abandoned loop went on counting");
    const later = await appendAndRun('console.log("later output");\n6 * 7');
    assert.equal(later.text, "later output\n\n42");
  });

  it("Kernel ▸ Interrupt during 08's training stops it where it awaits; the digits and every name stay", async () => {
    await open(`${site!.url}lab/index.html?path=08-gaussian-vae.ipynb`);
    await clickMenu("Run", /^Run All Cells$/);
    const progress = page.locator(`${notebookPanel} .jp-OutputArea-output`, { hasText: /batch −ELBO/ });
    await progress.first().waitFor({ timeout: 5 * 60_000 });
    await page.waitForTimeout(1000);
    await clickMenu("Kernel", /^Interrupt Kernel$/);
    await waitForCellsDone(page, 60_000);
    const cells = await readCells(page);
    const stopped = cells.find((c) => /Interrupted/.test(c.text));
    assert.ok(stopped, "no cell says it was interrupted");
    assert.match(stopped.text, /the cell was stopped where it awaited; the kernel was not restarted/);
    const shown = await progress.first().textContent();
    await page.waitForTimeout(1500);
    assert.equal(await progress.first().textContent(), shown, "training went on after the interrupt");
    const after = await appendAndRun("// @ts-ignore (the interrupted cell's names are unknown to the checker)\n[train.n, typeof trainVae, typeof result]");
    assert.match(after.text.trim(), /^\[ \d+, 'function', 'undefined' \]$/);
  });

  it("Kernel ▸ Interrupt of a synchronous loop restarts the worker after a second, says so, and the next cells run", async () => {
    await openWorkbook();
    await appendAndRun("const before = 1;");
    const index = await typeNewCell(page, "let spins = 0;\nwhile (true) spins++;");
    await waitForBusy();
    await page.waitForTimeout(500);
    const started = Date.now();
    await clickMenu("Kernel", /^Interrupt Kernel$/);
    await waitForCellsDone(page, 30_000);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds >= 1, `restarted after ${seconds} s, before the grace second`);
    const stopped = (await readCells(page))[index];
    assert.match(
      stopped.text,
      /Interrupted: the cell was running a synchronous loop that did not yield within 1 s, so the kernel's worker was restarted; the names defined by earlier cells are gone/,
    );
    // The checker forgot the earlier cells with the worker: `before` is no name of its either.
    assert.equal((await appendAndRun("// @ts-ignore\ntypeof before")).text.trim(), "undefined");
    assert.equal((await appendAndRun("6 * 7")).text.trim(), "42");
  });

  it("a worker that dies (a cell calls close()) fails its cell with a clear error; a new worker runs the next cells", async () => {
    await openWorkbook();
    await appendAndRun("const lost = 1;");
    // A worker's close() is no global of Node's, so the checker (tslab's globals) does not know it.
    const died = await appendAndRun("// @ts-ignore\nclose();\nawait new Promise(() => {});");
    assert.match(
      died.text,
      /KernelDied: the kernel's worker stopped: a cell called close\(\), which ends the kernel's worker; a new one was started, and the names defined so far are gone/,
    );
    assert.equal((await appendAndRun("// @ts-ignore\ntypeof lost")).text.trim(), "undefined");
    assert.equal((await appendAndRun("6 * 7")).text.trim(), "42");
  });

  it("Tab completes members from runtime values; a getter that throws during completion breaks nothing", async () => {
    await openWorkbook();
    await appendAndRun('const tricky = { get bad(): any { throw new Error("no"); }, good: 1 };');
    const index = await page.locator(`${notebookPanel} .jp-CodeCell`).count();
    await page.locator(`${notebookPanel} .jp-Cell`).last().click();
    await page.keyboard.press("Escape");
    await page.keyboard.press("b");
    await page.locator(`${notebookPanel} .jp-CodeCell .cm-content`).nth(index).click();
    // Through the getter that throws: no names, no popup, and the kernel stays idle.
    await page.keyboard.insertText("tricky.bad.");
    await page.keyboard.press("Tab");
    await page.waitForTimeout(1500);
    assert.equal(await page.locator(".jp-Completer-item").count(), 0);
    await waitForIdleKernel(page);
    // Then the object's own members.
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText("tricky.");
    await page.keyboard.press("Tab");
    const items = page.locator(".jp-Completer-item .jp-Completer-match");
    await items.first().waitFor({ timeout: 10_000 });
    assert.deepEqual(await items.allTextContents(), ["bad", "good"]);
    await items.filter({ hasText: /^good$/ }).click(); // inserts it
    await page.waitForTimeout(300);
    await page.keyboard.press("Shift+Enter");
    await waitForCellsDone(page, 30_000);
    assert.equal((await readCells(page))[index].text.trim(), "1");
  });

  it("the kernel's wheel adds a TypeScript kernel to a bare `jupyter lite build` with one notebook that imports only tslab", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bare-lite-"));
    try {
      const notebook = {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
        cells: [
          {
            cell_type: "code",
            id: "only",
            metadata: {},
            execution_count: null,
            outputs: [],
            source: 'import { display } from "tslab";\ndisplay.html("<b id=\\"bare\\">hello from tslab</b>");\nconst n: number = 6 * 7;\nn',
          },
        ],
      };
      fs.writeFileSync(path.join(dir, "hello.ipynb"), JSON.stringify(notebook));
      const build = spawnSync(
        venvBin("jupyter"),
        ["lite", "build", "--contents", "hello.ipynb", "--output-dir", "site", `--LiteBuildConfig.federated_extensions=${liteDirs.wheel}`],
        {
          cwd: dir,
          env: jupyterEnv(),
          encoding: "utf8",
        },
      );
      assert.equal(build.status, 0, `jupyter lite build failed:\n${build.stdout}${build.stderr}`);
      const bare = await serveStatic(path.join(dir, "site"));
      try {
        await open(`${bare.url}lab/index.html?path=hello.ipynb`);
        await page.locator(`${notebookPanel} .jp-CodeCell`).first().click();
        await page.keyboard.press("Shift+Enter");
        await page.locator(`${notebookPanel} #bare`).waitFor({ timeout: 60_000 });
        await waitForCellsDone(page, 60_000);
        const [cell] = await readCells(page);
        assert.deepEqual(cell.outputs, ["text/html", "text/plain"]);
        assert.equal(cell.texts[0], "hello from tslab");
        assert.equal(cell.texts[1].trim(), "42");
        const missing = await appendAndRun('import { show } from "vae-workbook";');
        assert.match(missing.text, /Cannot find module "vae-workbook": the browser kernel provides "tslab"/);
      } finally {
        await bare.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("no request left the site, and the page threw nothing", () => {
    assert.deepEqual(site!.blocked, []);
    assert.deepEqual(site!.pageErrors, []);
  });
});
