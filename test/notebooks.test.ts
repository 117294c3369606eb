/**
 * Every notebook, executed by real Jupyter (nbclient) with the real tslab kernel,
 * exactly as `npm start` runs it: any error output fails the test, naming the cell.
 * Also checks that the runner reports failures instead of hiding them.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { paths, venvPython } from "../scripts/paths";
import { describeError, executeNotebook, listNotebooks } from "../scripts/workbook";
import { executedByTslab } from "./support/executed";

function writeNotebook(dir: string, name: string, cells: string[]): string {
  const file = path.join(dir, name);
  const text = cells.map((c) => `// %%\n${c}`).join("\n");
  fs.writeFileSync(`${file}.txt`, text);
  const made = spawnSync(venvPython(), [path.join(paths.scripts, "nbtool.py"), "from-text", `${file}.txt`, file], { encoding: "utf8" });
  assert.equal(made.status, 0, made.stderr);
  return file;
}

describe("notebooks run under Jupyter with the tslab kernel", function () {
  this.timeout(15 * 60 * 1000);

  for (const notebook of listNotebooks()) {
    const name = path.basename(notebook);
    it(`${name} runs top to bottom with no error output`, async () => {
      const before = fs.readFileSync(notebook, "utf8");
      const result = await executedByTslab(notebook);
      assert.ok(result.ok, result.error ? describeError(name, result) : "failed");
      const executed = JSON.parse(fs.readFileSync(result.executed, "utf8"));
      const codeCells = executed.cells.filter((c: any) => c.cell_type === "code");
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

  it("names the cell and the error of a throwing cell", async () => {
    const nb = writeNotebook(dir, "fails.ipynb", ["const a = 1;", 'throw new Error("boom " + a);', "console.log('never');"]);
    const result = await executeNotebook(nb, { html: false });
    assert.equal(result.ok, false);
    assert.equal(result.error?.cell, 1);
    assert.match(result.error!.evalue, /boom 1/);
  });

  it("reports a TypeScript compile error", async () => {
    const nb = writeNotebook(dir, "typo.ipynb", ['const n: number = "not a number";']);
    const result = await executeNotebook(nb, { html: false });
    assert.equal(result.ok, false);
    assert.equal(result.error?.cell, 0);
  });
});
