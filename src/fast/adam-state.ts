/**
 * What the trainer's two Adams (lean-adam.ts, native-adam.ts) share: tf.train.adam's state
 * layout for checkpoints ([iterations, m per variable…, v per variable…]), so a checkpoint
 * written with one resumes with the other; state loaded before the first step; and the
 * check that every step names the same variables.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError } from "../errors";
import type { NamedTensor } from "../tensors";

/** Subclasses keep the moments their own way and say how to read them per variable. */
export abstract class AdamState extends tf.Optimizer {
  static get className(): string {
    return "Adam";
  }
  protected names: string[] = [];
  protected shapes: number[][] = [];
  /** State loaded by setWeights before the first step: per-variable moments. */
  protected pending: { m: tf.Tensor[]; v: tf.Tensor[] } | null = null;
  /** Tensors handed out by getWeights (all of them, the step count too); disposed at the next step, when they are stale, or by dispose. */
  protected handedOut: tf.Tensor[] = [];

  constructor(
    readonly learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = tf.backend().epsilon(),
  ) {
    super();
  }

  /** Whether the per-variable state exists (built at the first step). */
  protected abstract get started(): boolean;
  /** Builds the state for these variables, from `pending` when set. */
  protected abstract start(vars: tf.Variable[]): void;
  /** The started state's moments, per variable in order (tensors the caller must not keep). */
  protected abstract moments(which: "m" | "v"): tf.Tensor[];
  /** Releases the started state. */
  protected abstract release(): void;

  /** The step's gradients as a list and their variables; builds the state at the first step. */
  protected prepareStep(variableGradients: tf.NamedTensorMap | NamedTensor[]): { list: NamedTensor[]; vars: tf.Variable[] } {
    const list = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const vars = list.map((g) => tf.engine().registeredVariables[g.name]);
    if (!this.started) {
      const p = this.pending;
      if (p && (p.m.length !== vars.length || vars.some((x, i) => x.shape.join() !== p.m[i].shape.join() || x.shape.join() !== p.v[i].shape.join()))) {
        throw new ArgumentError("variableGradients", "do not match the variables of the Adam state loaded with setWeights");
      }
      this.names = list.map((g) => g.name);
      this.shapes = vars.map((v) => v.shape.slice());
      this.start(vars);
      if (p) tf.dispose([...p.m, ...p.v]);
      this.pending = null;
    } else if (list.length !== this.names.length || list.some((g, i) => g.name !== this.names[i])) {
      throw new ArgumentError("variableGradients", "must name the same variables, in the same order, on every step");
    }
    tf.dispose(this.handedOut);
    this.handedOut = [];
    return { list, vars };
  }

  private perVariable(which: "m" | "v"): tf.Tensor[] {
    if (this.pending) return this.pending[which];
    return this.started ? this.moments(which) : [];
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const m = this.perVariable("m").map((tensor, i) => ({ name: `${this.names[i]}/m`, tensor }));
    const v = this.perVariable("v").map((tensor, i) => ({ name: `${this.names[i]}/v`, tensor }));
    const iterations = await this.saveIterations();
    this.handedOut.push(iterations.tensor);
    return [iterations, ...m, ...v];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const slots = await this.extractIterations(weightValues);
    if (slots.length % 2 !== 0) throw new ArgumentError("weightValues", `Adam state needs as many second moments as first moments, got ${slots.length} slots`);
    this.disposeState();
    if (slots.length === 0) return;
    const k = slots.length / 2;
    this.names = slots.slice(0, k).map((w) => w.name.replace(/\/m$/, ""));
    this.shapes = slots.slice(0, k).map((w) => w.tensor.shape.slice());
    this.pending = { m: slots.slice(0, k).map((w) => tf.clone(w.tensor)), v: slots.slice(k).map((w) => tf.clone(w.tensor)) };
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  protected disposeState(): void {
    if (this.started) this.release();
    tf.dispose([...this.handedOut, ...(this.pending ? [...this.pending.m, ...this.pending.v] : [])]);
    this.handedOut = [];
    this.pending = null;
  }

  override dispose(): void {
    this.disposeState();
  }
}
