/**
 * One optimizer step on one batch: Adam on minus (5.9), with one seeded reparameterized
 * draw per example. Two ways to run it, computing the same numbers:
 *
 *   eager  trainStep: the loss, its gradients (autodiff) and Adam's update, as tfjs kernels
 *          one after another — on every backend
 *   graph  the same kernels, traced once into one TensorFlow graph (src/fast/graph-step.ts)
 *          that runs a whole step per call — on tfjs-node, unless VAE_GRAPH=0
 *
 * openTrainingStep picks one for a run, once: when the graph cannot be built it says so in
 * one line and the whole run is eager (never a switch mid-run).
 */
import * as tf from "@tensorflow/tfjs";
import type { AdamState } from "../fast/adam-state";
import { GraphStep, graphStepSetting } from "../fast/graph-step";
import type { NamedTensor } from "../tensors";
import type { Vae } from "./model";

/** The loss −(5.9) on batch x with the noise of `seed`, and its gradient for each of model.variables(). */
export function lossAndGradients(model: Vae, x: tf.Tensor2D, seed: number): { loss: tf.Scalar; grads: tf.Tensor[] } {
  const vars = model.variables();
  const { value, grads } = tf.variableGrads(() => model.loss(x, seed, { validateArgs: false }).loss, vars);
  return { loss: value, grads: vars.map((v) => grads[v.name]) };
}

/**
 * One eager optimizer step on the batch x: the loss −(5.9) with one reparameterized draw
 * (seeded), its gradients, and Adam's update. Returns the loss before the update. A loss
 * that is NaN or infinite is returned without an update, so it never reaches the weights.
 */
export async function trainStep(model: Vae, optimizer: tf.Optimizer, x: tf.Tensor2D, seed: number): Promise<number> {
  const vars = model.variables();
  const { loss: cost, grads } = lossAndGradients(model, x, seed);
  try {
    // An async read: the browser's WebGPU backend cannot read synchronously.
    const loss = (await cost.data())[0];
    if (Number.isFinite(loss)) optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i] })));
    return loss;
  } finally {
    tf.dispose([cost, ...grads]);
  }
}

/** A run's training step: eager or graph, fixed for the run. */
export interface TrainingStep {
  readonly kind: "graph" | "eager";
  /** One step on `rows` images (row-major) with the noise of `seed`; the loss before the update (not finite: nothing was updated). */
  run(images: Float32Array, rows: number, seed: number): Promise<number>;
  /**
   * Brings the model and the optimizer up to date with the steps taken: call it before the
   * model is evaluated, saved or handed out. Changes made to the model afterwards carry
   * into the next step.
   */
  sync(): Promise<void>;
  dispose(): void;
}

/** The run's step: the graph step where it is wanted and can be built (else one line says why not), otherwise eager. */
export async function openTrainingStep(model: Vae, optimizer: AdamState, batchSizes: number[]): Promise<TrainingStep> {
  const setting = graphStepSetting();
  if (setting.use) {
    try {
      const graph = GraphStep.build(
        { variables: model.variables(), lossAndGradients: (x, seed) => lossAndGradients(model, x, seed), noise: (rows, seed) => model.lossNoise(rows, seed) },
        { inputDim: model.config.inputDim, batchSizes, adam: optimizer },
      );
      return new GraphTraining(model, optimizer, graph);
    } catch (error) {
      console.warn(`graph step unavailable (${(error as Error).message.split("\n")[0]}); this run trains with the eager step`);
    }
  }
  return new EagerTraining(model, optimizer);
}

class EagerTraining implements TrainingStep {
  readonly kind = "eager";

  constructor(
    private readonly model: Vae,
    private readonly optimizer: tf.Optimizer,
  ) {}

  async run(images: Float32Array, rows: number, seed: number): Promise<number> {
    const x = tf.tensor2d(images, [rows, this.model.config.inputDim]);
    try {
      return await trainStep(this.model, this.optimizer, x, seed);
    } finally {
      x.dispose();
    }
  }

  async sync(): Promise<void> {}

  dispose(): void {}
}

/**
 * The graph step with the model and the optimizer as the state's home between syncs:
 * before its first step, and whenever the model's weights were replaced since the last
 * sync, θ (from the model), m, v and the step count (from the optimizer) are loaded into
 * the session; sync reads them back.
 */
class GraphTraining implements TrainingStep {
  readonly kind = "graph";
  /** The model's weight tensors as last loaded or read: a change means they were replaced. */
  private loaded: tf.DataId[] | null = null;

  constructor(
    private readonly model: Vae,
    private readonly optimizer: AdamState,
    private readonly graph: GraphStep,
  ) {}

  async run(images: Float32Array, rows: number, seed: number): Promise<number> {
    const vars = this.model.variables();
    if (!this.loaded || vars.some((v, i) => v.dataId !== this.loaded![i])) await this.load();
    return this.graph.run(images, rows, seed);
  }

  private async load(): Promise<void> {
    const vars = this.model.variables();
    const [, ...slots] = await this.optimizer.getWeights(); // [iterations, m…, v…], or just iterations before any step
    const zeros = slots.length ? [] : vars.map((v) => tf.zerosLike(v));
    const m = slots.length ? slots.slice(0, vars.length).map((s) => s.tensor) : zeros;
    const v = slots.length ? slots.slice(vars.length).map((s) => s.tensor) : zeros;
    this.graph.load({ weights: vars, m, v, iterations: this.optimizer.iterations });
    tf.dispose(zeros);
    this.loaded = vars.map((x) => x.dataId);
  }

  async sync(): Promise<void> {
    if (!this.loaded) return; // no step taken: the model and optimizer hold the state
    const vars = this.model.variables();
    const state = this.graph.read();
    vars.forEach((x, i) => {
      x.assign(state.weights[i]);
    });
    const named = (slot: string, ts: tf.Tensor[]): NamedTensor[] => ts.map((tensor, i) => ({ name: `${vars[i].name}/${slot}`, tensor }));
    const iterations = tf.scalar(state.iterations);
    await this.optimizer.setWeights([{ name: "iter", tensor: iterations }, ...named("m", state.m), ...named("v", state.v)]);
    tf.dispose([iterations, ...state.weights, ...state.m, ...state.v]);
    this.loaded = vars.map((x) => x.dataId);
  }

  dispose(): void {
    this.graph.dispose();
  }
}
