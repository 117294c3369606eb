/**
 * A Gaussian VAE with MLP encoder and decoder (default 784-400-20, the classic
 * PyTorch example's shape):
 *
 *   q_φ(z|x) = N(z; μ_φ(x), diag σ_φ(x)²)      encoder, σ = exp(½ · logvar)
 *   p(z)     = N(0, I)                           prior
 *   p_θ(x|z) = Π_d Bernoulli(x_d; logits_θ(z))   decoder
 *
 * and the loss is minus equation (5.9), in nats per example:
 *
 *   −L(θ,φ;x) = −E_{z~q_φ(z|x)}[log p_θ(x|z)] + KL(q_φ(z|x) ‖ p(z)),
 *
 * with the expectation estimated by one reparameterized draw (section 6) and the KL
 * in closed form from the distribution library's registry.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError, checkInteger } from "../errors";
import { Rng } from "../random";
import { Normal } from "../distributions/normal";
import { Bernoulli } from "../distributions/bernoulli";
import { Independent } from "../distributions/independent";
import { kl } from "../distributions/kl";
import { instanceTag } from "../platform";
import { checkPixels } from "./data";

export interface VaeConfig {
  /** Pixels per image (784 for 28×28). */
  inputDim: number;
  /** Hidden layer widths of the encoder; the decoder mirrors them. */
  hidden: number[];
  latentDim: number;
  /**
   * How dense layers differentiate: "transposed" (hand-written backward pass) materializes
   * Wᵀ and xᵀ with tf.transpose and multiplies plainly (fast on wasm, whose matMul with a
   * transposed operand is an order of magnitude slower); "flags" is the same backward
   * pass with the transposes passed as matMul flags; "builtin" uses tfjs's own matMul
   * gradient; "auto" (default) picks by backend, see resolveGradientMode.
   */
  gradient?: "auto" | "transposed" | "flags" | "builtin";
}

export const DEFAULT_VAE_CONFIG: VaeConfig = { inputDim: 784, hidden: [400], latentDim: 20, gradient: "auto" };

/**
 * "auto": the explicit transposes pay off where a transposed matMul is slow (wasm,
 * cpu); native TensorFlow multiplies transposed operands at full speed, and there the
 * extra Transpose kernels only cost time, so it takes "flags" (which also beat tfjs's
 * own gradient there, by skipping the reshapes around each product; `npm run bench`).
 */
export function resolveGradientMode(mode: VaeConfig["gradient"]): GradientMode {
  if (mode === "transposed" || mode === "flags" || mode === "builtin") return mode;
  return tf.getBackend() === "tensorflow" ? "flags" : "transposed";
}

export type GradientMode = "transposed" | "flags" | "builtin";

/** The most values one weight matrix may hold: 2³¹ − 1 float32s, 8 GiB (beyond it typed arrays and kernels give up). */
export const MAX_LAYER_VALUES = 2 ** 31 - 1;

export function checkVaeConfig(config: VaeConfig): void {
  checkInteger("inputDim", config.inputDim, 1);
  checkInteger("latentDim", config.latentDim, 1);
  if (!Array.isArray(config.hidden)) throw new ArgumentError("hidden", "must be an array of layer widths");
  config.hidden.forEach((h, i) => checkInteger(`hidden[${i}]`, h, 1));
  if (config.gradient !== undefined && !["auto", "transposed", "flags", "builtin"].includes(config.gradient)) {
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

/** Consecutive pairs: the (fanIn, fanOut) of each encoder layer; the decoder mirrors them. */
function pairs<T>(xs: T[]): [T, T][] {
  return xs.slice(1).map((x, i) => [xs[i], x]);
}

/** Rejects anything but float32 (tfjs-node would fail deep inside with "Invalid TF_Status: 3"). */
function checkFloat32(name: string, t: tf.Tensor): void {
  if (t.dtype !== "float32") throw new ArgumentError(name, `must be a float32 tensor, got ${t.dtype}`);
}

type Activation = "relu" | "linear";
type DenseFn = (x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
type Transposes = "explicit" | "flags";

/** a·b (optionally transposed) as one BatchMatMul kernel; tf.matMul wraps it in reshapes to 3-D, each a kernel call on tfjs-node. */
function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  return tf.engine().runKernel("BatchMatMul", { a, b }, { transposeA, transposeB }) as tf.Tensor2D;
}

/**
 * act(x W + b). tf.fused.matMul would run separate matMul and add kernels whenever
 * gradients are recorded; inside customGrad nothing is recorded, so on wasm the fused
 * product-plus-bias kernel runs directly. The relu stays its own kernel: with wasm's
 * fused relu, NaN weights gave a finite loss (NaN clamped away) and slipped past the
 * trainer's NaN guard.
 * (tfjs-node has no fused kernel: its _FusedMatMul is these same ops plus reshapes.)
 */
function fusedAffine(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, activation: Activation): tf.Tensor2D {
  let y: tf.Tensor2D;
  if (tf.getBackend() === "tensorflow") {
    y = tf.add(matMul2d(x, W), b);
  } else {
    const [n, k] = x.shape;
    const m = W.shape[1];
    const y3 = tf.engine().runKernel(
      "_FusedMatMul",
      { a: tf.reshape(x, [1, n, k]), b: tf.reshape(W, [1, k, m]), bias: b },
      { transposeA: false, transposeB: false, activation: "linear" },
    ) as tf.Tensor3D;
    y = tf.reshape(y3, [n, m]);
  }
  return activation === "relu" ? tf.relu(y) : y;
}

/**
 * y = act(x W + b) with a hand-written backward pass:
 *   dx = dy' · Wᵀ,   dW = xᵀ · dy',   db = Σ_rows dy',   dy' = dy ⊙ act'(y),
 * mathematically the same gradient as tfjs's. `transposes` says how Wᵀ and xᵀ enter the
 * products: "explicit" materializes them with tf.transpose and multiplies plainly (wasm's
 * matMul with a transposed operand is an order of magnitude slower); "flags" passes them
 * as the kernel's transpose flags (native TensorFlow handles those at full speed).
 * On the data layer (`inputGrad` false) x is held by the closure rather than passed as an
 * input, so no gradient for the images is ever formed.
 */
function makeDense(activation: Activation, inputGrad: boolean, transposes: Transposes): DenseFn {
  const forward = (x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const y = fusedAffine(x, W, b, activation);
    // tfjs copies every saved tensor; W is a variable that outlives the step, so the
    // backward pass reads it directly instead of saving a copy.
    save([x, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor2D, tf.Tensor2D];
        // relu'(y) = 1 where y > 0, else 0. tf.step is one kernel on wasm but five on
        // tfjs-node, where sign(y), equal for y ≥ 0, is one (and slower on wasm).
        const g = activation === "relu" ? (tf.mul(dy, tf.getBackend() === "tensorflow" ? tf.sign(ys) : tf.step(ys)) as tf.Tensor2D) : dy;
        const explicit = transposes === "explicit";
        const dW = explicit ? matMul2d(tf.transpose(xs), g) : matMul2d(xs, g, true, false);
        // Column sums: wasm's Sum reduces the last axis only, so tf.sum(g, 0) transposes
        // first; a [1, n] row of ones times g is ~5× cheaper there (and slower on TensorFlow).
        const db = explicit ? tf.reshape(matMul2d(tf.ones([1, g.shape[0]]) as tf.Tensor2D, g), [g.shape[1]]) : tf.sum(g, 0);
        if (!inputGrad) return [dW, db];
        const dx = explicit ? matMul2d(g, tf.transpose(W)) : matMul2d(g, W, false, true);
        return [dx, dW, db];
      },
    };
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const custom = (f: unknown) => tf.customGrad(f as any) as unknown as (...args: tf.Tensor[]) => tf.Tensor2D;
  if (inputGrad) return custom(forward) as DenseFn;
  return (x, W, b) => custom((Wi: tf.Tensor2D, bi: tf.Tensor1D, save: tf.GradSaveFunc) => forward(x, Wi, bi, save))(W, b);
}

const DENSE: Record<Transposes, Record<Activation, [onHidden: DenseFn, onData: DenseFn]>> = {
  explicit: {
    relu: [makeDense("relu", true, "explicit"), makeDense("relu", false, "explicit")],
    linear: [makeDense("linear", true, "explicit"), makeDense("linear", false, "explicit")],
  },
  flags: {
    relu: [makeDense("relu", true, "flags"), makeDense("relu", false, "flags")],
    linear: [makeDense("linear", true, "flags"), makeDense("linear", false, "flags")],
  },
};

interface Layer {
  W: tf.Variable<tf.Rank.R2>;
  b: tf.Variable<tf.Rank.R1>;
}

export interface VaeLoss {
  /** Mean over the batch of −ELBO = −recon + kl, nats per example (a scalar). */
  loss: tf.Scalar;
  /** Per-example E_q[log p(x|z)] (one draw). */
  recon: tf.Tensor1D;
  /** Per-example KL(q(z|x) ‖ p(z)). */
  kl: tf.Tensor1D;
}

export class Vae {
  readonly config: Required<VaeConfig>;
  private readonly encoderLayers: Layer[];
  private readonly locHead: Layer;
  private readonly logVarHead: Layer;
  private readonly decoderLayers: Layer[];
  private readonly outHead: Layer;
  readonly prior: Independent<Normal>;
  /** The dense-layer gradient in use ("auto" resolved against the backend at construction). */
  readonly gradientMode: GradientMode;

  /** Weights initialized like torch.nn.Linear: W, b ~ U(−1/√fan_in, 1/√fan_in), seeded. */
  constructor(config: Partial<VaeConfig> = {}, seed = 0) {
    const full = { ...DEFAULT_VAE_CONFIG, ...config } as Required<VaeConfig>;
    checkVaeConfig(full);
    this.config = { ...full, hidden: full.hidden.slice() };
    this.gradientMode = resolveGradientMode(full.gradient);
    const rng = new Rng(`vae-init/${seed}`);
    let id = 0;
    const layer = (fanIn: number, fanOut: number): Layer => {
      const bound = 1 / Math.sqrt(fanIn);
      const w = new Float32Array(fanIn * fanOut);
      for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * bound;
      const bias = new Float32Array(fanOut);
      for (let i = 0; i < bias.length; i++) bias[i] = (2 * rng.uniform() - 1) * bound;
      id++;
      // tf.variable shares its initial tensor's data and leaves that tensor alive; tidy
      // disposes it, so the variable is the data's only owner (and dispose() frees it).
      return tf.tidy(() => ({
        W: tf.variable(tf.tensor2d(w, [fanIn, fanOut]), true, `vae_W${id}_${uniqueSuffix()}`) as tf.Variable<tf.Rank.R2>,
        b: tf.variable(tf.tensor1d(bias), true, `vae_b${id}_${uniqueSuffix()}`) as tf.Variable<tf.Rank.R1>,
      }));
    };
    const { inputDim, hidden, latentDim } = this.config;
    const widths = [inputDim, ...hidden];
    this.encoderLayers = hidden.map((h, i) => layer(widths[i], h));
    const top = widths[widths.length - 1];
    this.locHead = layer(top, latentDim);
    this.logVarHead = layer(top, latentDim);
    const decWidths = [latentDim, ...hidden.slice().reverse()];
    this.decoderLayers = decWidths.slice(1).map((h, i) => layer(decWidths[i], h));
    this.outHead = layer(decWidths[decWidths.length - 1], inputDim);
    this.prior = new Independent(Normal.standard([latentDim]), 1);
  }

  private dense(x: tf.Tensor2D, l: Layer, activation: Activation, onData = false): tf.Tensor2D {
    if (this.gradientMode === "builtin") {
      return tf.fused.matMul({ a: x, b: l.W, bias: l.b, activation }) as tf.Tensor2D;
    }
    return DENSE[this.gradientMode === "transposed" ? "explicit" : "flags"][activation][onData ? 1 : 0](x, l.W, l.b);
  }

  /** q_φ(z|x): a diagonal Gaussian with batch shape [n] and event shape [latentDim]. */
  encode(x: tf.Tensor2D): Independent<Normal> {
    if (x.rank !== 2 || x.shape[1] !== this.config.inputDim) {
      throw new ArgumentError("x", `must have shape [n, ${this.config.inputDim}], got [${x.shape}]`);
    }
    checkFloat32("x", x);
    // tidy keeps only tensors, so compute the parameters inside it and wrap them outside.
    const [loc, scale] = tf.tidy(() => {
      let h: tf.Tensor2D = x;
      this.encoderLayers.forEach((l, i) => (h = this.dense(h, l, "relu", i === 0)));
      const onData = this.encoderLayers.length === 0;
      const logVar = this.dense(h, this.logVarHead, "linear", onData);
      return [this.dense(h, this.locHead, "linear", onData), tf.exp(tf.mul(0.5, logVar))];
    });
    return Normal.diagonal(loc, scale, 1, { validateArgs: false });
  }

  /** Decoder logits for latent codes z of shape [n, latentDim]. */
  decoderLogits(z: tf.Tensor2D): tf.Tensor2D {
    if (z.rank !== 2 || z.shape[1] !== this.config.latentDim) {
      throw new ArgumentError("z", `must have shape [n, ${this.config.latentDim}], got [${z.shape}]`);
    }
    checkFloat32("z", z);
    return tf.tidy(() => {
      let h: tf.Tensor2D = z;
      for (const l of this.decoderLayers) h = this.dense(h, l, "relu");
      return this.dense(h, this.outHead, "linear");
    });
  }

  /** p_θ(x|z): independent Bernoulli pixels, batch shape [n], event shape [inputDim]. */
  decode(z: tf.Tensor2D): Independent<Bernoulli> {
    return new Independent(new Bernoulli({ logits: this.decoderLogits(z) }, { validateArgs: false }), 1);
  }

  /**
   * Minus equation (5.9) for a batch x ∈ {0,1}^{n×D} (or [0,1] intensities):
   * recon = log p_θ(x|z) at z = μ + σ⊙ε (one draw, seeded), kl = KL(q_φ(z|x) ‖ p(z)).
   * Pixels outside [0, 1] (or NaN) are rejected; that check reads x back from the backend,
   * so callers that have checked their images once (the trainer, the evaluations) pass
   * `validateArgs: false`.
   */
  loss(x: tf.Tensor2D, seed?: number, options: { validateArgs?: boolean } = {}): VaeLoss {
    if (options.validateArgs ?? true) {
      checkFloat32("x", x);
      checkPixels("x", x.dataSync());
    }
    return tf.tidy(() => {
      const q = this.encode(x);
      const z = q.rsample([], seed) as tf.Tensor2D;
      const recon = this.decode(z).logProb(x) as tf.Tensor1D;
      const klTerm = kl(q, this.prior) as tf.Tensor1D;
      const loss = tf.mean(tf.sub(klTerm, recon)) as tf.Scalar;
      return { loss, recon, kl: klTerm };
    });
  }

  /** Trainable variables in a fixed order (checkpoint order). */
  variables(): tf.Variable[] {
    const all = [...this.encoderLayers, this.locHead, this.logVarHead, ...this.decoderLayers, this.outHead];
    return all.flatMap((l) => [l.W, l.b]);
  }

  /** Stable names for the weights: enc0, …, loc, logvar, dec0, …, out. */
  weightNames(): string[] {
    const names = [
      ...this.encoderLayers.map((_, i) => `enc${i}`),
      "loc",
      "logvar",
      ...this.decoderLayers.map((_, i) => `dec${i}`),
      "out",
    ];
    return names.flatMap((n) => [`${n}/kernel`, `${n}/bias`]);
  }

  /** Copies of the weights as named tensors (caller disposes). */
  getWeights(): tf.NamedTensorMap {
    const names = this.weightNames();
    const out: tf.NamedTensorMap = {};
    this.variables().forEach((v, i) => (out[names[i]] = tf.clone(v)));
    return out;
  }

  setWeights(weights: tf.NamedTensorMap): void {
    const names = this.weightNames();
    this.variables().forEach((v, i) => {
      const w = weights[names[i]];
      if (!w) throw new ArgumentError("weights", `missing ${names[i]}`);
      if (w.shape.join() !== v.shape.join()) throw new ArgumentError("weights", `${names[i]} has shape [${w.shape}], expected [${v.shape}]`);
      v.assign(w);
    });
  }

  parameterCount(): number {
    return vaeParameterCount(this.config);
  }

  dispose(): void {
    tf.dispose(this.variables());
    this.prior.dispose();
  }
}

let counter = 0;
function uniqueSuffix(): string {
  return `${instanceTag}_${counter++}`;
}
