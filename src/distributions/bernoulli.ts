/**
 * Bernoulli parameterized by logits (or probs), elementwise: the decoder p(x|z) of
 * a VAE on binarized images. Working in logits keeps log p finite where a sigmoid
 * would round to exactly 0 or 1 in float32.
 */
import * as tf from "@tensorflow/tfjs";
import { Distribution, TensorLike, asTensor, checkSampleShape, validateTensor } from "./distribution";
import { DistributionOptions } from "./normal";
import { ArgumentError } from "../errors";

export type BernoulliParams = { logits: TensorLike; probs?: undefined } | { probs: TensorLike; logits?: undefined };

export class Bernoulli extends Distribution {
  readonly logits: tf.Tensor;
  readonly batchShape: number[];
  readonly eventShape: number[] = [];

  constructor(params: BernoulliParams, options: DistributionOptions = {}) {
    super();
    const validate = options.validateArgs ?? true;
    if (params == null || (params.logits === undefined) === (params.probs === undefined)) {
      throw new ArgumentError("params", "give exactly one of { logits } or { probs }");
    }
    if (params.logits !== undefined) {
      this.logits = asTensor("logits", params.logits);
      if (validate) validateTensor("logits", this.logits, false);
    } else {
      const probs = asTensor("probs", params.probs!);
      if (validate) {
        validateTensor("probs", probs, false);
        const d = probs.dataSync();
        for (let i = 0; i < d.length; i++) {
          if (d[i] < 0 || d[i] > 1) throw new ArgumentError("probs", `must lie in [0, 1], got ${d[i]} at flat index ${i}`);
        }
      }
      // logit(p) = log p − log(1 − p), clipped so p ∈ {0, 1} gives large finite logits.
      this.logits = tf.tidy(() => {
        const eps = 1e-7;
        const p = tf.clipByValue(probs, eps, 1 - eps);
        return tf.sub(tf.log(p), tf.log1p(tf.neg(p)));
      });
      if (!(params.probs instanceof tf.Tensor)) probs.dispose();
    }
    this.batchShape = this.logits.shape.slice();
  }

  get probs(): tf.Tensor {
    return tf.sigmoid(this.logits);
  }

  get mean(): tf.Tensor {
    return this.probs;
  }

  sample(sampleShape: number[] = [], seed?: number): tf.Tensor {
    checkSampleShape(sampleShape);
    return tf.tidy(() => {
      const u = tf.randomUniform([...sampleShape, ...this.batchShape], 0, 1, "float32", seed);
      return tf.cast(tf.less(u, tf.sigmoid(this.logits)), "float32");
    });
  }

  /**
   * log p(x) = x·l − softplus(l), written as −[max(l,0) − x·l + log(1 + e^{−|l|})]
   * so that neither exp overflows nor log sees 0 (the stable BCE-with-logits form).
   */
  logProb(value: tf.Tensor): tf.Tensor {
    return bernoulliLogProb(value, this.logits);
  }

  /** H = softplus(l) − σ(l)·l, elementwise. */
  entropy(): tf.Tensor {
    return tf.tidy(() => {
      const l = this.logits;
      const softplus = tf.add(tf.relu(l), tf.log1p(tf.exp(tf.neg(tf.abs(l)))));
      return tf.sub(softplus, tf.mul(tf.sigmoid(l), l));
    });
  }

  parameters(): tf.Tensor[] {
    return [this.logits];
  }
}

/**
 * x·l − softplus(l) with its gradient written out: ∂/∂l = x − σ(l), ∂/∂x = l.
 * Same values as autodiff of the stable form, with half the kernels (this term runs
 * on every pixel of every image of every training step).
 */
const bernoulliLogProb = tf.customGrad(((x: tf.Tensor, l: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, l]);
  const value = tf.tidy(() => tf.sub(tf.mul(x, l), tf.add(tf.relu(l), tf.log1p(tf.exp(tf.neg(tf.abs(l)))))));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ls] = saved;
      return [reduceTo(tf.mul(dy, ls), xs.shape), reduceTo(tf.mul(dy, tf.sub(xs, tf.sigmoid(ls))), ls.shape)];
    },
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
}) as any) as unknown as (x: tf.Tensor, l: tf.Tensor) => tf.Tensor;

/** Sums a broadcast gradient back down to `shape` (numpy broadcasting rules). */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.join() === shape.join()) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return tf.reshape(tf.sum(g, axes), shape);
}
