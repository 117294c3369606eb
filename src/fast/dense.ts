/**
 * The dense layer y = act(x W + b), with a hand-written backward pass:
 *
 *   dy' = dy ⊙ act'(y),   dx = dy' · Wᵀ,   dW = xᵀ · dy',   db = Σ_rows dy',
 *
 * mathematically the gradient tfjs's autodiff forms, in fewer and cheaper kernels. How
 * Wᵀ and xᵀ enter the products is the gradient mode (why each backend wants its own:
 * ./backends.ts):
 *
 *   "transposed"  materializes them with tf.transpose and multiplies plainly (wasm, cpu)
 *   "flags"       passes them as the product kernel's transpose flags (tfjs-node)
 *   "builtin"     tfjs's own tf.fused.matMul and its autodiff (the reference)
 *   "auto"        "flags" on tfjs-node, else "transposed"
 */
import * as tf from "@tensorflow/tfjs";
import { customGrad } from "../tensors";
import { onTfjsNode } from "./backends";

export type DenseGradient = "auto" | "transposed" | "flags" | "builtin";
export type GradientMode = Exclude<DenseGradient, "auto">;
export const DENSE_GRADIENTS: readonly DenseGradient[] = ["auto", "transposed", "flags", "builtin"];

export type Activation = "relu" | "linear";

export interface DenseLayer {
  W: tf.Variable<tf.Rank.R2>;
  b: tf.Variable<tf.Rank.R1>;
}

/** The mode "auto" stands for on the active backend. */
export function resolveGradientMode(mode: DenseGradient | undefined): GradientMode {
  if (mode === "transposed" || mode === "flags" || mode === "builtin") return mode;
  return onTfjsNode() ? "flags" : "transposed";
}

/**
 * act(x W + b) for a layer. `onData` marks the first layer, whose input is the images:
 * there x is held by the closure rather than differentiated, so no gradient for the
 * images is ever formed.
 */
export function dense(x: tf.Tensor2D, layer: DenseLayer, activation: Activation, mode: GradientMode, onData = false): tf.Tensor2D {
  if (mode === "builtin") return tf.fused.matMul({ a: x, b: layer.W, bias: layer.b, activation }) as tf.Tensor2D;
  return DENSE[mode][activation][onData ? 1 : 0](x, layer.W, layer.b);
}

type DenseFn = (x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/** a·b (optionally transposed) as one BatchMatMul kernel, without the reshapes to 3-D around tf.matMul. */
function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  return tf.engine().runKernel("BatchMatMul", { a, b }, { transposeA, transposeB }) as tf.Tensor2D;
}

/**
 * act(x W + b). tf.fused.matMul would run separate matMul and add kernels whenever
 * gradients are recorded; inside customGrad nothing is recorded, so on wasm the fused
 * product-plus-bias kernel runs directly. The relu stays its own kernel: with wasm's
 * fused relu, NaN weights gave a finite loss (NaN clamped away) and slipped past the
 * trainer's NaN guard.
 */
function affine(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, activation: Activation): tf.Tensor2D {
  let y: tf.Tensor2D;
  if (onTfjsNode()) {
    y = tf.add(matMul2d(x, W), b);
  } else {
    const [n, k] = x.shape;
    const m = W.shape[1];
    const y3 = tf
      .engine()
      .runKernel(
        "_FusedMatMul",
        { a: tf.reshape(x, [1, n, k]), b: tf.reshape(W, [1, k, m]), bias: b },
        { transposeA: false, transposeB: false, activation: "linear" },
      ) as tf.Tensor3D;
    y = tf.reshape(y3, [n, m]);
  }
  return activation === "relu" ? tf.relu(y) : y;
}

function makeDense(activation: Activation, inputGrad: boolean, mode: "transposed" | "flags"): DenseFn {
  const explicit = mode === "transposed";
  const forward = (x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const y = affine(x, W, b, activation);
    // tfjs copies every saved tensor; W is a variable that outlives the step, so the
    // backward pass reads it directly instead of saving a copy.
    save([x, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor2D, tf.Tensor2D];
        // relu'(y) = 1 where y > 0, else 0: sign(y) on tfjs-node, step(y) elsewhere.
        const g = activation === "relu" ? (tf.mul(dy, onTfjsNode() ? tf.sign(ys) : tf.step(ys)) as tf.Tensor2D) : dy;
        const dW = explicit ? matMul2d(tf.transpose(xs), g) : matMul2d(xs, g, true, false);
        // Column sums: a row of ones times g where Sum reduces the last axis only.
        const db = explicit ? tf.reshape(matMul2d(tf.ones([1, g.shape[0]]) as tf.Tensor2D, g), [g.shape[1]]) : tf.sum(g, 0);
        if (!inputGrad) return [dW, db];
        const dx = explicit ? matMul2d(g, tf.transpose(W)) : matMul2d(g, W, false, true);
        return [dx, dW, db];
      },
    };
  };
  if (inputGrad) return customGrad<[tf.Tensor2D, tf.Tensor2D, tf.Tensor1D], tf.Tensor2D>(forward);
  return (x, W, b) => customGrad<[tf.Tensor2D, tf.Tensor1D], tf.Tensor2D>((Wi, bi, save) => forward(x, Wi, bi, save))(W, b);
}

const DENSE: Record<"transposed" | "flags", Record<Activation, [onHidden: DenseFn, onData: DenseFn]>> = {
  transposed: {
    relu: [makeDense("relu", true, "transposed"), makeDense("relu", false, "transposed")],
    linear: [makeDense("linear", true, "transposed"), makeDense("linear", false, "transposed")],
  },
  flags: {
    relu: [makeDense("relu", true, "flags"), makeDense("relu", false, "flags")],
    linear: [makeDense("linear", true, "flags"), makeDense("linear", false, "flags")],
  },
};
