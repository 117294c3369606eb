/**
 * The browser kernel is TypeScript for the reader, in a real Chromium on the real site
 * (build/lite, built from this checkout): a cell with a type error shows tslab's
 * `L:C - message` and does not run; Tab completes from types (a member of a value whose
 * cell has not run, names inside `import { … } from "vae-workbook"`, an options object's
 * keys); Shift-Tab shows the signature and the doc comment; a completion whose reading
 * throws still gets an answer. The same cells go through the real tslab kernel, and the
 * two kernels must agree on each message, completion and tooltip.
 */
import { strict as assert } from "node:assert";
import type { BrowserContext, Page } from "playwright-core";
import { skipWithoutChromium } from "../scripts/chromium";
import { addCell, notebookPanel, readCells, waitForCellsDone, waitForIdleKernel } from "../scripts/notebook-ui";
import { appendAndRun, isErrorOutput, LiteSite, openNotebook } from "./support/lite-site";
import { stderrLines, type TslabAnswer, tslabSession } from "./support/tslab";

/** The cells and requests of this test, as the reader types them; the same go to tslab. */
const CELLS = {
  typeError: 'console.log("the cell ran");\nconst n: number = "text";',
  fixed: 'console.log("the cell ran");\nconst n: number = 42;\nn + 1',
  usesFixed: "const m: string = n;",
  sameCellMember: "const xs = [1, 2, 3];\nxs.fla",
  importPrefix: "import { runL",
  importRest: ' } from "vae-workbook";',
  optionsPrefix: 'import { runLedger } from "vae-workbook";\nrunLedger({ ',
  optionsRest: " })",
  tooltip: 'import { runLedger } from "vae-workbook";\nrunLedger',
  throwingGetter: 'const o: any = { get bad(): number { throw new Error("a getter that throws"); } };',
  throughGetter: "o.bad.",
};

describe("the browser kernel is TypeScript: type errors, completion and tooltips from types, in Chromium, next to tslab", function () {
  this.timeout(15 * 60 * 1000);
  let site: LiteSite | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  /** tslab's answers to the same requests, by name. */
  let tslab: Record<
    "typeError" | "fixed" | "fixedAgain" | "usesFixed" | "sameCellMember" | "importNames" | "optionsKeys" | "tooltip" | "throughGetter",
    TslabAnswer
  >;

  before(async function () {
    skipWithoutChromium(this);
    const answers = tslabSession([
      { op: "execute", code: CELLS.typeError },
      { op: "execute", code: CELLS.fixed },
      { op: "execute", code: CELLS.fixed },
      { op: "execute", code: CELLS.usesFixed },
      { op: "complete", code: CELLS.sameCellMember },
      { op: "complete", code: CELLS.importPrefix + CELLS.importRest, cursor: CELLS.importPrefix.length },
      { op: "complete", code: CELLS.optionsPrefix + CELLS.optionsRest, cursor: CELLS.optionsPrefix.length },
      { op: "inspect", code: CELLS.tooltip },
      { op: "execute", code: CELLS.throwingGetter },
      { op: "complete", code: CELLS.throughGetter },
    ]);
    site = await LiteSite.open();
    const [typeError, fixed, fixedAgain, usesFixed, sameCellMember, importNames, optionsKeys, tooltip, , throughGetter] = await answers;
    tslab = { typeError, fixed, fixedAgain, usesFixed, sameCellMember, importNames, optionsKeys, tooltip, throughGetter };
  });

  beforeEach(async () => {
    ({ context, page } = await site!.newReader());
    await openNotebook(page, site!.url, "01-discriminative-vs-generative");
    // A first cell waits for the checker to have loaded, so the requests below time TypeScript, not its download.
    const first = await appendAndRun(page, "const warm: number = 1;\nwarm", 180_000);
    assert.equal(first.text.trim(), "1");
  });

  afterEach(async () => {
    await site?.closeReader(context);
  });

  after(async () => {
    await site?.close();
  });

  /**
   * Presses Tab in code cell `index`; the names the completer then lists, once it lists some
   * or writes the only one into the cell (then none), or after `settle` ms of neither.
   */
  async function tab(index: number, settle = 10_000): Promise<string[]> {
    const before = await cellText(index);
    await page.keyboard.press("Tab");
    const items = page.locator(".jp-Completer .jp-Completer-item");
    await page
      .waitForFunction(
        ([panel, i, text]) => {
          if (document.querySelector(".jp-Completer .jp-Completer-item")) return true;
          const cell = document.querySelectorAll(`${panel} .jp-CodeCell`)[i as number];
          return (
            Array.from(cell.querySelectorAll(".cm-line"))
              .map((l) => l.textContent)
              .join("\n") !== text
          );
        },
        [notebookPanel, index, before] as const,
        { timeout: settle, polling: 100 },
      )
      .catch(() => undefined);
    await waitForIdleKernel(page, 60_000);
    return items.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.value ?? e.textContent ?? ""));
  }

  /** The text of code cell `index` (CodeMirror draws one element per line). */
  const cellText = (index: number) =>
    page.$$eval(
      `${notebookPanel} .jp-CodeCell`,
      (cells, i) =>
        Array.from(cells[i].querySelectorAll(".cm-line"))
          .map((l) => l.textContent)
          .join("\n"),
      index,
    );

  it("a type error shows tslab's `L:C - message` on stderr and the cell does not run; the corrected cell runs", async () => {
    const failed = await appendAndRun(page, CELLS.typeError);
    assert.deepEqual(failed.outputs, ["application/vnd.jupyter.stderr"], `outputs: ${failed.text}`);
    const lines = failed.text.split("\n").filter((l) => l !== "");
    assert.deepEqual(lines, ["2:7 - Type 'string' is not assignable to type 'number'."]);
    assert.deepEqual(lines, stderrLines(tslab.typeError), "tslab prints another message");
    assert.ok(!failed.text.includes("the cell ran"), "the cell ran despite its type error");

    const fixed = await appendAndRun(page, CELLS.fixed);
    assert.ok(!fixed.outputs.some(isErrorOutput), fixed.text);
    assert.deepEqual(
      fixed.text.split("\n").filter((l) => l.trim() !== ""),
      ["the cell ran", "43"],
    );
    assert.equal(tslab.fixed.reply.status, "ok");
    // Run again, it re-declares its `const n` (as under tslab), and later cells see its type.
    await page.locator(`${notebookPanel} .jp-CodeCell .cm-content`).nth(fixed.index).click();
    await page.keyboard.press("Control+Enter");
    await waitForCellsDone(page, 60_000);
    const again = (await readCells(page))[fixed.index];
    assert.ok(!again.outputs.some(isErrorOutput), again.text);
    assert.equal(tslab.fixedAgain.reply.status, "ok");
    const typed = await appendAndRun(page, CELLS.usesFixed);
    assert.deepEqual(
      typed.text.split("\n").filter((l) => l !== ""),
      ["1:7 - Type 'number' is not assignable to type 'string'."],
    );
    assert.deepEqual(stderrLines(tslab.usesFixed), ["1:7 - Type 'number' is not assignable to type 'string'."]);
  });

  it("Tab completes a member of a value declared in the same cell, before it runs", async () => {
    const shown = await tab(await addCell(page, CELLS.sameCellMember), 60_000);
    assert.deepEqual(tslab.sameCellMember.reply.matches, ["flat", "flatMap"]);
    for (const name of tslab.sameCellMember.reply.matches) assert.ok(shown.includes(name), `Tab shows ${JSON.stringify(shown)}, not ${name}`);
  });

  it('Tab completes the names inside `import { … } from "vae-workbook"`', async () => {
    const index = await addCell(page, CELLS.importPrefix + CELLS.importRest);
    for (let i = 0; i < CELLS.importRest.length; i++) await page.keyboard.press("ArrowLeft");
    const shown = await tab(index, 60_000);
    assert.deepEqual(tslab.importNames.reply.matches, ["runLedger"]);
    // One match: JupyterLab writes it in, no list.
    if (shown.length === 0) assert.equal(await cellText(index), 'import { runLedger } from "vae-workbook";');
    else assert.deepEqual(shown, ["runLedger"]);
  });

  it("Tab lists the keys of an options object from its type", async () => {
    const index = await addCell(page, CELLS.optionsPrefix + CELLS.optionsRest);
    for (let i = 0; i < CELLS.optionsRest.length; i++) await page.keyboard.press("ArrowLeft");
    const shown = await tab(index, 60_000);
    const keys = tslab.optionsKeys.reply.matches as string[];
    assert.ok(keys.includes("seed") && keys.includes("tags"), `tslab's keys: ${keys}`);
    for (const key of keys) assert.ok(shown.includes(key), `Tab shows ${JSON.stringify(shown)}, not ${key}`);
  });

  it("Shift-Tab shows the signature and the doc comment, as tslab does", async () => {
    await addCell(page, CELLS.tooltip);
    await page.keyboard.press("Shift+Tab");
    const tooltip = page.locator(".jp-Tooltip");
    await tooltip.waitFor({ timeout: 60_000 });
    // biome-ignore lint/performance/useDomNodeTextContent: the tooltip as the reader sees it (rendered line breaks)
    const text = (await tooltip.innerText()).trim();
    assert.match(text, /^\(alias\) function runLedger\(options\?: LedgerOptions\): LedgerRow\[\]/);
    assert.match(text, /Run a part's ledger/);
    const expected = tslab.tooltip.reply.data["text/plain"] as string;
    assert.equal(text.replace(/\s+/g, " "), expected.replace(/\s+/g, " "), "tslab's tooltip differs");
  });

  it("a completion whose reading throws (a getter) gets an answer: the kernel stays usable", async () => {
    const declared = await appendAndRun(page, CELLS.throwingGetter);
    assert.ok(!declared.outputs.some(isErrorOutput), declared.text);
    const index = await addCell(page, CELLS.throughGetter);
    // `o` is typed any: the names come from the running notebook, whose getter throws.
    // No answer would leave the kernel busy for good (JupyterLite handles one request at a
    // time), and the cell below would never run.
    const shown = await tab(index);
    assert.deepEqual(shown, []);
    assert.deepEqual(tslab.throughGetter.reply.matches, []);
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText("6 * 7");
    await page.keyboard.press("Shift+Enter");
    await waitForCellsDone(page, 60_000);
    const cells = await readCells(page);
    assert.equal(cells[cells.length - 2].text.trim(), "42");
  });

  it("no request left the site, and the page threw nothing", () => {
    assert.deepEqual(site!.blocked, []);
    assert.deepEqual(site!.pageErrors, []);
  });
});
