/**
 * Bernoulli parameterized by logits (or probs), elementwise: the decoder p(x|z) of
 * a VAE on binarized images. Working in logits keeps log p finite where a sigmoid
 * would round to exactly 0 or 1 in float32.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError } from "../errors";
import { bernoulliLogLikelihood } from "../fast/bernoulli-loglik";
import { tfjsSeed } from "../random";
import { asTensor, checkSampleShape, Distribution, type DistributionOptions, type TensorLike, validateTensor } from "./distribution";

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
      const u = tf.randomUniform([...sampleShape, ...this.batchShape], 0, 1, "float32", tfjsSeed(seed));
      return tf.cast(tf.less(u, tf.sigmoid(this.logits)), "float32");
    });
  }

  /** log p(x) = x·l − softplus(l), elementwise; differentiable in the logits, x is data. */
  logProb(value: tf.Tensor): tf.Tensor {
    return bernoulliLogLikelihood(value, this.logits);
  }

  /** Σ over the rightmost `ndims` dims of log p(x), as one op (the VAE's reconstruction term over all pixels). */
  override logProbSummed(value: tf.Tensor, ndims: number): tf.Tensor {
    if (ndims === 0 || value.shape.join() !== this.logits.shape.join() || ndims > value.rank) return super.logProbSummed(value, ndims);
    return bernoulliLogLikelihood(value, this.logits, ndims);
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
