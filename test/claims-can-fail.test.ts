/**
 * The notebooks' checks can fail: with the exact library deliberately wrong — every
 * analytic Gaussian KL biased by 0.05 nats through the test-only switch VAE_TEST_KL_BIAS
 * (src/exact/test-faults.ts) — a notebook run through the real runner fails, naming the
 * notebook, the cell and the claim. The same notebooks pass unperturbed in
 * test/notebooks.test.ts. The executed copies go to a temporary folder, not build/notebooks/.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describeError, executeNotebook, selectNotebooks } from "../scripts/workbook";

/** The code cell (counted from 1, as the runner reports it) whose source contains `text`, and its id. */
function codeCellWith(notebook: string, text: string): { cell: number; id: string } {
  const code = JSON.parse(fs.readFileSync(notebook, "utf8")).cells.filter((c: { cell_type: string }) => c.cell_type === "code");
  const index = code.findIndex((c: { source: string | string[] }) => [c.source].flat().join("").includes(text));
  assert.ok(index >= 0, `no code cell of ${notebook} contains ${text}`);
  return { cell: index + 1, id: code[index].id };
}

describe("the notebooks' checks fail when the library is wrong (test-only KL bias)", function () {
  this.timeout(5 * 60 * 1000);
  let outDir: string;
  before(() => (outDir = fs.mkdtempSync(path.join(os.tmpdir(), "claims-can-fail-"))));
  after(() => fs.rmSync(outDir, { recursive: true, force: true }));
  const biased = { VAE_TEST_KL_BIAS: "0.05" };

  it("05: a biased analytic KL fails the KL-vs-Monte-Carlo claim, naming the notebook, the cell and the claim", async () => {
    const [notebook] = selectNotebooks(["05"]);
    const name = path.basename(notebook, ".ipynb");
    const result = await executeNotebook(notebook, { html: false, env: biased, outDir });
    assert.equal(result.ok, false, "the run passed although every analytic KL was off by 0.05 nats");
    const expected = codeCellWith(notebook, "klMonteCarlo(q, p");
    assert.deepEqual([result.error?.cell, result.error?.id, result.error?.ename], [expected.cell, expected.id, "ClaimFailedError"]);
    assert.match(result.error!.evalue, /^\(5\.8\) for every q, the analytic KL\(q‖p\(z\)\) agrees with its Monte Carlo estimate does not hold: /);
    const line = describeError(name, result);
    assert.ok(line.startsWith(`  ${name}, code cell ${expected.cell} (id ${expected.id}, `), line);
    assert.match(line, /: ClaimFailedError: \(5\.8\) for every q, the analytic KL/);
    // The reader sees the ✘ row in the executed copy, with the error after it.
    const copy = JSON.parse(fs.readFileSync(result.executed, "utf8"));
    const outputs = copy.cells.filter((c: { cell_type: string }) => c.cell_type === "code")[expected.cell - 1].outputs;
    assert.ok(outputs.some((o: { data?: Record<string, unknown> }) => /<tr class="fail" data-tag="5\.8"/.test([o.data?.["text/html"] ?? ""].flat().join(""))), "no ✘ row shown");
  });

  it("06: the same fault fails (5.10)'s closed-form-vs-grid claims", async () => {
    const [notebook] = selectNotebooks(["06"]);
    const result = await executeNotebook(notebook, { html: false, env: biased, outDir });
    assert.equal(result.ok, false);
    assert.equal(result.error?.cell, codeCellWith(notebook, "gridSides(q1)").cell);
    assert.match(result.error!.evalue, /\(5\.10\) ELBO: the closed form agrees with the grid does not hold/);
    assert.match(result.error!.evalue, /\(5\.10\) KL\(q‖p\(z\|x\)\): the closed form agrees with the grid does not hold/);
  });
});
