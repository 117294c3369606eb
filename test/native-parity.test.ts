/**
 * Native TensorFlow (tfjs-node, built by `npm run setup:native`) against the wasm
 * backend: the same seeded matmul, gradient and tiny-VAE SGD step, each run in its own
 * process with VAE_BACKEND forcing the backend, must agree within float32 tolerance
 * (PARITY_RTOL / PARITY_ATOL, justified in scripts/native-parity-probe.ts); on the native
 * side, the trainer's graph step must agree with its eager step (GRAPH_EAGER_RTOL).
 * Skips when tfjs-node does not load here, so `npm test` never fails for want of it.
 */
import { strict as assert } from "node:assert";
import { compareProbes, type ParityRow, type ProbeResult, runProbe } from "../scripts/native-parity-probe";

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

  it("on tfjs-node, three graph steps agree with three eager steps: losses, every weight and Adam slot", () => {
    const graph = native.graph;
    assert.ok(graph && "rows" in graph, `no graph step: ${graph && "unavailable" in graph ? graph.unavailable : "not tried"}`);
    assert.equal(graph.rows.length, 1 + 10 + 21, "the losses, 10 weights (5 layers), Adam's step count and 10 + 10 moments");
    assert.deepEqual(
      graph.rows.filter((r) => !r.ok).map((r) => `${r.name}: max|Δ| ${r.maxAbsDiff.toExponential(2)} > ${r.bound.toExponential(2)}`),
      [],
    );
  });

  it("the step lowers the negative ELBO on both backends", () => {
    for (const side of [native, wasm]) {
      assert.ok(side.values.vaeLossAfter[0] < side.values.vaeLossBefore[0], `${side.backend}: ${side.values.vaeLossBefore} → ${side.values.vaeLossAfter}`);
    }
  });
});
