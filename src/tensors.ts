/**
 * Small tfjs helpers that the distributions, the fast paths (src/fast) and the VAE share:
 * summing event dims away, summing a broadcast gradient back to its input's shape, a typed
 * tf.customGrad, and the named-tensor pair of optimizer state and checkpoints.
 */
import * as tf from "@tensorflow/tfjs";

/** A tensor with its name: optimizer state and checkpoint entries (tfjs's own type is not exported). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** Sums the rightmost `ndims` dims of `t` away (identity for 0). */
export function sumRightmost(t: tf.Tensor, ndims: number): tf.Tensor {
  if (ndims === 0) return t;
  return tf.sum(
    t,
    Array.from({ length: ndims }, (_, i) => t.rank - 1 - i),
  );
}

/** Sums a broadcast gradient back down to `shape` (numpy broadcasting rules). */
export function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.join() === shape.join()) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return tf.reshape(tf.sum(g, axes), shape);
}

/** What a customGrad body returns: the value, and the gradient for each input from dy and the saved tensors. */
export interface CustomGradResult<Out extends tf.Tensor = tf.Tensor> {
  value: Out;
  gradFunc: (dy: Out, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * tf.customGrad with the types its callers mean: `f` takes the differentiable inputs and a
 * `save` function as its last argument; the result takes the inputs alone. (tfjs's own
 * typing wants a variadic function of tensors and loses the output's rank.)
 */
export function customGrad<In extends tf.Tensor[], Out extends tf.Tensor>(
  f: (...args: [...In, tf.GradSaveFunc]) => CustomGradResult<Out>,
): (...inputs: In) => Out {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: In) => Out;
}
