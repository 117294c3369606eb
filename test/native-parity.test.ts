/**
 * Native TensorFlow (tfjs-node, built by `npm run setup:native`) against the wasm
 * backend: the same seeded matmul, gradient and tiny-VAE SGD step, each run in its own
 * process with VAE_BACKEND forcing the backend, must agree within float32 tolerance
 * (PARITY_RTOL / PARITY_ATOL, justified in scripts/native-parity-probe.ts).
 * Skips when tfjs-node does not load here, so `npm test` never fails for want of it.
 */
import { strict as assert } from "node:assert";
import { compareProbes, ParityRow, ProbeResult, runProbe } from "../scripts/native-parity-probe";

describe("native TensorFlow backend parity with wasm", function () {
  this.timeout(180_000);
  let native: ProbeResult;
  let wasm: ProbeResult;
  let rows: ParityRow[];

  before(function () {
    const n = runProbe("tensorflow");
    if (!n.result) {
      console.log(`      (skipped: tfjs-node does not load here — ${n.reason}; \`npm run setup:native\` builds it)`);
      this.skip();
    }
    native = n.result;
    const w = runProbe("wasm");
    assert.ok(w.result, `the wasm backend must load: ${w.reason}`);
    wasm = w.result;
    rows = compareProbes(native.values, wasm.values);
  });

  const check = (select: (name: string) => boolean) => {
    const picked = rows.filter((r) => select(r.name));
    assert.ok(picked.length > 0, "no results selected");
    const bad = picked.filter((r) => !r.ok);
    assert.deepEqual(
      bad.map((r) => `${r.name}: max|Δ| ${r.maxAbsDiff.toExponential(2)} > ${r.bound.toExponential(2)}`),
      [],
    );
  };

  it("each side ran on the backend it was asked for", () => {
    assert.equal(native.backend, "tensorflow");
    assert.equal(wasm.backend, "wasm");
  });

  it("a 64×48 by 48×32 matrix product agrees", () => check((n) => n === "matmul"));

  it("a gradient through tanh and a reduction agrees", () => check((n) => n.startsWith("grad")));

  it("one SGD step of a tiny dense VAE agrees: loss before, loss after, every parameter", () => {
    check((n) => n.startsWith("vae"));
    assert.equal(rows.filter((r) => r.name.startsWith("vae.")).length, 10);
  });

  it("the step lowers the negative ELBO on both backends", () => {
    for (const side of [native, wasm]) {
      assert.ok(side.values.vaeLossAfter[0] < side.values.vaeLossBefore[0], `${side.backend}: ${side.values.vaeLossBefore} → ${side.values.vaeLossAfter}`);
    }
  });
});
