/**
 * The notebooks' checks can fail: with the exact library deliberately wrong — every
 * analytic Gaussian KL biased by 0.05 nats by a fault module preloaded into the kernel
 * (test/support/faults/kl-bias.js, through NODE_OPTIONS; the library itself has no such
 * switch) — a notebook run through the real runner fails, naming the notebook, the cell and
 * the claim. The same notebooks pass unperturbed in test/notebooks.test.ts. The executed
 * copies go to a temporary folder, not build/notebooks/.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { paths } from "../scripts/paths";
import { describeError, executeNotebook, selectNotebooks } from "../scripts/workbook";

const FAULT = path.join(__dirname, "support", "faults", "kl-bias.js");
const biased = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require=${FAULT}`.trim(), VAE_TEST_KL_BIAS: "0.05" };

/** The code cell (counted from 1, as the runner reports it) whose source contains `text`, and its id. */
function codeCellWith(notebook: string, text: string): { cell: number; id: string } {
  const code = JSON.parse(fs.readFileSync(notebook, "utf8")).cells.filter((c: { cell_type: string }) => c.cell_type === "code");
  const index = code.findIndex((c: { source: string | string[] }) => [c.source].flat().join("").includes(text));
  assert.ok(index >= 0, `no code cell of ${notebook} contains ${text}`);
  return { cell: index + 1, id: code[index].id };
}

describe("the notebooks' checks fail when the library is wrong (a KL bias preloaded into the kernel)", function () {
  this.timeout(5 * 60 * 1000);
  let outDir: string;
  before(() => (outDir = fs.mkdtempSync(path.join(os.tmpdir(), "claims-can-fail-"))));
  after(() => fs.rmSync(outDir, { recursive: true, force: true }));

  it("the fault module biases the compiled library's analytic KL, and what is built on it, by the stated nats", () => {
    const script = `
      const { MvNormal64, klMvNormal, LinearGaussian } = require(${JSON.stringify(path.join(paths.root, "dist", "exact-entry.js"))});
      const q = MvNormal64.diag([0.3, -0.2], [0.5, 1.4]);
      const model = LinearGaussian.random(0, { latentDim: 2, dataDim: 3 });
      console.log(JSON.stringify([klMvNormal(q, MvNormal64.standard(2)), model.klToPrior(q), model.elbo([0.1, 0.2, 0.3], q)]));`;
    const run = (env: Record<string, string>) =>
      JSON.parse(
        execFileSync(process.execPath, ["-e", script], { env: { ...process.env, ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }),
      ) as number[];
    const clean = run({});
    const faulty = run(biased);
    assert.ok(Math.abs(faulty[0] - clean[0] - 0.05) < 1e-12 && Math.abs(faulty[1] - clean[1] - 0.05) < 1e-12, `${faulty} vs ${clean}`);
    assert.ok(Math.abs(faulty[2] - (clean[2] - 0.05)) < 1e-12, "the closed-form ELBO subtracts the biased KL");
    assert.throws(() => run({ ...biased, VAE_TEST_KL_BIAS: "much" }), /VAE_TEST_KL_BIAS must be a number of nats/);
  });

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
    // The reader sees the ✘ row in the executed copy, with the error after it; the row travels in the output's metadata.
    const copy = JSON.parse(fs.readFileSync(result.executed, "utf8"));
    const outputs: { metadata?: Record<string, unknown> }[] = copy.cells.filter((c: { cell_type: string }) => c.cell_type === "code")[expected.cell - 1]
      .outputs;
    const rows = outputs.flatMap((o) => (o.metadata?.["vae-workbook/checks"] as { tag: string; title: string; pass: boolean }[] | undefined) ?? []);
    assert.ok(
      rows.some((r) => r.tag === "5.8" && !r.pass && /analytic KL/.test(r.title)),
      "no ✘ row shown",
    );
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
