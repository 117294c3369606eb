/**
 * Analytic KL(p ‖ q) through a registry keyed by the two distribution classes, as in
 * torch.distributions.kl: `registerKL(Normal, Normal, fn)`, then `kl(p, q)`. Lookup
 * walks up both class hierarchies, so a subclass inherits its parent's rule.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError } from "../errors";
import { standardNormalKl } from "../fast/standard-normal-kl";
import { sumRightmost } from "../tensors";
import { Bernoulli } from "./bernoulli";
import { broadcastShapes, Distribution } from "./distribution";
import { Independent } from "./independent";
import { Normal } from "./normal";

type DistributionClass<D extends Distribution> = abstract new (...args: never[]) => D;
/** A class, as a key: the registry is indexed by the classes on a distribution's prototype chain. */
type AnyClass = abstract new (...args: never[]) => unknown;
type KLFn = (p: Distribution, q: Distribution) => tf.Tensor;

const registry = new Map<AnyClass, Map<AnyClass, KLFn>>();

export function registerKL<P extends Distribution, Q extends Distribution>(
  typeP: DistributionClass<P>,
  typeQ: DistributionClass<Q>,
  fn: (p: P, q: Q) => tf.Tensor,
): void {
  if (!registry.has(typeP)) registry.set(typeP, new Map());
  registry.get(typeP)!.set(typeQ, fn as KLFn);
}

function lineage(d: Distribution): AnyClass[] {
  const out: AnyClass[] = [];
  for (let proto = Object.getPrototypeOf(d); proto && proto.constructor !== Object; proto = Object.getPrototypeOf(proto)) {
    out.push(proto.constructor);
  }
  return out;
}

/** KL(p ‖ q) with batch shape broadcast(p.batchShape, q.batchShape). */
export function kl(p: Distribution, q: Distribution): tf.Tensor {
  if (!(p instanceof Distribution)) throw new ArgumentError("p", "must be a Distribution");
  if (!(q instanceof Distribution)) throw new ArgumentError("q", "must be a Distribution");
  for (const a of lineage(p)) {
    const row = registry.get(a);
    if (!row) continue;
    for (const b of lineage(q)) {
      const fn = row.get(b);
      if (fn) return fn(p, q);
    }
  }
  throw new Error(`no analytic KL registered for (${p.constructor.name}, ${q.constructor.name}); use registerKL`);
}

/**
 * KL(N(μ₁,σ₁²) ‖ N(μ₂,σ₂²)) = ½[(σ₁/σ₂)² + ((μ₁−μ₂)/σ₂)² − 1 − log (σ₁/σ₂)²], elementwise.
 * Against N(0, 1) (the VAE's prior) this is ½(σ² + μ²) − ½ − log σ, one fused op.
 */
registerKL(Normal, Normal, (p, q) => {
  const shape = broadcastShapes("p.batchShape", p.batchShape, "q.batchShape", q.batchShape);
  return tf.tidy(() => {
    if (q.isStandard) {
      const out = standardNormalKl(p.loc, p.scale);
      return out.shape.join() === shape.join() ? out : tf.broadcastTo(out, shape);
    }
    const varRatio = tf.square(tf.div(p.scale, q.scale));
    const t = tf.square(tf.div(tf.sub(p.loc, q.loc), q.scale));
    return tf.mul(0.5, tf.sub(tf.sub(tf.add(varRatio, t), 1), tf.log(varRatio)));
  });
});

/** KL(Bern(a) ‖ Bern(b)) = p log(p/q) + (1−p) log((1−p)/(1−q)), with log-sigmoids of the logits for stability. */
registerKL(Bernoulli, Bernoulli, (p, q) => {
  broadcastShapes("p.batchShape", p.batchShape, "q.batchShape", q.batchShape);
  return tf.tidy(() => {
    const pp = tf.sigmoid(p.logits);
    const logP1 = tf.logSigmoid(p.logits);
    const logP0 = tf.logSigmoid(tf.neg(p.logits));
    const logQ1 = tf.logSigmoid(q.logits);
    const logQ0 = tf.logSigmoid(tf.neg(q.logits));
    return tf.add(tf.mul(pp, tf.sub(logP1, logQ1)), tf.mul(tf.sub(1, pp), tf.sub(logP0, logQ0)));
  });
});

/** Independent wrappers: the KL of a product is the sum of the KLs over the event dims. */
registerKL(Independent, Independent, (p, q) => {
  if (p.reinterpretedBatchNdims !== q.reinterpretedBatchNdims) {
    throw new ArgumentError("q", `event rank mismatch: ${p.reinterpretedBatchNdims} vs ${q.reinterpretedBatchNdims}`);
  }
  return tf.tidy(() => sumRightmost(kl(p.base, q.base), p.reinterpretedBatchNdims));
});
