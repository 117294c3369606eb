/**
 * Adam for the trainer, in two implementations of the same update (the one
 * tf.train.adam makes):
 *
 *   LeanAdam   — tfjs ops, any backend; few kernels per step (small variables grouped).
 *   NativeAdam — tfjs-node only: TensorFlow's own fused ResourceApplyAdam kernel, one
 *                pass over each variable instead of a dozen elementwise kernels.
 *
 * Both save and load their state in tf.train.adam's layout ([iterations, m per
 * variable…, v per variable…]), so a checkpoint written with one resumes with the
 * other. createAdam picks by backend.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError } from "../errors";
import type { NamedTensor } from "./checkpoint";
import { instanceTag } from "../platform";

/** Adam for the current backend: NativeAdam on tfjs-node, LeanAdam elsewhere. */
export function createAdam(learningRate: number): LeanAdam | NativeAdam {
  return NativeAdam.available() ? new NativeAdam(learningRate) : new LeanAdam(learningRate);
}

/**
 * What both Adams share: tf.train.adam's state layout for checkpoints, state loaded before
 * the first step, and the check that every step names the same variables. Subclasses
 * keep the moments their own way and say how to read them per variable.
 */
abstract class AdamState extends tf.Optimizer {
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
    const list = Array.isArray(variableGradients) ? variableGradients : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
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

/**
 * Adam (Kingma & Ba 2015, Algorithm 1), the update tf.train.adam makes, with the bias
 * corrections folded into two scalars:
 *
 *   m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,
 *   θ ← θ − lr · m̂ / (√v̂ + ε)  =  θ − (lr·√c₂/c₁) · m / (√v + ε·√c₂),   c_k = 1 − β_kᵗ.
 *
 * Elementwise, so it may run on any grouping of the parameters: variables smaller than
 * `groupBelow` entries (biases, the latent heads) are updated together as one
 * concatenated vector. A step then costs about 12 kernels per large variable plus ~25
 * for all the small ones, instead of tfjs's ~16 per variable; on tfjs-node, where each
 * kernel call costs tens of microseconds whatever its size, that is most of Adam's time.
 */
export class LeanAdam extends AdamState {
  /** Update units: one large variable, or the group of small ones (flattened, concatenated). */
  private units: { members: number[]; m: tf.Tensor; v: tf.Tensor }[] | null = null;
  private readonly scalars: tf.Scalar[];

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon = tf.backend().epsilon(), readonly groupBelow = 65536) {
    super(learningRate, beta1, beta2, epsilon);
    this.scalars = [beta1, 1 - beta1, beta2, 1 - beta2].map((c) => tf.keep(tf.scalar(c)));
  }

  protected get started(): boolean {
    return this.units !== null;
  }

  protected start(vars: tf.Variable[]): void {
    const small = vars.map((v, i) => (v.size < this.groupBelow ? i : -1)).filter((i) => i >= 0);
    const groups = vars.map((_, i) => [i]).filter(([i]) => small.length < 2 || !small.includes(i));
    if (small.length >= 2) groups.push(small);
    this.units = groups.map((members) => {
      const per = (k: "m" | "v") => members.map((i) => this.pending?.[k][i] ?? tf.zerosLike(vars[i]));
      const join = (ts: tf.Tensor[]) => tf.keep(members.length === 1 ? tf.clone(ts[0]) : tf.concat(ts.map(flat)));
      return tf.tidy(() => ({ members, m: join(per("m")), v: join(per("v")) }));
    });
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const { list, vars } = this.prepareStep(variableGradients);
    const t = this.iterations + 1;
    const c1 = 1 - Math.pow(this.beta1, t);
    const c2 = 1 - Math.pow(this.beta2, t);
    const [b1, oneMinusB1, b2, oneMinusB2] = this.scalars;
    tf.tidy(() => {
      const rate = tf.scalar((-this.learningRate * Math.sqrt(c2)) / c1);
      const eps = tf.scalar(this.epsilon * Math.sqrt(c2));
      for (const unit of this.units!) {
        const single = unit.members.length === 1;
        const g = single ? list[unit.members[0]].tensor : tf.concat(unit.members.map((i) => flat(list[i].tensor)));
        const theta = single ? vars[unit.members[0]] : tf.concat(unit.members.map((i) => flat(vars[i])));
        const m = tf.add(tf.mul(unit.m, b1), tf.mul(g, oneMinusB1));
        const v = tf.add(tf.mul(unit.v, b2), tf.mul(tf.square(g), oneMinusB2));
        const next = tf.add(theta, tf.mul(tf.div(m, tf.add(tf.sqrt(v), eps)), rate));
        if (single) vars[unit.members[0]].assign(next);
        else tf.split(next, unit.members.map((i) => vars[i].size)).forEach((part, j) => vars[unit.members[j]].assign(tf.reshape(part, this.shapes[unit.members[j]])));
        tf.dispose([unit.m, unit.v]);
        unit.m = tf.keep(m);
        unit.v = tf.keep(v);
      }
    });
    this.incrementIterations();
  }

  protected moments(which: "m" | "v"): tf.Tensor[] {
    const out: tf.Tensor[] = new Array(this.names.length);
    for (const unit of this.units!) {
      const state = unit[which];
      if (unit.members.length === 1) {
        out[unit.members[0]] = state;
        continue;
      }
      const parts = tf.split(state, unit.members.map((i) => this.shapes[i].reduce((a, b) => a * b, 1)));
      unit.members.forEach((i, j) => {
        out[i] = tf.reshape(parts[j], this.shapes[i]);
        this.handedOut.push(parts[j], out[i]);
      });
    }
    return out;
  }

  protected release(): void {
    tf.dispose(this.units!.flatMap((u) => [u.m, u.v]));
    this.units = null;
  }

  override dispose(): void {
    super.dispose();
    tf.dispose(this.scalars);
  }
}

const flat = (t: tf.Tensor): tf.Tensor => (t.rank === 1 ? t : tf.reshape(t, [-1]));


// ------------------------------------------------------------------ NativeAdam

/** The parts of tfjs-node's backend NativeAdam talks to (not in tfjs's public types). */
interface TfBinding {
  TF_FLOAT: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_STRING: number;
  TF_ATTR_SHAPE: number;
  TF_ATTR_BOOL: number;
  executeOp(name: string, attrs: OpAttr[], inputIds: number[], numOutputs: number): TensorMetadata[];
  deleteTensor(id: number): void;
}
interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}
interface TensorMetadata {
  id: number;
  shape: number[];
  dtype: number;
}
interface NodeBackend {
  binding: TfBinding;
  getInputTensorIds(tensors: tf.Tensor[]): number[];
  /** A new tfjs tensor (already tracked by the engine) owning the binding's output handle. */
  createOutputTensor(metadata: TensorMetadata): tf.Tensor;
  refCount(dataId: tf.DataId): number;
  /** dataId → the binding's TensorFlow handle id (values: data not yet handed to TensorFlow). */
  tensorMap: { get(dataId: tf.DataId): { id: number; values: unknown } };
}

let resourceCounter = 0;

/**
 * Adam through TensorFlow's fused kernel. Each variable's moments m and v live in
 * TensorFlow resource variables, and so does a working copy of θ; a step runs, per
 * variable, ResourceApplyAdam (m, v and θ updated in one multithreaded pass) and hands the
 * new θ to the tfjs variable — two or three native calls where LeanAdam makes a dozen
 * elementwise kernels, each a full pass over memory (on tfjs-node those passes were most
 * of a step).
 *
 * When the tfjs variable still holds exactly the θ this optimizer gave it, and nothing
 * else shares it, the variable's TensorFlow handle is swapped for the new one in place, so
 * the update needs no copy of θ. Otherwise (first step, a value assigned from outside, a
 * live clone) θ is copied into the resource first and the variable assigned as usual.
 *
 * ResourceApplyAdam computes θ ← θ − lr·√c₂/c₁ · m / (√v + ε̂); passing ε̂ = ε·√c₂ makes
 * that exactly tf.train.adam's θ − lr · m̂ / (√v̂ + ε) (see LeanAdam).
 */
export class NativeAdam extends AdamState {
  /** True when the active backend is tfjs-node with the binding this class needs. */
  static available(): boolean {
    if (tf.getBackend() !== "tensorflow") return false;
    const be = tf.backend() as unknown as Partial<NodeBackend>;
    return typeof be.binding?.executeOp === "function" && typeof be.createOutputTensor === "function";
  }

  private readonly be: NodeBackend;
  private readonly B: TfBinding;
  /** Per variable: resource handles of θ, m and v, and the TensorFlow handle last given to the tfjs variable. */
  private slots: { theta: number; m: number; v: number; given: number }[] | null = null;
  private readonly constants: { lr: tf.Scalar; beta1: tf.Scalar; beta2: tf.Scalar };

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon = tf.backend().epsilon()) {
    super(learningRate, beta1, beta2, epsilon);
    if (!NativeAdam.available()) throw new Error("NativeAdam needs the tfjs-node backend (tf.setBackend('tensorflow'))");
    this.be = tf.backend() as unknown as NodeBackend;
    this.B = this.be.binding;
    this.constants = { lr: tf.keep(tf.scalar(learningRate)), beta1: tf.keep(tf.scalar(beta1)), beta2: tf.keep(tf.scalar(beta2)) };
  }

  private get f32(): OpAttr {
    return { name: "dtype", type: this.B.TF_ATTR_TYPE, value: this.B.TF_FLOAT };
  }

  private ids(tensors: tf.Tensor[]): number[] {
    return this.be.getInputTensorIds(tensors);
  }

  /** A new TensorFlow resource variable holding a copy of `init`; returns its handle id. */
  private resource(init: tf.Tensor): number {
    const name = `vae_workbook_adam_${instanceTag}_${resourceCounter++}`;
    const [handle] = this.B.executeOp(
      "VarHandleOp",
      [
        { name: "container", type: this.B.TF_ATTR_STRING, value: "" },
        { name: "shared_name", type: this.B.TF_ATTR_STRING, value: name },
        this.f32,
        { name: "shape", type: this.B.TF_ATTR_SHAPE, value: init.shape },
      ],
      [],
      1,
    );
    this.assign(handle.id, init);
    return handle.id;
  }

  private assign(handle: number, value: tf.Tensor): void {
    this.B.executeOp("AssignVariableOp", [this.f32], [handle, ...this.ids([value])], 0);
  }

  /** The resource's current value as a new tfjs tensor (caller disposes). */
  private read(handle: number): tf.Tensor {
    const [meta] = this.B.executeOp("ReadVariableOp", [this.f32], [handle], 1);
    return this.be.createOutputTensor(meta);
  }

  protected get started(): boolean {
    return this.slots !== null;
  }

  protected start(vars: tf.Variable[]): void {
    const p = this.pending;
    this.slots = tf.tidy(() =>
      vars.map((x, i) => ({
        theta: this.resource(x),
        m: this.resource(p ? p.m[i] : tf.zerosLike(x)),
        v: this.resource(p ? p.v[i] : tf.zerosLike(x)),
        given: -1,
      })),
    );
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const { list, vars } = this.prepareStep(variableGradients);
    const t = this.iterations + 1;
    const beta1Power = Math.pow(this.beta1, t);
    const beta2Power = Math.pow(this.beta2, t);
    const perStep = [tf.scalar(beta1Power), tf.scalar(beta2Power), tf.scalar(this.epsilon * Math.sqrt(1 - beta2Power))];
    const [b1p, b2p, epsHat] = this.ids(perStep);
    const [lr, b1, b2] = this.ids([this.constants.lr, this.constants.beta1, this.constants.beta2]);
    const attrs: OpAttr[] = [
      { name: "T", type: this.B.TF_ATTR_TYPE, value: this.B.TF_FLOAT },
      { name: "use_locking", type: this.B.TF_ATTR_BOOL, value: false },
      { name: "use_nesterov", type: this.B.TF_ATTR_BOOL, value: false },
    ];
    this.slots!.forEach((slot, i) => {
      const variable = vars[i];
      const entry = this.be.tensorMap.get(variable.dataId);
      const inPlace = entry.values == null && entry.id === slot.given && this.be.refCount(variable.dataId) === 1;
      // Releasing the variable's handle first leaves the resource the only owner of θ's
      // buffer, so the kernel updates it where it is instead of copying it.
      if (inPlace) this.B.deleteTensor(entry.id);
      else this.assign(slot.theta, variable);
      const [g] = this.ids([list[i].tensor]);
      try {
        this.B.executeOp("ResourceApplyAdam", attrs, [slot.theta, slot.m, slot.v, b1p, b2p, lr, b1, b2, epsHat, g], 0);
      } finally {
        // Also on failure: the resource still holds θ, and the variable gets it back.
        const [meta] = this.B.executeOp("ReadVariableOp", [this.f32], [slot.theta], 1);
        if (inPlace) entry.id = meta.id;
        else {
          const next = this.be.createOutputTensor(meta);
          variable.assign(next);
          next.dispose();
        }
        slot.given = meta.id;
      }
    });
    tf.dispose(perStep);
    this.incrementIterations();
  }

  protected moments(which: "m" | "v"): tf.Tensor[] {
    const out = this.slots!.map((s) => this.read(s[which]));
    this.handedOut.push(...out);
    return out;
  }

  protected release(): void {
    for (const handle of this.slots!.flatMap((s) => [s.theta, s.m, s.v])) {
      this.B.executeOp("DestroyResourceOp", [{ name: "ignore_lookup_error", type: this.B.TF_ATTR_BOOL, value: true }], [handle], 0);
      this.B.deleteTensor(handle);
    }
    this.slots = null;
  }

  override dispose(): void {
    super.dispose();
    tf.dispose(Object.values(this.constants));
  }
}
