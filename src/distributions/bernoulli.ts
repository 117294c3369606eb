/**
 * Bernoulli parameterized by logits (or probs), elementwise: the decoder p(x|z) of
 * a VAE on binarized images. Working in logits keeps log p finite where a sigmoid
 * would round to exactly 0 or 1 in float32.
 */
import * as tf from "@tensorflow/tfjs";
import { Distribution, TensorLike, asTensor, checkSampleShape, reduceTo, validateTensor } from "./distribution";
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

  /** log p(x) = x·l − softplus(l), elementwise, with a stable softplus (see `softplus` below). */
  logProb(value: tf.Tensor): tf.Tensor {
    return bernoulliLogProb(value, this.logits);
  }

  /**
   * Σ over the rightmost `ndims` dims of x·l − softplus(l), as one op whose backward
   * pass is dy ⊙ (x − σ(l)) directly (the VAE's reconstruction term over all pixels).
   */
  override logProbSummed(value: tf.Tensor, ndims: number): tf.Tensor {
    if (ndims === 0 || value.shape.join() !== this.logits.shape.join() || ndims > value.rank) return super.logProbSummed(value, ndims);
    return bernoulliLogProbSummed(ndims)(value, this.logits);
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
 * softplus(l) = log(1 + eˡ) = max(l, 0) − log σ(|l|), where σ(|l|) ∈ [½, 1]: nothing
 * overflows and the log never sees 0 (the stable BCE-with-logits form, with the usual
 * log1p(e^{−|l|}) written as −log σ(|l|)). Why this spelling: on wasm the sigmoid kernel
 * is vectorized and exp, log1p and softplus are not — for a 128×784 batch of logits
 * ~1 ms against ~2 ms for log1p(exp(·)) and ~3 ms for tf.softplus. Rounding σ near 1
 * costs at most ~1e-7 absolute per entry, below the float32 resolution of a per-image
 * sum. On tfjs-node all spellings cost about the same, and tf.softplus is one kernel.
 */
function softplus(l: tf.Tensor): tf.Tensor {
  if (tf.getBackend() === "tensorflow") return tf.softplus(l);
  return tf.sub(tf.relu(l), tf.log(tf.sigmoid(tf.abs(l))));
}

/**
 * x·l − softplus(l) with its gradient written out: ∂/∂l = x − σ(l), ∂/∂x = l.
 * Same values as autodiff of the stable form, with a fraction of the kernels (this term
 * runs on every pixel of every image of every training step).
 */
const bernoulliLogProb = tf.customGrad(((x: tf.Tensor, l: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, l]);
  const value = tf.tidy(() => tf.sub(tf.mul(x, l), softplus(l)));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ls] = saved;
      return [reduceTo(tf.mul(dy, ls), xs.shape), reduceTo(tf.mul(dy, tf.sub(xs, tf.sigmoid(ls))), ls.shape)];
    },
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
}) as any) as unknown as (x: tf.Tensor, l: tf.Tensor) => tf.Tensor;

const summedOps = new Map<number, (x: tf.Tensor, l: tf.Tensor) => tf.Tensor>();

/** Σ_{last ndims dims} [x·l − softplus(l)] for x and l of one shape, gradient written out as above. */
function bernoulliLogProbSummed(ndims: number): (x: tf.Tensor, l: tf.Tensor) => tf.Tensor {
  let op = summedOps.get(ndims);
  if (!op) {
    op = tf.customGrad(((x: tf.Tensor, l: tf.Tensor, save: tf.GradSaveFunc) => {
      save([x, l]);
      const axes = Array.from({ length: ndims }, (_, i) => x.rank - 1 - i);
      const value = tf.tidy(() => tf.sum(tf.sub(tf.mul(x, l), softplus(l)), axes));
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ls] = saved;
          // dy has the kept (batch) shape; give it size-1 event dims to broadcast.
          const d = tf.reshape(dy, [...dy.shape, ...Array<number>(ndims).fill(1)]);
          return [tf.mul(d, ls), tf.mul(d, tf.sub(xs, tf.sigmoid(ls)))];
        },
      };
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
    }) as any) as unknown as (x: tf.Tensor, l: tf.Tensor) => tf.Tensor;
    summedOps.set(ndims, op);
  }
  return op;
}
