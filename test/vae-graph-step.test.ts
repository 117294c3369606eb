/**
 * The training step as one TensorFlow graph (src/fast/graph-step.ts) against the eager
 * step it is traced from (trainStep): one step and a few steps on a small and on the full
 * architecture, both batch sizes of an epoch; the NaN guard; kill and resume on the graph
 * path; checkpoints written by either path resumed by the other; a seeded 3-epoch run of
 * each path; the fallback when TensorFlow cannot load the graph; the backend line; and
 * the SavedModel writer against TensorFlow's own protobuf classes.
 *
 * Tolerance: GRAPH_EAGER_RTOL (1e-5 of each result's largest magnitude: float32 round-off,
 * justified in src/fast/graph-step.ts). A real difference (a dropped term, a wrong
 * transpose, a missed update) is orders of magnitude larger.
 *
 * Everything here needs tfjs-node: where it does not load, each test is skipped with the reason.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { paths } from "../scripts/paths";
import { initBackend } from "../src/backend";
import { GRAPH_EAGER_RTOL, GraphStep, GraphStepError, graphStepSetting } from "../src/fast/graph-step";
import { DT, GraphBuilder } from "../src/fast/saved-model";
import { createAdam } from "../src/vae/adam";
import { loadCheckpoint } from "../src/vae/checkpoint";
import { binarize, type ImageSet } from "../src/vae/data";
import { Vae } from "../src/vae/model";
import { lossAndGradients, openTrainingStep, trainStep } from "../src/vae/steps";
import { type TrainOptions, type TrainResult, trainVae } from "../src/vae/trainer";
import { smallDigits } from "./support/digits";

/** max |a − b| ≤ rtol · max |b|, entry by entry (NaN fails); returns the largest difference relative to that scale. */
function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, label: string): number {
  assert.equal(a.length, b.length, `${label}: length`);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    assert.ok(d <= rtol * scale, `${label}[${i}]: ${a[i]} vs ${b[i]} (scale ${scale})`);
    worst = Math.max(worst, d / (scale || 1));
  }
  return worst;
}

/** Runs `fn` with VAE_GRAPH set to `value` (undefined: unset), then restores it. */
async function withGraphSetting<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env.VAE_GRAPH;
  if (value === undefined) delete process.env.VAE_GRAPH;
  else process.env.VAE_GRAPH = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.VAE_GRAPH;
    else process.env.VAE_GRAPH = before;
  }
}

/** The weights, then Adam's state ([iterations, m…, v…]), as plain arrays. */
async function stateOf(model: Vae, optimizer: tf.Optimizer): Promise<{ weights: Float32Array[]; adam: Float32Array[] }> {
  const weights = model.variables().map((v) => v.dataSync().slice() as Float32Array);
  const adam = (await optimizer.getWeights()).map((w) => w.tensor.dataSync().slice() as Float32Array);
  return { weights, adam };
}

/** The getters of TensorFlow's generated protobuf classes (google-protobuf) that the writer's test reads. */
interface ShapeMessage {
  getDimList(): { getSize(): number }[];
  getUnknownRank(): boolean;
}
interface AttrMessage {
  getTensor(): { getDtype(): number; getTensorShape(): ShapeMessage; getTensorContent_asU8(): Uint8Array };
  getShape(): ShapeMessage;
  getType(): number;
  hasB(): boolean;
  getB(): boolean;
  getF(): number;
  getS_asU8(): Uint8Array;
  getList(): { getIList(): number[]; getTypeList(): number[] };
}
interface NodeMessage {
  getName(): string;
  getOp(): string;
  getInputList(): string[];
  getAttrMap(): { get(key: string): AttrMessage };
}
interface SavedModelMessage {
  getSavedModelSchemaVersion(): number;
  getMetaGraphsList(): { getMetaInfoDef(): { getTagsList(): string[] }; getGraphDef(): { getNodeList(): NodeMessage[] } }[];
}

describe("the training step as one TensorFlow graph (tfjs-node)", function () {
  this.timeout(300_000);
  let train: ImageSet;
  let test: ImageSet;
  let tmp: string;

  before(async function () {
    await initBackend({ quiet: true });
    const setting = await withGraphSetting(undefined, async () => graphStepSetting());
    if (!setting.use) {
      console.log(`      (skipped: no graph step here — ${setting.why ?? "tfjs-node does not load"}; \`npm run setup:native\` builds tfjs-node)`);
      this.skip();
    }
    ({ train, test } = smallDigits());
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vae-graph-test-"));
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  /**
   * `steps` steps of each path from the same weights on the same batches and seeds; checks
   * every loss, then every weight and Adam slot. Returns the worst relative difference.
   */
  async function compareSteps(config: ConstructorParameters<typeof Vae>[0], batches: number[], steps: number): Promise<number> {
    const images = binarize(train.images, "threshold");
    const eager = { model: new Vae(config, 3), optimizer: createAdam(1e-3) };
    const graph = { model: new Vae(config, 3), optimizer: createAdam(1e-3) };
    const step = await openTrainingStep(graph.model, graph.optimizer, batches);
    let worst = 0;
    try {
      assert.equal(step.kind, "graph");
      for (let k = 0; k < steps; k++) {
        const rows = batches[k % batches.length];
        const batch = images.subarray(k * 784, (k + rows) * 784);
        const x = tf.tensor2d(batch, [rows, 784]);
        const e = await trainStep(eager.model, eager.optimizer, x, 40 + k);
        x.dispose();
        const g = await step.run(batch, rows, 40 + k);
        assert.ok(Math.abs(g - e) <= GRAPH_EAGER_RTOL * Math.abs(e), `step ${k + 1} (${rows} rows): loss ${g} (graph) vs ${e} (eager)`);
        worst = Math.max(worst, Math.abs(g - e) / Math.abs(e));
      }
      await step.sync();
      const [a, b] = [await stateOf(graph.model, graph.optimizer), await stateOf(eager.model, eager.optimizer)];
      const names = graph.model.weightNames();
      a.weights.forEach((w, i) => {
        worst = Math.max(worst, assertClose(w, b.weights[i], GRAPH_EAGER_RTOL, names[i]));
      });
      assert.equal(a.adam.length, b.adam.length);
      assert.equal(a.adam[0][0], steps, "Adam's step count");
      a.adam.forEach((s, i) => {
        worst = Math.max(worst, assertClose(s, b.adam[i], GRAPH_EAGER_RTOL, `Adam slot ${i}`));
      });
    } finally {
      step.dispose();
      for (const side of [eager, graph]) {
        side.model.dispose();
        side.optimizer.dispose();
      }
    }
    return worst;
  }

  it("graph and eager steps agree to float32 round-off: a small architecture, two batch sizes, four steps", async () => {
    const worst = await compareSteps({ inputDim: 784, hidden: [32, 16], latentDim: 3 }, [100, 84], 4);
    console.log(`      (largest relative difference: ${worst.toExponential(1)})`);
  });

  it("graph and eager steps agree to float32 round-off: the full 784-400-20 VAE, batches of 128 and 64, three steps", async () => {
    const worst = await compareSteps({ inputDim: 784, hidden: [400], latentDim: 20 }, [128, 64], 3);
    console.log(`      (largest relative difference: ${worst.toExponential(1)})`);
  });

  it("a batch whose loss is NaN leaves every weight and moment bit-identical, and Adam's step count as it was", async () => {
    const model = new Vae({ inputDim: 784, hidden: [32], latentDim: 3 }, 5);
    const optimizer = createAdam(1e-3);
    const step = await openTrainingStep(model, optimizer, [8]);
    try {
      assert.equal(step.kind, "graph");
      const images = binarize(train.images.subarray(0, 8 * 784), "threshold");
      for (const seed of [1, 2]) assert.ok(Number.isFinite(await step.run(images, 8, seed)));
      await step.sync();
      const before = await stateOf(model, optimizer);
      const poisoned = images.slice();
      poisoned[5] = NaN;
      assert.ok(Number.isNaN(await step.run(poisoned, 8, 3)));
      await step.sync();
      const after = await stateOf(model, optimizer);
      assert.deepEqual(after.weights, before.weights);
      assert.deepEqual(after.adam, before.adam); // the step count is slot 0
      assert.equal(after.adam[0][0], 2);
      // And the run goes on from there as if the bad batch had not been.
      assert.ok(Number.isFinite(await step.run(images, 8, 4)));
    } finally {
      step.dispose();
      optimizer.dispose();
      model.dispose();
    }
  });

  it("trainVae runs on it, and a seeded 3-epoch run's test −ELBO is within 0.3 nats of the eager run's", async () => {
    const opts: TrainOptions = { model: { hidden: [400], latentDim: 20 }, epochs: 3, batchSize: 100, seed: 2 };
    const graph = await withGraphSetting(undefined, () => trainVae(train, test, opts));
    const eager = await withGraphSetting("0", () => trainVae(train, test, opts));
    assert.equal(graph.trainingStep, "graph");
    assert.equal(eager.trainingStep, "eager");
    const [g, e] = [graph.history[2].testNegElbo!, eager.history[2].testNegElbo!];
    console.log(`      (test −ELBO after 3 epochs: graph ${g.toFixed(3)}, eager ${e.toFixed(3)} nats)`);
    assert.ok(Math.abs(g - e) <= 0.3, `graph ${g} vs eager ${e}`);
    assert.ok(graph.history[2].trainNegElbo < graph.history[0].trainNegElbo, "training lowers the loss");
    for (const r of [graph, eager]) r.model.dispose();
  });

  it("killed and resumed on the graph path, a run equals an uninterrupted graph run bit for bit", async () => {
    const base: TrainOptions = { model: { hidden: [32], latentDim: 3 }, epochs: 3, batchSize: 100, seed: 6 };
    const full = await trainVae(train, test, { ...base, checkpointDir: path.join(tmp, "full") });
    const dir = path.join(tmp, "killed");
    // Stopped after 6 steps: epoch 1 (4 steps: 100, 100, 100, 84 rows) is saved, epoch 2 is lost.
    const cut = await trainVae(train, test, { ...base, checkpointDir: dir, maxSteps: 6 });
    assert.equal(cut.epochsCompleted, 1);
    const resumed = await trainVae(train, test, { ...base, checkpointDir: dir, resume: true });
    assert.deepEqual([full.trainingStep, cut.trainingStep, resumed.trainingStep], ["graph", "graph", "graph"]);
    assert.equal(resumed.resumedFrom, 1);
    const numbers = (h: typeof full.history) => h.map((r) => [r.epoch, r.trainNegElbo, r.testNegElbo, r.testRecon, r.testKl]);
    assert.deepEqual(numbers(resumed.history), numbers(full.history));
    const [a, b] = [full.model.variables(), resumed.model.variables()];
    a.forEach((v, i) => {
      assert.deepEqual(v.dataSync(), b[i].dataSync(), full.model.weightNames()[i]);
    });
    const [ca, cb] = [loadCheckpoint(path.join(tmp, "full")), loadCheckpoint(dir)];
    ca.optimizerWeights.forEach((w, i) => {
      assert.deepEqual(w.tensor.dataSync(), cb.optimizerWeights[i].tensor.dataSync(), `Adam slot ${i} in the checkpoints`);
    });
    for (const ck of [ca, cb]) {
      ck.model.dispose();
      tf.dispose(ck.optimizerWeights.map((w) => w.tensor));
    }
    for (const r of [full, cut, resumed]) r.model.dispose();
  });

  it("checkpoints interchange: a graph run's checkpoint resumes eagerly, an eager run's on the graph, each like an uninterrupted run", async () => {
    const base: TrainOptions = { model: { hidden: [32], latentDim: 3 }, batchSize: 100, seed: 8 };
    const reference = await trainVae(train, test, { ...base, epochs: 2 });
    for (const [first, second] of [
      [undefined, "0"],
      ["0", undefined],
    ] as const) {
      const dir = path.join(tmp, `interchange-${first ?? "graph"}-then-${second ?? "graph"}`);
      const one = await withGraphSetting(first, () => trainVae(train, test, { ...base, epochs: 1, checkpointDir: dir }));
      const two = await withGraphSetting(second, () => trainVae(train, test, { ...base, epochs: 2, checkpointDir: dir, resume: true }));
      assert.deepEqual([one.trainingStep, two.trainingStep], first === "0" ? ["eager", "graph"] : ["graph", "eager"]);
      const names = reference.model.weightNames();
      // Four steps of round-off (none, on a wheel where the two paths agree bit for bit).
      reference.model.variables().forEach((v, i) => {
        assertClose(two.model.variables()[i].dataSync(), v.dataSync(), 1e-4, names[i]);
      });
      assert.ok(Math.abs(two.history[1].testNegElbo! - reference.history[1].testNegElbo!) < 1e-3);
      for (const r of [one, two]) r.model.dispose();
    }
    reference.model.dispose();
  });

  it("when TensorFlow cannot load the graph, one line says why and the run trains eagerly, as VAE_GRAPH=0 does", async () => {
    const opts: TrainOptions = { model: { hidden: [32], latentDim: 3 }, epochs: 1, batchSize: 100, seed: 9 };
    const eager = await withGraphSetting("0", () => trainVae(train, test, opts));
    // A fault in the binding, outside the library: loading any SavedModel fails.
    const be = tf.backend() as unknown as { binding: object };
    const binding = be.binding;
    be.binding = Object.create(binding, {
      loadSavedModel: {
        value: () => {
          throw new Error("Failed to load SavedModel: simulated");
        },
      },
    });
    const warned: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warned.push(args.join(" "));
    let fallback: TrainResult;
    try {
      fallback = await withGraphSetting(undefined, () => trainVae(train, test, opts));
    } finally {
      console.warn = warn;
      be.binding = binding;
    }
    assert.deepEqual(warned, [
      "graph step unavailable (TensorFlow could not load the graph: Failed to load SavedModel: simulated); this run trains with the eager step",
    ]);
    assert.equal(fallback.trainingStep, "eager");
    assert.deepEqual(
      fallback.history.map((r) => [r.trainNegElbo, r.testNegElbo]),
      eager.history.map((r) => [r.trainNegElbo, r.testNegElbo]),
    );
    for (const r of [eager, fallback]) r.model.dispose();
  });

  it("the graph refuses an eager step it cannot replay: noise other than the step draws, or a value read back mid-step", () => {
    const model = new Vae({ inputDim: 784, hidden: [16], latentDim: 2 }, 1);
    const adam = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    const step = {
      variables: model.variables(),
      lossAndGradients: (x: tf.Tensor2D, seed: number) => lossAndGradients(model, x, seed),
      noise: (rows: number, seed: number) => model.lossNoise(rows, seed + 1),
    };
    assert.throws(
      () => GraphStep.build(step, { inputDim: 784, batchSizes: [4], adam }),
      (e: Error) => e instanceof GraphStepError && /noise was found 0 times/.test(e.message),
    );
    const reading = {
      ...step,
      noise: (rows: number, seed: number) => model.lossNoise(rows, seed),
      lossAndGradients: (x: tf.Tensor2D, seed: number) => {
        const out = lossAndGradients(model, x, seed);
        out.loss.dataSync(); // JavaScript looks at a value mid-step
        return out;
      },
    };
    assert.throws(() => GraphStep.build(reading, { inputDim: 784, batchSizes: [4], adam }), /reads a tensor back into JavaScript/);
    model.dispose();
  });

  it('the backend line names the step: "(graph step)", or "(eager step: VAE_GRAPH=0)"', () => {
    const tsx = require.resolve("tsx/cli", { paths: [paths.root] });
    const line = (graph?: string) => {
      const env: NodeJS.ProcessEnv = { ...process.env, VAE_BACKEND: "tensorflow", TF_CPP_MIN_LOG_LEVEL: "2" };
      if (graph === undefined) delete env.VAE_GRAPH;
      else env.VAE_GRAPH = graph;
      const r = spawnSync(process.execPath, [tsx, "-e", 'require("./src/backend").initBackend()'], { cwd: paths.root, env, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    assert.equal(line(), "tfjs backend: tensorflow (graph step)");
    assert.equal(line("0"), "tfjs backend: tensorflow (eager step: VAE_GRAPH=0)");
  });

  it("the SavedModel writer's bytes read back with TensorFlow's own protobuf classes (shipped with tfjs-node)", () => {
    const g = new GraphBuilder();
    const c = g.constant({ dtype: DT.float, shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, -0.5) }, "c");
    const p = g.placeholder(DT.float, [-1, 3], "p");
    g.placeholder(DT.int32, null, "q");
    g.add(
      "Sum",
      [c, p, "^q"],
      {
        T: { type: DT.float },
        keep_dims: { b: false },
        alpha: { f: 0.25 },
        name: { s: "naïve" },
        perm: { list: { i: [1, 0, -1] } },
        types: { list: { type: [DT.float, DT.bool] } },
      },
      "sum",
    );
    const { SavedModel } = require("@tensorflow/tfjs-node/dist/proto/api_pb") as { SavedModel: { deserializeBinary(bytes: Uint8Array): SavedModelMessage } };
    const saved = SavedModel.deserializeBinary(g.savedModel("train"));
    assert.equal(saved.getSavedModelSchemaVersion(), 1);
    const meta = saved.getMetaGraphsList()[0];
    assert.deepEqual(meta.getMetaInfoDef().getTagsList(), ["train"]);
    const nodes = meta.getGraphDef().getNodeList();
    assert.deepEqual(
      nodes.map((n) => [n.getName(), n.getOp(), n.getInputList()]),
      [
        ["c", "Const", []],
        ["p", "Placeholder", []],
        ["q", "Placeholder", []],
        ["sum", "Sum", ["c", "p", "^q"]],
      ],
    );
    const attr = (n: NodeMessage, k: string) => n.getAttrMap().get(k);
    const dims = (shape: ShapeMessage) => shape.getDimList().map((d) => d.getSize());
    const tensor = attr(nodes[0], "value").getTensor();
    assert.equal(tensor.getDtype(), DT.float);
    assert.deepEqual(dims(tensor.getTensorShape()), [2, 3]);
    const bytes = tensor.getTensorContent_asU8();
    assert.deepEqual(Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))), [1, 2, 3, 4, 5, -0.5]);
    assert.deepEqual(dims(attr(nodes[1], "shape").getShape()), [-1, 3]);
    assert.equal(attr(nodes[2], "shape").getShape().getUnknownRank(), true);
    const sum = nodes[3];
    assert.equal(attr(sum, "T").getType(), DT.float);
    assert.equal(attr(sum, "keep_dims").hasB(), true);
    assert.equal(attr(sum, "keep_dims").getB(), false);
    assert.equal(attr(sum, "alpha").getF(), 0.25);
    assert.equal(new TextDecoder().decode(attr(sum, "name").getS_asU8()), "naïve");
    assert.deepEqual(attr(sum, "perm").getList().getIList(), [1, 0, -1]);
    assert.deepEqual(attr(sum, "types").getList().getTypeList(), [DT.float, DT.bool]);
  });
});
