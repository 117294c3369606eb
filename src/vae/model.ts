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
 * in closed form from the distribution library's registry. The dense layers' fast
 * backward pass is src/fast/dense.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { Bernoulli } from "../distributions/bernoulli";
import { Independent } from "../distributions/independent";
import { kl } from "../distributions/kl";
import { Normal, standardNormalNoise } from "../distributions/normal";
import { ArgumentError } from "../errors";
import { type DenseLayer, dense, type GradientMode, resolveGradientMode } from "../fast/dense";
import { instanceTag } from "../platform";
import { Rng } from "../random";
import { assertVaeConfig, DEFAULT_VAE_CONFIG, pairs, type VaeConfig, vaeParameterCount } from "./config";
import { assertPixels } from "./data";

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
  private readonly encoderLayers: DenseLayer[];
  private readonly locHead: DenseLayer;
  private readonly logVarHead: DenseLayer;
  private readonly decoderLayers: DenseLayer[];
  private readonly outHead: DenseLayer;
  readonly prior: Independent<Normal>;
  /** The dense-layer gradient in use ("auto" resolved against the backend at construction). */
  readonly gradientMode: GradientMode;

  /** Weights initialized like torch.nn.Linear: W, b ~ U(−1/√fan_in, 1/√fan_in), seeded. */
  constructor(config: Partial<VaeConfig> = {}, seed = 0) {
    const full = { ...DEFAULT_VAE_CONFIG, ...config } as Required<VaeConfig>;
    assertVaeConfig(full);
    this.config = { ...full, hidden: full.hidden.slice() };
    this.gradientMode = resolveGradientMode(full.gradient);
    const { inputDim, hidden, latentDim } = this.config;
    const linear = linearLayers(new Rng(`vae-init/${seed}`));
    this.encoderLayers = pairs([inputDim, ...hidden]).map(linear);
    const top = [inputDim, ...hidden][hidden.length];
    this.locHead = linear([top, latentDim]);
    this.logVarHead = linear([top, latentDim]);
    const decoderWidths = [latentDim, ...hidden.slice().reverse()];
    this.decoderLayers = pairs(decoderWidths).map(linear);
    this.outHead = linear([decoderWidths[decoderWidths.length - 1], inputDim]);
    this.prior = new Independent(Normal.standard([latentDim]), 1);
  }

  /** q_φ(z|x): a diagonal Gaussian with batch shape [n] and event shape [latentDim]. */
  encode(x: tf.Tensor2D): Independent<Normal> {
    checkBatch("x", x, this.config.inputDim);
    const mode = this.gradientMode;
    // tidy keeps only tensors, so compute the parameters inside it and wrap them outside.
    const [loc, scale] = tf.tidy(() => {
      let h: tf.Tensor2D = x;
      this.encoderLayers.forEach((l, i) => {
        h = dense(h, l, "relu", mode, i === 0);
      });
      const onData = this.encoderLayers.length === 0;
      const logVar = dense(h, this.logVarHead, "linear", mode, onData);
      return [dense(h, this.locHead, "linear", mode, onData), tf.exp(tf.mul(0.5, logVar))];
    });
    return Normal.diagonal(loc, scale, 1, { validateArgs: false });
  }

  /** Decoder logits for latent codes z of shape [n, latentDim]. */
  decoderLogits(z: tf.Tensor2D): tf.Tensor2D {
    checkBatch("z", z, this.config.latentDim);
    return tf.tidy(() => {
      let h: tf.Tensor2D = z;
      for (const l of this.decoderLayers) h = dense(h, l, "relu", this.gradientMode);
      return dense(h, this.outHead, "linear", this.gradientMode);
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
      assertPixels("x", x.dataSync());
    }
    return tf.tidy(() => {
      const q = this.encode(x); // q_φ(z|x)
      const z = q.rsample([], seed) as tf.Tensor2D; // z = μ + σ⊙ε, ε ~ N(0, I)
      const recon = this.decode(z).logProb(x) as tf.Tensor1D; // log p_θ(x|z)
      const klTerm = kl(q, this.prior) as tf.Tensor1D; // KL(q_φ(z|x) ‖ p(z))
      const loss = tf.mean(tf.sub(klTerm, recon)) as tf.Scalar; // −(5.9), averaged over the batch
      return { loss, recon, kl: klTerm };
    });
  }

  /** The ε that loss(x, seed) draws for a batch of `rows` (z = μ + σ⊙ε): the graph step feeds the same. */
  lossNoise(rows: number, seed?: number): tf.Tensor2D {
    return standardNormalNoise([rows, this.config.latentDim], seed) as tf.Tensor2D;
  }

  /** Trainable variables in a fixed order (checkpoint order). */
  variables(): tf.Variable[] {
    const all = [...this.encoderLayers, this.locHead, this.logVarHead, ...this.decoderLayers, this.outHead];
    return all.flatMap((l) => [l.W, l.b]);
  }

  /** Stable names for the weights: enc0, …, loc, logvar, dec0, …, out. */
  weightNames(): string[] {
    const names = [...this.encoderLayers.map((_, i) => `enc${i}`), "loc", "logvar", ...this.decoderLayers.map((_, i) => `dec${i}`), "out"];
    return names.flatMap((n) => [`${n}/kernel`, `${n}/bias`]);
  }

  /** Copies of the weights as named tensors (caller disposes). */
  getWeights(): tf.NamedTensorMap {
    const names = this.weightNames();
    const out: tf.NamedTensorMap = {};
    this.variables().forEach((v, i) => {
      out[names[i]] = tf.clone(v);
    });
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

/**
 * A maker of dense layers initialized like torch.nn.Linear, W, b ~ U(−1/√fan_in, 1/√fan_in),
 * drawn from `rng` in the order the layers are made.
 */
function linearLayers(rng: Rng): (widths: [fanIn: number, fanOut: number]) => DenseLayer {
  let id = 0;
  return ([fanIn, fanOut]) => {
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
}

let counter = 0;
function uniqueSuffix(): string {
  return `${instanceTag}_${counter++}`;
}

/** A batch of `width`-vectors: shape [n, width], float32. */
function checkBatch(name: string, t: tf.Tensor, width: number): void {
  if (t.rank !== 2 || t.shape[1] !== width) throw new ArgumentError(name, `must have shape [n, ${width}], got [${t.shape}]`);
  checkFloat32(name, t);
}

/** Rejects anything but float32 (tfjs-node would fail deep inside with "Invalid TF_Status: 3"). */
function checkFloat32(name: string, t: tf.Tensor): void {
  if (t.dtype !== "float32") throw new ArgumentError(name, `must be a float32 tensor, got ${t.dtype}`);
}
