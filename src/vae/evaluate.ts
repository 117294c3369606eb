/**
 * Evaluating a trained VAE on held-out digits, in nats per example:
 *  - the test −ELBO of (5.9), split into its reconstruction and KL parts;
 *  - importance-weighted estimates of log p(x) (IWAE-k, Burda et al. 2016):
 *      log p(x) ≥ IWAE_k = E[ log (1/k) Σ_i p(x, z_i) / q(z_i|x) ],  z_i ~ q(z|x),
 *    which equals the ELBO at k = 1 and rises toward log p(x) as k grows;
 *  - active latent units: dimensions whose posterior mean varies across data.
 * Standard errors are over test examples (and, for a fixed example, include the
 * Monte Carlo noise of the draws).
 *
 * Each evaluation is async: it reads its values back with `await t.data()`, which every
 * backend supports and a GPU backend (WebGPU) needs (its synchronous read is not reliable).
 * The values are those a synchronous read gives on Node.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError, assertInteger } from "../errors";
import { type Estimate, monteCarloMean } from "../estimators";
import { logMeanExp } from "../linalg";
import { Rng } from "../random";
import { assertPixels } from "./data";
import type { Vae } from "./model";

function rows(x: Float32Array, d: number, start: number, end: number): tf.Tensor2D {
  return tf.tensor2d(x.subarray(start * d, end * d), [end - start, d]);
}

/** The number of images in `images` (at least `min`), each pixel checked to lie in [0, 1]. */
function countImages(model: Vae, images: Float32Array, min = 1): number {
  const d = model.config.inputDim;
  const n = images.length / d;
  if (!Number.isInteger(n) || n < min) {
    throw new ArgumentError("images", `${images.length} values are not ${min > 1 ? `${min} or more images` : "a whole number of images"} of ${d} pixels`);
  }
  assertPixels("images", images);
  return n;
}

/** Most log-weights one evaluation may hold: 2²⁷ float64s, 1 GiB. */
const MAX_IMPORTANCE_WEIGHTS = 2 ** 27;

function checkWeightBudget(argument: string, draws: number, examples: number): void {
  if (draws * examples > MAX_IMPORTANCE_WEIGHTS) {
    throw new ArgumentError(
      argument,
      `${draws} draws × ${examples} images = ${(draws * examples).toExponential(2)} importance weights ` +
        `(${((draws * examples * 8) / 2 ** 30).toFixed(1)} GiB) exceed the limit of ${MAX_IMPORTANCE_WEIGHTS} (1 GiB); use fewer draws or fewer images`,
    );
  }
}

export interface ElboReport {
  /** −ELBO = −recon + kl, nats per example. */
  negElbo: Estimate;
  /** E_q[log p(x|z)], one draw per example. */
  recon: Estimate;
  /** KL(q(z|x) ‖ p(z)), analytic. */
  kl: Estimate;
  /** The per-example values behind the means (for paired comparisons). */
  perExample: { recon: Float64Array; kl: Float64Array };
}

/** Test −ELBO with its parts, one seeded reparameterized draw per example. */
export async function evaluateElbo(model: Vae, images: Float32Array, options: { batchSize?: number; seed?: number } = {}): Promise<ElboReport> {
  const d = model.config.inputDim;
  const n = countImages(model, images);
  const batch = options.batchSize ?? 500;
  assertInteger("batchSize", batch, 1);
  const rng = new Rng(`eval/${options.seed ?? 0}`);
  const recon = new Float64Array(n);
  const klv = new Float64Array(n);
  for (let start = 0; start < n; start += batch) {
    const end = Math.min(n, start + batch);
    const [r, k] = tf.tidy(() => {
      const out = model.loss(rows(images, d, start, end), rng.int32(), { validateArgs: false });
      return [out.recon, out.kl];
    });
    recon.set(await r.data(), start);
    klv.set(await k.data(), start);
    tf.dispose([r, k]);
  }
  const neg = recon.map((r, i) => klv[i] - r);
  return { negElbo: monteCarloMean(neg), recon: monteCarloMean(recon), kl: monteCarloMean(klv), perExample: { recon, kl: klv } };
}

/**
 * log w_i = log p(x|z_i) + log p(z_i) − log q(z_i|x) for `k` draws z_i ~ q(z|x) per
 * example; returns a [k][n] float64 table, computed in chunks to bound memory.
 */
export async function logImportanceWeights(
  model: Vae,
  images: Float32Array,
  k: number,
  options: { seed?: number; maxBatch?: number } = {},
): Promise<Float64Array[]> {
  assertInteger("k", k, 1);
  const d = model.config.inputDim;
  const n = countImages(model, images);
  checkWeightBudget("k", k, n);
  const maxBatch = options.maxBatch ?? 4096; // draws × examples decoded at once
  const rng = new Rng(`iwae/${options.seed ?? 0}`);
  const out = Array.from({ length: k }, () => new Float64Array(n));
  const exPerChunk = Math.max(1, Math.min(n, Math.floor(maxBatch / Math.min(k, maxBatch))));
  const drawsPerChunk = Math.max(1, Math.min(k, Math.floor(maxBatch / exPerChunk)));
  for (let start = 0; start < n; start += exPerChunk) {
    const end = Math.min(n, start + exPerChunk);
    const m = end - start;
    const x = rows(images, d, start, end);
    const q = model.encode(x);
    for (let s = 0; s < k; s += drawsPerChunk) {
      const kc = Math.min(drawsPerChunk, k - s);
      const logw = tf.tidy(() => {
        const z = q.sample([kc], rng.int32()); // [kc, m, L]
        const logQ = q.logProb(z); // [kc, m]
        const logPrior = model.prior.logProb(z); // [kc, m]
        const px = model.decode(tf.reshape(z, [kc * m, model.config.latentDim]) as tf.Tensor2D);
        const xs = tf.reshape(tf.tile(tf.expandDims(x, 0), [kc, 1, 1]), [kc * m, d]);
        const logLik = tf.reshape(px.logProb(xs), [kc, m]);
        return tf.sub(tf.add(logLik, logPrior), logQ);
      });
      const data = await logw.data();
      logw.dispose();
      for (let i = 0; i < kc; i++) for (let j = 0; j < m; j++) out[s + i][start + j] = data[i * m + j];
    }
    q.dispose();
    x.dispose();
  }
  return out;
}

export interface IwaeRung {
  k: number;
  /** IWAE_k estimate of mean test log p(x), nats per example. */
  estimate: Estimate;
  /** IWAE_k − ELBO, paired over the same draws: its mean and SE. */
  gapOverElbo: Estimate;
  /** IWAE_k of each image (for comparisons paired over images). */
  perExample: Float64Array;
}

export interface IwaeLadder {
  /** ELBO estimated as the mean log-weight over all K draws (K = max k). */
  elbo: Estimate;
  /** That ELBO of each image. */
  elboPerExample: Float64Array;
  rungs: IwaeRung[];
  examples: number;
  draws: number;
}

/**
 * What a ladder over `ks` on `imageCount` images (the first `subset` of them) will draw:
 * K draws for each of `examples` images — `draws` if given (a multiple of every k, so that
 * each rung averages over K/k groups), else the largest k. Checks everything before any
 * work: the ks, a subset of at least two images (a standard error needs two), and the
 * memory of the K × examples table of log-weights.
 */
export function iwaePlan(imageCount: number, ks: number[], subset?: number, draws?: number): { draws: number; examples: number } {
  if (!Array.isArray(ks) || ks.length === 0) throw new ArgumentError("ks", "must be a non-empty array of draw counts");
  for (const [i, k] of ks.entries()) assertInteger(`ks[${i}]`, k, 1);
  if (draws !== undefined) assertInteger("draws", draws, 1);
  const K = draws ?? ks.reduce((a, b) => Math.max(a, b));
  for (const k of ks) {
    if (K % k !== 0)
      throw new ArgumentError(
        draws === undefined ? "ks" : "draws",
        draws === undefined ? `every k must divide the largest (${K}); ${k} does not` : `must be a multiple of every k; ${k} does not divide ${K}`,
      );
  }
  if (subset !== undefined) assertInteger("subset", subset, 2);
  const n = Math.min(imageCount, subset ?? imageCount);
  if (n < 2) throw new ArgumentError("images", `the ladder's standard errors need at least 2 images, got ${n}`);
  checkWeightBudget(draws === undefined ? "ks" : "draws", K, n);
  return { draws: K, examples: n };
}

/**
 * ELBO ≤ IWAE_k for each k in `ks`, all from the same K draws per example (`options.draws`,
 * default max(ks)): IWAE_k averages log-mean-exp over the K/k disjoint groups of k draws
 * (so every k must divide K). The per-example values are then averaged over the subset.
 */
export async function iwaeLadder(
  model: Vae,
  images: Float32Array,
  ks: number[],
  options: { seed?: number; subset?: number; draws?: number; maxBatch?: number } = {},
): Promise<IwaeLadder> {
  const d = model.config.inputDim;
  const { draws: K, examples: n } = iwaePlan(countImages(model, images), ks, options.subset, options.draws);
  const logw = await logImportanceWeights(model, images.subarray(0, n * d), K, options);
  const elboPer = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < K; i++) s += logw[i][j];
    elboPer[j] = s / K;
  }
  const column = new Float64Array(K);
  const rungs = ks.map((k) => {
    const per = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < K; i++) column[i] = logw[i][j];
      let s = 0;
      for (let g = 0; g < K / k; g++) s += logMeanExp(column, g * k, (g + 1) * k);
      per[j] = s / (K / k);
    }
    return { k, estimate: monteCarloMean(per), gapOverElbo: monteCarloMean(per.map((v, j) => v - elboPer[j])), perExample: per };
  });
  return { elbo: monteCarloMean(elboPer), elboPerExample: elboPer, rungs, examples: n, draws: K };
}

/**
 * Active units (Burda et al.): A_u = Var_x( E_{q(z|x)}[z_u] ) > threshold (0.01).
 * Returns the per-unit variances and the count.
 */
export async function activeUnits(model: Vae, images: Float32Array, threshold = 0.01): Promise<{ count: number; variances: number[] }> {
  const d = model.config.inputDim;
  const n = countImages(model, images, 2);
  const means = tf.tidy(() => {
    const q = model.encode(tf.tensor2d(images, [n, d]));
    return tf.moments(q.base.loc, 0).variance;
  });
  const variances = Array.from(await means.data());
  means.dispose();
  return { count: variances.filter((v) => v > threshold).length, variances };
}
