/**
 * Every notebook, executed by real Jupyter (nbclient) with the real tslab kernel,
 * exactly as `npm start` runs it: any error output or failing checked claim fails the
 * test, naming the cell. Also checks that the runner reports failures instead of hiding them.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { paths } from "../scripts/paths";
import { describeError, executeNotebook, listNotebooks, liteStep, outDirs, verdict } from "../scripts/workbook";
import { executedByTslab } from "./support/executed";

/** The parts of an nbformat cell and output these tests read. */
interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  evalue?: string;
}
interface NotebookCell {
  cell_type: string;
  id: string;
  execution_count: number | null;
  metadata: { tags?: string[] };
  outputs: NotebookOutput[];
}

/** A clean notebook of code cells, as nbformat writes one (ids cell-0, cell-1, …). */
function writeNotebook(dir: string, name: string, cells: string[]): string {
  const file = path.join(dir, name);
  const code = cells.map((source, i) => ({ cell_type: "code", id: `cell-${i}`, metadata: {}, execution_count: null, outputs: [], source }));
  const kernelspec = { display_name: "TypeScript", language: "typescript", name: "tslab" };
  fs.writeFileSync(file, JSON.stringify({ cells: code, metadata: { kernelspec }, nbformat: 4, nbformat_minor: 5 }, null, 1));
  return file;
}

describe("notebooks run under Jupyter with the tslab kernel", function () {
  this.timeout(15 * 60 * 1000);

  for (const notebook of listNotebooks()) {
    const name = path.basename(notebook);
    it(`${name} runs top to bottom with no error output and no failing claim`, async () => {
      const before = fs.readFileSync(notebook, "utf8");
      const result = await executedByTslab(notebook);
      assert.ok(result.ok, result.error ? describeError(name, result) : "failed");
      const executed = JSON.parse(fs.readFileSync(result.executed, "utf8"));
      const codeCells = executed.cells.filter((c: NotebookCell) => c.cell_type === "code");
      for (const [i, cell] of codeCells.entries()) {
        assert.ok(cell.execution_count !== null, `code cell ${i} was not executed`);
        for (const output of cell.outputs) assert.notEqual(output.output_type, "error", `code cell ${i}: ${output.evalue}`);
      }
      assert.ok(result.html && fs.statSync(result.html).size > 0, "no HTML page");
      assert.equal(fs.readFileSync(notebook, "utf8"), before, "the source notebook was modified");
    });
  }
});

describe("the runner reports failures", function () {
  this.timeout(120 * 1000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "workbook-runner-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The cell id of code cell `n` (from 1) of `file`. */
  const idOf = (file: string, n: number) => (JSON.parse(fs.readFileSync(file, "utf8")).cells as NotebookCell[]).filter((c) => c.cell_type === "code")[n - 1].id;

  it("names the cell and the error of a throwing cell, counting code cells from 1, with its id", async () => {
    const nb = writeNotebook(dir, "fails.ipynb", ["const a = 1;", 'throw new Error("boom " + a);', "console.log('never');"]);
    const result = await executeNotebook(nb, { html: false });
    assert.equal(result.ok, false);
    assert.equal(result.error?.cell, 2);
    assert.equal(result.error?.id, idOf(nb, 2));
    assert.match(result.error!.evalue, /boom 1/);
    assert.equal(describeError("fails", result), `  fails, code cell 2 (id ${idOf(nb, 2)}, "throw new Error(\\"boom \\" + a);"): Error: boom 1`);
  });

  it("reports a TypeScript compile error", async () => {
    const nb = writeNotebook(dir, "typo.ipynb", ['const n: number = "not a number";']);
    const result = await executeNotebook(nb, { html: false });
    assert.equal(result.ok, false);
    assert.equal(result.error?.cell, 1);
    assert.equal(result.error?.ename, "TypeScript compile error");
  });

  it("fails a notebook whose cell throws later from a timer", async () => {
    const nb = writeNotebook(dir, "late.ipynb", [
      "const a = 1;",
      'setTimeout(() => { throw new Error("late"); }, 10);\nawait new Promise((r) => setTimeout(r, 200));',
      "console.log('after');",
    ]);
    const result = await executeNotebook(nb, { html: false });
    assert.equal(result.ok, false, "a late exception passed as ok");
    assert.deepEqual([result.error?.cell, result.error?.id, result.error?.ename, result.error?.evalue], [2, idOf(nb, 2), "UncaughtException", "Error: late"]);
    // Due after its cell has finished (nbclient skips what a finished cell prints): read
    // from the kernel's messages, attributed to that cell, and kept in the executed copy.
    const after = writeNotebook(dir, "after.ipynb", ['setTimeout(() => { throw new Error("after the cell"); }, 0);', "const b = 2;"]);
    const r1 = await executeNotebook(after, { html: false });
    assert.deepEqual([r1.ok, r1.error?.cell, r1.error?.ename, r1.error?.evalue], [false, 1, "UncaughtException", "Error: after the cell"]);
    const copy = JSON.parse(fs.readFileSync(r1.executed, "utf8"));
    assert.ok(
      copy.cells[0].outputs.some((o: NotebookOutput) => o.name === "stderr" && /UncaughtException: Error: after the cell/.test([o.text].flat().join(""))),
    );
    assert.equal(copy.cells.length, 2, "the runner's settling cell is not in the executed copy");
    const last = writeNotebook(dir, "last.ipynb", ["const a = 1;", 'setTimeout(() => { throw new Error("after the last cell"); }, 0);']);
    const r3 = await executeNotebook(last, { html: false });
    assert.deepEqual([r3.ok, r3.error?.cell, r3.error?.ename], [false, 2, "UncaughtException"]);
    assert.match(r3.error!.evalue, /^Error: after the last cell/);
    // A rejected promise nobody awaited is reported the same way.
    const rejected = writeNotebook(dir, "rejected.ipynb", ['Promise.reject(new Error("nobody waits"));\nawait new Promise((r) => setTimeout(r, 200));']);
    const r2 = await executeNotebook(rejected, { html: false });
    assert.deepEqual([r2.ok, r2.error?.cell, r2.error?.ename], [false, 1, "UnhandledPromiseRejection"]);
    assert.match(r2.error!.evalue, /nobody waits/);
  });

  it("names the cell that was running when the kernel died, with the kernel's last words", async () => {
    // Its last words go straight to file descriptor 2, as V8's "FATAL ERROR: ... out of memory" does.
    const nb = writeNotebook(dir, "dies.ipynb", [
      "const a = 1;",
      'require("fs").writeSync(2, "FATAL ERROR: out of luck\\n");\nprocess.kill(process.pid, "SIGKILL");',
      "console.log(2);",
    ]);
    const result = await executeNotebook(nb, { html: false });
    assert.equal(result.ok, false);
    assert.deepEqual([result.error?.cell, result.error?.id, result.error?.ename], [2, idOf(nb, 2), "DeadKernelError"]);
    assert.equal(result.error?.evalue, "the kernel died while this cell ran (it said: FATAL ERROR: out of luck)");
  });

  it("fails a notebook whose checked claim fails, naming the cell and the claim; opting out in a cell does not hide it", async () => {
    // Under the project, so the kernel resolves the library by its package name.
    const here = fs.mkdtempSync(path.join(paths.build, "runner-claims-"));
    try {
      const claim = 'show.ledger([checkClose("two sides agree", { tag: "9.9", lhs: 1, rhs: 1.5, within: 0.1, why: "stated", method: "a test" })]);';
      const strict = writeNotebook(here, "claim.ipynb", [
        'import { checkClose, setStrictChecks, show } from "vae-workbook/exact";',
        claim,
        "console.log('never');",
      ]);
      const r1 = await executeNotebook(strict, { html: false });
      assert.deepEqual([r1.ok, r1.error?.cell, r1.error?.id, r1.error?.ename], [false, 2, idOf(strict, 2), "ClaimFailedError"]);
      assert.equal(r1.error?.evalue, "(9.9) two sides agree does not hold: lhs 1, rhs 1.5, residual 0.5; tolerance: |Δ| ≤ 0.1 (stated)");
      assert.match(
        describeError("claim", r1),
        /^ {2}claim, code cell 2 \(id [\w-]+, "show\.ledger\(\[checkClose\(\\"two sides agree\\".*\): ClaimFailedError: \(9\.9\) two sides agree does not hold/,
      );
      const copy = JSON.parse(fs.readFileSync(r1.executed, "utf8"));
      assert.equal(copy.cells[2].execution_count, null, "the run stopped at the failing claim");
      // A reader's opt-out, left in a notebook: its ✘ row still fails the run, and the cells after it ran.
      const optedOut = writeNotebook(here, "opted-out.ipynb", [
        'import { checkClose, setStrictChecks, show } from "vae-workbook/exact";\nsetStrictChecks(false);',
        claim,
        "console.log('after');",
      ]);
      const r2 = await executeNotebook(optedOut, { html: false });
      assert.deepEqual(
        [r2.ok, r2.error?.cell, r2.error?.ename, r2.error?.evalue],
        [false, 2, "ClaimFailedError", "(9.9) two sides agree does not hold (shown as ✘ FAIL)"],
      );
      assert.notEqual(JSON.parse(fs.readFileSync(r2.executed, "utf8")).cells[2].execution_count, null);
    } finally {
      fs.rmSync(here, { recursive: true, force: true });
    }
  });

  it("counts the checked rows a notebook showed, and prints them with its verdict", async () => {
    const here = fs.mkdtempSync(path.join(paths.build, "runner-rows-"));
    try {
      const rows =
        'show.ledger([checkClose("one", { tag: "9.1", lhs: 1, rhs: 1, within: 0.1, why: "stated", method: "a test" }), checkClose("two", { tag: "9.2", lhs: 2, rhs: 2, within: 0.1, why: "stated", method: "a test" })]);';
      const nb = writeNotebook(here, "rows.ipynb", [
        'import { checkClose, show } from "vae-workbook/exact";',
        rows,
        rows.replace(/"(one|two)"/g, '"$1 again"'),
      ]);
      const result = await executeNotebook(nb, { html: false });
      assert.ok(result.ok, result.error ? describeError("rows", result) : "failed");
      assert.deepEqual(result.rows, { pass: 4, fail: 0 });
      assert.equal(verdict(result), "ok · 4 rows ✔");
    } finally {
      fs.rmSync(here, { recursive: true, force: true });
    }
  });

  it("a failed notebook does not replace its last good page and blog post", async () => {
    const name = `keeps-its-page-${process.pid}`;
    const page = path.join(outDirs.html, `${name}.html`);
    const post = path.join(outDirs.blog, `${name}.md`);
    fs.mkdirSync(outDirs.html, { recursive: true });
    fs.mkdirSync(outDirs.blog, { recursive: true });
    fs.writeFileSync(page, "the last good page");
    fs.writeFileSync(post, "the last good post");
    try {
      const good = writeNotebook(dir, `${name}.ipynb`, ["console.log(1);"]);
      const result = await executeNotebook(good);
      assert.ok(result.ok && result.html === page, "a notebook that runs replaces its page");
      assert.notEqual(fs.readFileSync(page, "utf8"), "the last good page");
      fs.writeFileSync(page, "the last good page");
      fs.writeFileSync(post, "the last good post");
      writeNotebook(dir, `${name}.ipynb`, ['throw new Error("broken");']);
      const failed = await executeNotebook(good);
      assert.deepEqual([failed.ok, failed.html, failed.error?.evalue], [false, null, "broken"]);
      assert.equal(fs.readFileSync(page, "utf8"), "the last good page");
      assert.equal(fs.readFileSync(post, "utf8"), "the last good post");
      assert.ok(fs.existsSync(failed.executed), "the executed copy, with its error, is still written");
    } finally {
      fs.rmSync(page, { force: true });
      fs.rmSync(post, { force: true });
    }
  });

  it("fails a notebook with a checked row that was built but never shown, naming it", async () => {
    const here = fs.mkdtempSync(path.join(paths.build, "runner-unshown-"));
    try {
      const nb = writeNotebook(here, "unshown.ipynb", [
        'import { checkAtMost, checkClose, show } from "vae-workbook/exact";',
        'show.ledger([checkClose("shown", { tag: "9.1", lhs: 1, rhs: 1, within: 0, why: "exact", method: "a test" })]);',
        'const forgotten = checkAtMost("never shown", { tag: "9.2", lhs: 2, rhs: 1, method: "a test" });',
      ]);
      const result = await executeNotebook(nb, { html: false });
      assert.deepEqual([result.ok, result.error?.cell, result.error?.ename], [false, null, "UnshownCheckError"]);
      assert.equal(result.error?.evalue, "checked but never shown with show.ledger: (9.2) never shown (fails)");
      assert.match(describeError("unshown", result), /^ {2}unshown: UnshownCheckError: checked but never shown/);
    } finally {
      fs.rmSync(here, { recursive: true, force: true });
    }
  });

  it("fails a notebook in which a code cell did not run, naming the cell", async () => {
    const nb = writeNotebook(dir, "skipped.ipynb", ["const a = 1;", "console.log(a);"]);
    const withTag = JSON.parse(fs.readFileSync(nb, "utf8"));
    withTag.cells.filter((c: NotebookCell) => c.cell_type === "code")[1].metadata.tags = ["skip-execution"];
    fs.writeFileSync(nb, JSON.stringify(withTag));
    const result = await executeNotebook(nb, { html: false });
    assert.deepEqual([result.ok, result.error?.cell, result.error?.id, result.error?.ename], [false, 2, idOf(nb, 2), "CellNotRunError"]);
    assert.equal(result.error?.evalue, "this code cell did not run (it is tagged skip-execution)");
  });

  it("names a file that is not a notebook in one line, without a traceback", async () => {
    const corrupt = path.join(dir, "corrupt.ipynb");
    fs.writeFileSync(corrupt, '{"cells": [\n');
    const result = await executeNotebook(corrupt, { html: false });
    assert.equal(result.ok, false);
    assert.equal(
      describeError("corrupt", result),
      `  corrupt: NotebookReadError: ${corrupt} is not a notebook: not valid JSON (Expecting value at line 2, column 1)`,
    );
    const empty = path.join(dir, "empty.ipynb");
    fs.writeFileSync(empty, "");
    assert.equal((await executeNotebook(empty, { html: false })).error?.evalue, `${empty} is not a notebook: not valid JSON (the file is empty)`);
    const notNotebook = path.join(dir, "list.ipynb");
    fs.writeFileSync(notNotebook, "[1, 2]");
    assert.match((await executeNotebook(notNotebook, { html: false })).error!.evalue, new RegExp(`^${notNotebook} is not a valid notebook: .+$`));
  });
});

describe("the runner and the browser edition", () => {
  it("rebuilds it after a whole run when it is out of date, or when asked; never after a failure", () => {
    const step = (asked: boolean | undefined, allNotebooks: boolean, current: boolean, failed: boolean) => liteStep({ asked, allNotebooks, current, failed });
    assert.equal(step(undefined, true, false, false), "build");
    assert.equal(step(undefined, true, true, false), "none", "an up-to-date site is not rebuilt");
    assert.equal(step(undefined, false, false, false), "stale", "a run of named notebooks only says the site is out of date");
    assert.equal(step(undefined, false, true, false), "none");
    assert.equal(step(true, false, true, false), "build", "--lite rebuilds it whatever its date");
    assert.equal(step(false, true, false, false), "none", "--no-lite leaves it");
    assert.equal(step(undefined, true, false, true), "keep", "a failed notebook does not replace the site's good copy");
    assert.equal(step(true, false, true, true), "keep");
  });
});
