/**
 * The seeded computations that must agree between native TensorFlow (tfjs-node) and
 * the WebAssembly backend: a matrix product, a gradient, and one training step of a
 * tiny dense VAE. `npm run setup:native` and test/native-parity.test.ts run this file
 * once per backend, each in its own process (a process can hold only one backend
 * choice), and compare the printed numbers with `compareProbes`. On tfjs-node the probe
 * also sets three of the trainer's graph steps (one TensorFlow graph per step) against
 * three eager steps, in the same process (`graph`).
 *
 *   VAE_BACKEND=tensorflow tsx scripts/native-parity-probe.ts          → JSON on stdout
 *   VAE_BACKEND=wasm tsx scripts/native-parity-probe.ts --bench 2      → adds examples/s
 *
 * Exit code 3 means the requested backend did not load (so callers can skip, not fail).
 * All inputs and initial weights come from the float64 Rng and are rounded to float32
 * once, so both backends start from bit-identical tensors.
 */
import * as path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";
import { Rng } from "../src/random";
import { run } from "./proc";

export type ProbeBackend = "tensorflow" | "wasm";

/** Named float32 results, flattened. */
export type ProbeValues = Record<string, number[]>;

export interface ProbeResult {
  backend: string;
  values: ProbeValues;
  /** On tfjs-node: graph steps against eager steps, or why there is no graph step here. */
  graph?: { rows: ParityRow[] } | { unavailable: string };
  /** Training throughput of a VAE-sized dense network, when asked for with --bench. */
  bench?: { examplesPerSecond: number; steps: number; batch: number; seconds: number };
}

export const UNAVAILABLE_EXIT = 3;

/**
 * Float32 tolerance for comparing two backends. Both sum the same float32 products in
 * different orders (TensorFlow's Eigen/oneDNN kernels vs XNNPACK in wasm, with or
 * without fused multiply-add), so each result may differ by a few units of
 * float32 rounding (2^-24 ≈ 6e-8) times the number of terms, relative to the sum of
 * magnitudes. The largest reduction here has 48 terms and passes through a handful of
 * layers, so 48 · 6e-8 ≈ 3e-6 per operation, a few operations deep: a normwise bound
 * of 1e-4 of the result's largest magnitude is generous for rounding yet orders of
 * magnitude below any real bug (a wrong kernel, a transposed weight, a dropped term
 * moves results by 1e-2 or more of that scale).
 */
export const PARITY_RTOL = 1e-4;
/** Absolute floor for quantities whose scale is itself near zero. */
export const PARITY_ATOL = 1e-6;

function float32Matrix(rng: Rng, rows: number, cols: number, scale = 1): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = scale * rng.normal();
  return out;
}

/** Runs the parity computations on whichever backend tf currently uses. */
export function computeProbe(tf: typeof tfTypes, seed = 20240611): ProbeValues {
  const rng = new Rng(seed);
  const values: ProbeValues = {};
  const put = (name: string, t: tfTypes.Tensor) => {
    values[name] = Array.from(t.dataSync());
  };

  tf.tidy(() => {
    // 1. A matrix product: 64×48 times 48×32.
    const a = tf.tensor2d(float32Matrix(rng.fork("a"), 64, 48), [64, 48]);
    const b = tf.tensor2d(float32Matrix(rng.fork("b"), 48, 32), [48, 32]);
    put("matmul", tf.matMul(a, b));

    // 2. A gradient: d/dW, d/db of mean_n Σ_j tanh(x_n W + b)_j² — reductions, a
    //    nonlinearity and a transposed product in the backward pass.
    const x = tf.tensor2d(float32Matrix(rng.fork("x"), 16, 48), [16, 48]);
    const w = tf.tensor2d(float32Matrix(rng.fork("w"), 48, 8, 0.2), [48, 8]);
    const bias = tf.tensor1d(float32Matrix(rng.fork("bias"), 1, 8, 0.1));
    const loss = (wv: tfTypes.Tensor, bv: tfTypes.Tensor) =>
      tf
        .tanh(tf.add(tf.matMul(x, wv as tfTypes.Tensor2D), bv))
        .square()
        .sum(1)
        .mean();
    const [dw, db] = tf.grads(loss)([w, bias]);
    put("gradLoss", loss(w, bias).reshape([1]));
    put("gradW", dw);
    put("gradB", db);
  });

  // 3. One SGD step of a tiny dense VAE (20 → 12 → 2×3 → 12 → 20, Bernoulli decoder),
  //    with the reparameterisation noise ε fixed in advance.
  const dims = { x: 20, h: 12, z: 3, batch: 16 };
  const init = rng.fork("vae");
  const shapes: Record<string, number[]> = {
    encW: [dims.x, dims.h],
    encB: [dims.h],
    muW: [dims.h, dims.z],
    muB: [dims.z],
    lvW: [dims.h, dims.z],
    lvB: [dims.z],
    decW: [dims.z, dims.h],
    decB: [dims.h],
    outW: [dims.h, dims.x],
    outB: [dims.x],
  };
  const vars: Record<string, tfTypes.Variable> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const size = shape.reduce((p, q) => p * q, 1);
    const fanIn = shape.length === 2 ? shape[0] : 10;
    vars[name] = tf.variable(tf.tensor(float32Matrix(init.fork(name), 1, size, 1 / Math.sqrt(fanIn)), shape), true, `probe_${name}`);
  }
  const data = init.fork("data");
  const xs = tf.tensor2d(
    Float32Array.from({ length: dims.batch * dims.x }, () => data.uniform()),
    [dims.batch, dims.x],
  );
  const eps = tf.tensor2d(float32Matrix(init.fork("eps"), dims.batch, dims.z), [dims.batch, dims.z]);
  const negElbo = () =>
    tf.tidy(() => {
      const v = vars;
      const h = tf.tanh(tf.add(tf.matMul(xs, v.encW as tfTypes.Tensor2D), v.encB));
      const mu = tf.add(tf.matMul(h, v.muW as tfTypes.Tensor2D), v.muB);
      const logVar = tf.add(tf.matMul(h, v.lvW as tfTypes.Tensor2D), v.lvB);
      const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as tfTypes.Tensor2D;
      const hd = tf.tanh(tf.add(tf.matMul(z, v.decW as tfTypes.Tensor2D), v.decB)) as tfTypes.Tensor2D;
      const logits = tf.add(tf.matMul(hd, v.outW as tfTypes.Tensor2D), v.outB);
      // −log p(x|z) for a Bernoulli mean: softplus(l) − x·l, summed over pixels.
      const recon = tf.sub(tf.softplus(logits), tf.mul(xs, logits)).sum(1);
      // KL(N(μ, σ²) ‖ N(0, 1)) = ½ Σ (μ² + σ² − 1 − log σ²).
      const kl = tf.mul(tf.sub(tf.add(mu.square(), tf.exp(logVar)), tf.add(logVar, 1)).sum(1), 0.5);
      return tf.add(recon, kl).mean() as tfTypes.Scalar;
    });
  const optimizer = tf.train.sgd(0.05);
  const before = optimizer.minimize(negElbo, true, Object.values(vars));
  if (!before) throw new Error("optimizer.minimize returned no loss");
  values.vaeLossBefore = [before.dataSync()[0]];
  before.dispose();
  const after = negElbo();
  values.vaeLossAfter = [after.dataSync()[0]];
  after.dispose();
  for (const [name, variable] of Object.entries(vars)) put(`vae.${name}`, variable);
  optimizer.dispose();
  tf.dispose([xs, eps, ...Object.values(vars)]);
  return values;
}

/**
 * Examples per second of Adam training on a VAE-sized dense network
 * (784 → 256 → 2×16 → 256 → 784, batch 100), measured after two warm-up steps.
 */
export async function benchTraining(tf: typeof tfTypes, seconds: number): Promise<NonNullable<ProbeResult["bench"]>> {
  const batch = 100;
  const rng = new Rng("bench");
  const layer = (i: number, o: number, label: string) => ({
    w: tf.variable(tf.tensor2d(float32Matrix(rng.fork(label), i, o, 1 / Math.sqrt(i)), [i, o])),
    b: tf.variable(tf.zeros([o])),
  });
  const enc = layer(784, 256, "enc"),
    mu = layer(256, 16, "mu"),
    lv = layer(256, 16, "lv");
  const dec = layer(16, 256, "dec"),
    out = layer(256, 784, "out");
  const params = [enc, mu, lv, dec, out].flatMap((l) => [l.w, l.b]);
  const dense = (x: tfTypes.Tensor2D, l: { w: tfTypes.Variable; b: tfTypes.Variable }) =>
    tf.add(tf.matMul(x, l.w as tfTypes.Tensor2D), l.b) as tfTypes.Tensor2D;
  const xs = tf.tensor2d(
    Float32Array.from({ length: batch * 784 }, () => rng.uniform()),
    [batch, 784],
  );
  const optimizer = tf.train.adam(1e-3);
  const step = () => {
    const loss = optimizer.minimize(
      () => {
        const h = tf.relu(dense(xs, enc));
        const m = dense(h, mu),
          logVar = dense(h, lv);
        const z = tf.add(m, tf.mul(tf.exp(tf.mul(logVar, 0.5)), tf.randomNormal([batch, 16], 0, 1, "float32", 7))) as tfTypes.Tensor2D;
        const logits = dense(tf.relu(dense(z, dec)), out);
        const recon = tf.sub(tf.softplus(logits), tf.mul(xs, logits)).sum(1);
        const kl = tf.mul(tf.sub(tf.add(m.square(), tf.exp(logVar)), tf.add(logVar, 1)).sum(1), 0.5);
        return tf.add(recon, kl).mean() as tfTypes.Scalar;
      },
      true,
      params,
    );
    loss?.dataSync(); // wait for the step to finish
    loss?.dispose();
  };
  step();
  step();
  let steps = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    step();
    steps++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  optimizer.dispose();
  tf.dispose([xs, ...params]);
  return { examplesPerSecond: (steps * batch) / elapsed, steps, batch, seconds: elapsed };
}

/**
 * Three steps of the trainer's graph step against three eager steps (trainStep) of a
 * small VAE from the same weights, batches (two sizes) and seeds: the losses, every
 * weight and every Adam slot, within GRAPH_EAGER_RTOL (src/fast/graph-step.ts).
 */
export async function graphStepParity(): Promise<NonNullable<ProbeResult["graph"]>> {
  const tf = await import("@tensorflow/tfjs");
  const { GRAPH_EAGER_RTOL, graphStepSetting } = await import("../src/fast/graph-step");
  const { Vae } = await import("../src/vae/model");
  const { createAdam } = await import("../src/vae/adam");
  const { openTrainingStep, trainStep } = await import("../src/vae/steps");
  const setting = graphStepSetting();
  if (!setting.use) return { unavailable: setting.why ?? "not on tfjs-node" };
  const config = { inputDim: 20, hidden: [12], latentDim: 3 };
  const batches = [16, 10, 16];
  const data = new Rng("graph-parity");
  const images = Float32Array.from({ length: 16 * 20 }, () => (data.uniform() < 0.4 ? 1 : 0));
  const sides = [0, 1].map(() => ({ model: new Vae(config, 7), optimizer: createAdam(1e-2), values: { loss: [] as number[] } as ProbeValues }));
  const [graph, eager] = sides;
  const step = await openTrainingStep(graph.model, graph.optimizer, [16, 10]);
  try {
    if (step.kind !== "graph") throw new Error("the graph step could not be built (see the line above)");
    for (const [k, rows] of batches.entries()) {
      const batch = images.subarray(0, rows * 20);
      graph.values.loss.push(await step.run(batch, rows, 11 + k));
      const x = tf.tensor2d(batch, [rows, 20]);
      eager.values.loss.push(await trainStep(eager.model, eager.optimizer, x, 11 + k));
      x.dispose();
    }
    await step.sync();
    for (const side of sides) {
      const names = side.model.weightNames();
      side.model.variables().forEach((v, i) => {
        side.values[`weight.${names[i]}`] = Array.from(v.dataSync());
      });
      (await side.optimizer.getWeights()).forEach((w, i) => {
        side.values[`adam.slot${i}`] = Array.from(w.tensor.dataSync());
      });
    }
    return { rows: compareProbes(graph.values, eager.values, GRAPH_EAGER_RTOL, 0) };
  } finally {
    step.dispose();
    for (const side of sides) {
      side.model.dispose();
      side.optimizer.dispose();
    }
  }
}

export interface ParityRow {
  name: string;
  size: number;
  maxAbsDiff: number;
  scale: number;
  bound: number;
  ok: boolean;
}

/** Compares two probes entry by entry: max |a − b| ≤ rtol · max |b| + atol. */
export function compareProbes(a: ProbeValues, b: ProbeValues, rtol = PARITY_RTOL, atol = PARITY_ATOL): ParityRow[] {
  const names = Object.keys(b);
  const missing = names.filter((n) => !(n in a)).concat(Object.keys(a).filter((n) => !(n in b)));
  if (missing.length) throw new Error(`probes disagree on which results exist: ${missing.join(", ")}`);
  return names.map((name) => {
    const x = a[name],
      y = b[name];
    if (x.length !== y.length) throw new Error(`${name}: ${x.length} values vs ${y.length}`);
    let maxAbsDiff = 0,
      scale = 0;
    for (let i = 0; i < y.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      // NaN on either side must fail, so compare with `!(d <= …)` semantics below.
      maxAbsDiff = Number.isNaN(d) ? NaN : Math.max(maxAbsDiff, d);
      scale = Math.max(scale, Math.abs(y[i]));
    }
    const bound = rtol * scale + atol;
    return { name, size: y.length, maxAbsDiff, scale, bound, ok: maxAbsDiff <= bound };
  });
}

/** The project root (this file lives in scripts/). */
export const projectRoot = path.resolve(__dirname, "..");

/**
 * Runs this file in a child process with VAE_BACKEND=`backend`. Returns null when the
 * backend does not load there (exit code 3), with the reason in `reason`.
 */
export function runProbe(backend: ProbeBackend, options: { benchSeconds?: number; timeoutMs?: number } = {}): { result: ProbeResult | null; reason: string } {
  const tsxCli = require.resolve("tsx/cli", { paths: [projectRoot] });
  const argv = [tsxCli, path.join(projectRoot, "scripts", "native-parity-probe.ts")];
  if (options.benchSeconds) argv.push("--bench", String(options.benchSeconds));
  const child = run(process.execPath, argv, {
    cwd: projectRoot,
    timeout: options.timeoutMs ?? 120_000,
    // TF_CPP_MIN_LOG_LEVEL=2 keeps TensorFlow's start-up banner off stderr.
    env: { ...process.env, VAE_BACKEND: backend, TF_CPP_MIN_LOG_LEVEL: "2" },
  });
  const stderr = (child.stderr ?? "").trim();
  if (child.status === UNAVAILABLE_EXIT) return { result: null, reason: stderr.split("\n").pop() ?? "unavailable" };
  if (child.status !== 0) {
    throw new Error(`probe on ${backend} failed (exit ${child.status ?? child.signal ?? "did not start"}): ${stderr.slice(-2000)}`);
  }
  const line = child.stdout.trim().split("\n").pop() ?? "";
  return { result: JSON.parse(line) as ProbeResult, reason: "" };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const benchAt = args.indexOf("--bench");
  const benchSeconds = benchAt >= 0 ? Number(args[benchAt + 1] ?? 2) : 0;
  const { initBackend } = await import("../src/backend");
  let name: string;
  try {
    name = (await initBackend({ quiet: true })).name;
  } catch (error) {
    process.stderr.write(`backend unavailable: ${error instanceof Error ? error.message.split("\n").join(" ") : String(error)}\n`);
    process.exit(UNAVAILABLE_EXIT);
  }
  const tf = await import("@tensorflow/tfjs");
  const result: ProbeResult = { backend: name, values: computeProbe(tf) };
  if (name === "tensorflow") result.graph = await graphStepParity();
  if (benchSeconds > 0) result.bench = await benchTraining(tf, benchSeconds);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
