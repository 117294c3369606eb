/**
 * The Bernoulli log-likelihood in logits, log p(x) = x·l − softplus(l), summed over the
 * rightmost dims, as one op with its gradient written out: ∂/∂l = x − σ(l). Same values as
 * autodiff of the stable form, with a fraction of the kernels: the VAE's reconstruction
 * term runs on every pixel of every image of every training step (./backends.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { customGrad, reduceTo, sumRightmost } from "../tensors";
import { onTfjsNode } from "./backends";

/**
 * Σ over the rightmost `ndims` dims (none for 0) of x·l − softplus(l). The observation x
 * enters through the closure, not as an input: a Bernoulli's support is discrete, so
 * log p(x) is differentiated in the logits only (no gradient for the images is formed).
 */
export function bernoulliLogLikelihood(x: tf.Tensor, logits: tf.Tensor, ndims = 0): tf.Tensor {
  return customGrad<[tf.Tensor], tf.Tensor>((l, save) => {
    save([l, x]); // x too: a tidy around the caller may dispose it before the backward pass
    return {
      value: tf.tidy(() => sumRightmost(tf.sub(tf.mul(x, l), softplus(l)), ndims)),
      gradFunc: (dy, [savedL, savedX]) => {
        // dy has the kept (batch) shape; size-1 event dims let it broadcast over the summed ones.
        const d = ndims === 0 ? dy : tf.reshape(dy, [...dy.shape, ...Array<number>(ndims).fill(1)]);
        return reduceTo(tf.mul(d, tf.sub(savedX, tf.sigmoid(savedL))), savedL.shape);
      },
    };
  })(logits);
}

/**
 * softplus(l) = log(1 + eˡ) = max(l, 0) − log σ(|l|), where σ(|l|) ∈ [½, 1]: nothing
 * overflows and the log never sees 0 (the stable BCE-with-logits form, with the usual
 * log1p(e^{−|l|}) written as −log σ(|l|), because wasm vectorizes sigmoid and not exp or
 * log1p: for a 128×784 batch ~1 ms against ~2 ms for log1p(exp(·)) and ~3 ms for
 * tf.softplus). Rounding σ near 1 costs at most ~1e-7 absolute per entry, below the float32
 * resolution of a per-image sum. On tfjs-node tf.softplus is one kernel.
 */
function softplus(l: tf.Tensor): tf.Tensor {
  if (onTfjsNode()) return tf.softplus(l);
  return tf.sub(tf.relu(l), tf.log(tf.sigmoid(tf.abs(l))));
}
