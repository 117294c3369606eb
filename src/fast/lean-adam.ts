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
 * for all the small ones, instead of tfjs's ~16 per variable: most of Adam's time on
 * tfjs-node, where kernel calls dominate (./backends.ts).
 */
import * as tf from "@tensorflow/tfjs";
import type { NamedTensor } from "../tensors";
import { AdamState } from "./adam-state";

export class LeanAdam extends AdamState {
  /** Update units: one large variable, or the group of small ones (flattened, concatenated). */
  private units: { members: number[]; m: tf.Tensor; v: tf.Tensor }[] | null = null;
  private readonly scalars: tf.Scalar[];

  constructor(
    learningRate: number,
    beta1 = 0.9,
    beta2 = 0.999,
    epsilon = tf.backend().epsilon(),
    readonly groupBelow = 65536,
  ) {
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
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
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
        else
          tf.split(
            next,
            unit.members.map((i) => vars[i].size),
          ).forEach((part, j) => {
            vars[unit.members[j]].assign(tf.reshape(part, this.shapes[unit.members[j]]));
          });
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
      const parts = tf.split(
        state,
        unit.members.map((i) => this.shapes[i].reduce((a, b) => a * b, 1)),
      );
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
