/**
 * How the tfjs backends differ, and why the fast paths in this folder branch on them.
 * (Which backend runs is chosen once, in src/backend.ts.) Measured with `npm run bench`
 * on the VAE's 784-400-20 step, batch 128:
 *
 * WebAssembly (XNNPACK, one thread; also plain JS "cpu"): the products dominate.
 *   - A matMul with a transposed operand is ~10× slower than a plain one, so the dense
 *     layers' backward pass materializes Wᵀ and xᵀ and multiplies plainly (dense.ts).
 *   - Sum reduces the last axis only (a column sum transposes first), so column sums
 *     are a [1, n] row of ones times the matrix, ~5× cheaper (dense.ts).
 *   - The fused product-plus-bias kernel runs when no gradient is recorded (dense.ts).
 *   - sigmoid is vectorized, exp/log1p/softplus are not: softplus is spelled with a
 *     sigmoid (bernoulli-loglik.ts); tf.step is one kernel (dense.ts).
 *
 * tfjs-node (native TensorFlow, multithreaded): kernel calls dominate.
 *   - Every kernel call costs tens of microseconds whatever its size, and every
 *     elementwise kernel is a full pass over memory: the Bernoulli log-likelihood and the
 *     KL to N(0, I) carry hand-written gradients with few kernels (bernoulli-loglik.ts,
 *     standard-normal-kl.ts), small Adam variables are updated together (lean-adam.ts),
 *     and Adam is TensorFlow's fused ResourceApplyAdam (native-adam.ts).
 *   - Transposed operands multiply at full speed: the dense backward pass passes them
 *     as matMul flags, and calls BatchMatMul directly (tf.matMul adds reshapes, each a
 *     kernel call). There is no fused product-plus-bias kernel.
 *   - tf.step is five kernels, sign (equal to it on a relu's output) one; tf.softplus is one.
 *   - So the trainer runs a whole step as one TensorFlow graph there (graph-step.ts): one
 *     call per step instead of ~150. VAE_GRAPH=0 keeps the eager step.
 */
import * as tf from "@tensorflow/tfjs";

/** True when the active backend is tfjs-node (native TensorFlow). */
export function onTfjsNode(): boolean {
  return tf.getBackend() === "tensorflow";
}
