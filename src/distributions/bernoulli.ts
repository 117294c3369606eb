/**
 * Bernoulli parameterized by logits (or probs), elementwise: the decoder p(x|z) of
 * a VAE on binarized images. Working in logits keeps log p finite where a sigmoid
 * would round to exactly 0 or 1 in float32.
 */
import * as tf from "@tensorflow/tfjs";
import { Distribution, TensorLike, asTensor, checkSampleShape, reduceTo, sumRightmost, validateTensor } from "./distribution";
import { DistributionOptions } from "./normal";
import { ArgumentError } from "../errors";
import { tfjsSeed } from "../random";

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

  /** log p(x) = x·l − softplus(l), elementwise, with a stable softplus (see `softplus` below); differentiable in the logits, x is data. */
  logProb(value: tf.Tensor): tf.Tensor {
    return bernoulliLogProb(value, this.logits);
  }

  /**
   * Σ over the rightmost `ndims` dims of x·l − softplus(l), as one op whose backward
   * pass is dy ⊙ (x − σ(l)) directly (the VAE's reconstruction term over all pixels).
   */
  override logProbSummed(value: tf.Tensor, ndims: number): tf.Tensor {
    if (ndims === 0 || value.shape.join() !== this.logits.shape.join() || ndims > value.rank) return super.logProbSummed(value, ndims);
    return bernoulliLogProb(value, this.logits, ndims);
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
 * Σ over the rightmost `ndims` dims (none for 0) of x·l − softplus(l), with its gradient
 * written out: ∂/∂l = x − σ(l). Same values as autodiff of the stable form, with a
 * fraction of the kernels (this term runs on every pixel of every image of every training
 * step). The observation x enters through the closure, not as an input: a Bernoulli's
 * support is discrete, so log p(x) is differentiated in the parameters only (no gradient
 * for the images is ever formed).
 */
function bernoulliLogProb(x: tf.Tensor, l: tf.Tensor, ndims = 0): tf.Tensor {
  return logitsOnly((ls: tf.Tensor, save: tf.GradSaveFunc) => {
    save([ls, x]); // x too: a tidy around the caller may dispose it before the backward pass
    return {
      value: tf.tidy(() => sumRightmost(tf.sub(tf.mul(x, ls), softplus(ls)), ndims)),
      gradFunc: (dy: tf.Tensor, [savedL, savedX]: tf.Tensor[]) => {
        // dy has the kept (batch) shape; size-1 event dims let it broadcast over the summed ones.
        const d = ndims === 0 ? dy : tf.reshape(dy, [...dy.shape, ...Array<number>(ndims).fill(1)]);
        return reduceTo(tf.mul(d, tf.sub(savedX, tf.sigmoid(savedL))), savedL.shape);
      },
    };
  })(l);
}

type LogitsOnlyFn = (l: tf.Tensor, save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const logitsOnly = (f: LogitsOnlyFn) => tf.customGrad(f as any) as unknown as (l: tf.Tensor) => tf.Tensor;
