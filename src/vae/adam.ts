/**
 * Adam (Kingma & Ba 2015), the update tf.train.adam makes, for every parameter θ with
 * gradient g at step t:
 *
 *   m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,   θ ← θ − lr · m̂ / (√v̂ + ε),
 *   m̂ = m / (1−β₁ᵗ),     v̂ = v / (1−β₂ᵗ).
 *
 * Two implementations make it, both fast paths of their own: NativeAdam
 * (src/fast/native-adam.ts, TensorFlow's fused kernel) on tfjs-node, LeanAdam
 * (src/fast/lean-adam.ts, few tfjs kernels) elsewhere. Both keep tf.train.adam's state
 * layout, so a checkpoint written with one resumes with the other.
 */
import { LeanAdam } from "../fast/lean-adam";
import { NativeAdam } from "../fast/native-adam";

/** Adam for the current backend: NativeAdam on tfjs-node, LeanAdam elsewhere. */
export function createAdam(learningRate: number): LeanAdam | NativeAdam {
  return NativeAdam.available() ? new NativeAdam(learningRate) : new LeanAdam(learningRate);
}
