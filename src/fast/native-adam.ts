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
 * that exactly tf.train.adam's θ − lr · m̂ / (√v̂ + ε) (see lean-adam.ts); the graph step
 * (./graph-step.ts) feeds the same kernel the same scalars (adamStepScalars). It reaches into
 * tfjs-node's backend (its binding, its tensor map) through ./tfjs-node.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { instanceTag } from "../platform";
import type { NamedTensor } from "../tensors";
import { AdamState } from "./adam-state";
import { type NodeBackend, nodeBackend, type OpAttr, type TfBinding } from "./tfjs-node";

/**
 * ResourceApplyAdam's per-step inputs at step t (from 1): β₁ᵗ, β₂ᵗ and ε̂ = ε·√(1 − β₂ᵗ),
 * computed in float64 and rounded to float32 when fed. Its other inputs are lr, β₁, β₂.
 */
export function adamStepScalars(t: number, beta1: number, beta2: number, epsilon: number): [beta1Power: number, beta2Power: number, epsilonHat: number] {
  const beta2Power = beta2 ** t;
  return [beta1 ** t, beta2Power, epsilon * Math.sqrt(1 - beta2Power)];
}

/** ResourceApplyAdam's attributes: float32, no locking, no Nesterov momentum. */
export function applyAdamAttrs(B: TfBinding): OpAttr[] {
  return [
    { name: "T", type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
    { name: "use_locking", type: B.TF_ATTR_BOOL, value: false },
    { name: "use_nesterov", type: B.TF_ATTR_BOOL, value: false },
  ];
}

let resourceCounter = 0;

export class NativeAdam extends AdamState {
  /** True when the active backend is tfjs-node with the binding this class needs. */
  static available(): boolean {
    return nodeBackend() !== null;
  }

  private readonly be: NodeBackend;
  private readonly B: TfBinding;
  /** Per variable: resource handles of θ, m and v, and the TensorFlow handle last given to the tfjs variable. */
  private slots: { theta: number; m: number; v: number; given: number }[] | null = null;
  private readonly constants: { lr: tf.Scalar; beta1: tf.Scalar; beta2: tf.Scalar };

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon = tf.backend().epsilon()) {
    super(learningRate, beta1, beta2, epsilon);
    if (!NativeAdam.available()) throw new Error("NativeAdam needs the tfjs-node backend (tf.setBackend('tensorflow'))");
    this.be = nodeBackend()!;
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
    const perStep = adamStepScalars(this.iterations + 1, this.beta1, this.beta2, this.epsilon).map((c) => tf.scalar(c));
    const [b1p, b2p, epsHat] = this.ids(perStep);
    const [lr, b1, b2] = this.ids([this.constants.lr, this.constants.beta1, this.constants.beta2]);
    const attrs = applyAdamAttrs(this.B);
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
