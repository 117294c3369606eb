/**
 * The shape of a VAE: its layer widths and how its dense layers differentiate, checked
 * (and its size counted) before any weight is allocated.
 */
import { ArgumentError, assertInteger } from "../errors";
import { DENSE_GRADIENTS, type DenseGradient } from "../fast/dense";

export interface VaeConfig {
  /** Pixels per image (784 for 28×28). */
  inputDim: number;
  /** Hidden layer widths of the encoder; the decoder mirrors them. */
  hidden: number[];
  latentDim: number;
  /** How the dense layers differentiate (src/fast/dense.ts); "auto" (default) picks by backend. */
  gradient?: DenseGradient;
}

export const DEFAULT_VAE_CONFIG: VaeConfig = { inputDim: 784, hidden: [400], latentDim: 20, gradient: "auto" };

/** The most values one weight matrix may hold: 2³¹ − 1 float32s, 8 GiB (beyond it typed arrays and kernels give up). */
const MAX_LAYER_VALUES = 2 ** 31 - 1;

export function assertVaeConfig(config: VaeConfig): void {
  assertInteger("inputDim", config.inputDim, 1);
  assertInteger("latentDim", config.latentDim, 1);
  if (!Array.isArray(config.hidden)) throw new ArgumentError("hidden", "must be an array of layer widths");
  config.hidden.forEach((h, i) => {
    assertInteger(`hidden[${i}]`, h, 1);
  });
  if (config.gradient !== undefined && !DENSE_GRADIENTS.includes(config.gradient)) {
    throw new ArgumentError("gradient", `must be "auto", "transposed", "flags" or "builtin", got "${config.gradient}"`);
  }
  // Each weight matrix fanIn × fanOut, named by the size that makes it too large, before anything is allocated.
  const widths: [string, number][] = [["inputDim", config.inputDim], ...config.hidden.map((h, i): [string, number] => [`hidden[${i}]`, h])];
  const latent: [string, number] = ["latentDim", config.latentDim];
  for (const [a, b] of pairs(widths.concat([latent]))) {
    if (a[1] * b[1] > MAX_LAYER_VALUES) {
      const [named] = [a, b].sort((p, q) => q[1] - p[1]);
      throw new ArgumentError(
        named[0],
        `${named[1]} gives a ${a[1]}×${b[1]} weight matrix (${(a[1] * b[1]).toExponential(2)} values); a layer may hold at most ${MAX_LAYER_VALUES} (8 GiB)`,
      );
    }
  }
}

/** Weights and biases of a VAE of this shape, counted without building it. */
export function vaeParameterCount(config: VaeConfig): number {
  const { inputDim, hidden, latentDim } = config;
  const dense = ([fanIn, fanOut]: [number, number]) => fanIn * fanOut + fanOut;
  const top = hidden.length ? hidden[hidden.length - 1] : inputDim;
  const encoder = pairs([inputDim, ...hidden]).map(dense);
  const decoder = pairs([latentDim, ...hidden.slice().reverse(), inputDim]).map(dense);
  return [...encoder, ...decoder].reduce((a, b) => a + b, 0) + 2 * dense([top, latentDim]);
}

/** The architecture as its widths, e.g. "784-400-20". */
export function architecture(config: VaeConfig): string {
  return `${config.inputDim}-${config.hidden.join("-")}-${config.latentDim}`;
}

/** Consecutive pairs: the (fanIn, fanOut) of each encoder layer; the decoder mirrors them. */
export function pairs<T>(xs: T[]): [T, T][] {
  return xs.slice(1).map((x, i) => [xs[i], x]);
}
