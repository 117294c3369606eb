/**
 * tfjs distributions against independent float64 computations: closed-form log
 * densities and entropies written out by hand, Monte Carlo KL against the analytic
 * registry entry, reparameterized gradients against finite differences and their
 * expectations, and torch-style batch shapes.
 *
 * Tolerances: the library computes in float32 (relative rounding ~6e-8 per op, a few
 * dozen ops), so pointwise identities use 1e-5 relative + 1e-5 absolute. Monte Carlo
 * checks use a fixed seed and pass within 4 standard errors (a correct implementation
 * fails such a check with probability < 1e-4).
 */

import { strict as assert } from "node:assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend";
import { Bernoulli } from "../src/distributions/bernoulli";
import type { Distribution } from "../src/distributions/distribution";
import { Independent } from "../src/distributions/independent";
import { kl, registerKL } from "../src/distributions/kl";
import { Normal } from "../src/distributions/normal";
import { ArgumentError } from "../src/errors";
import { Rng } from "../src/random";

const LOG_2PI = Math.log(2 * Math.PI);
const K_SE = 4;

function close(actual: number, expected: number, what: string, rel = 1e-5, abs = 1e-5): void {
  const tol = abs + rel * Math.abs(expected);
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (|diff| ${Math.abs(actual - expected)} > ${tol})`);
}

function arr(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

function meanSe(v: number[]): { mean: number; se: number } {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(variance / n) };
}

describe("distributions (tfjs, float32)", function () {
  this.timeout(30000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  describe("Normal", () => {
    it("logProb and entropy match the hand-written formulas", () => {
      const rng = new Rng(11);
      const loc = Array.from({ length: 12 }, () => 3 * rng.normal());
      const scale = Array.from({ length: 12 }, () => Math.exp(rng.normal()));
      const x = Array.from({ length: 12 }, () => 4 * rng.normal());
      const d = new Normal(loc, scale);
      const lp = arr(d.logProb(tf.tensor(x)));
      const h = arr(d.entropy());
      for (let i = 0; i < 12; i++) {
        const expected = -0.5 * ((x[i] - loc[i]) / scale[i]) ** 2 - Math.log(scale[i]) - 0.5 * LOG_2PI;
        close(lp[i], expected, `logProb[${i}]`);
        close(h[i], 0.5 + 0.5 * LOG_2PI + Math.log(scale[i]), `entropy[${i}]`);
      }
    });

    it("entropy equals −E[log p(z)] by Monte Carlo within 4 SE", () => {
      const d = new Normal([0.5, -1], [0.3, 2.5]);
      const z = d.sample([20000], 7);
      const lp = d.logProb(z);
      const h = arr(d.entropy());
      for (let j = 0; j < 2; j++) {
        const col = arr(tf.neg(tf.gather(lp, [j], 1)));
        const { mean, se } = meanSe(col);
        assert.ok(Math.abs(mean - h[j]) < K_SE * se, `entropy[${j}] ${h[j]} vs MC ${mean} ± ${se}`);
      }
    });

    it("sample moments match loc and scale within 4 SE", () => {
      const d = new Normal([2, -3], [0.5, 4]);
      const z = d.sample([20000], 3);
      for (let j = 0; j < 2; j++) {
        const col = arr(tf.gather(z, [j], 1));
        const { mean, se } = meanSe(col);
        assert.ok(Math.abs(mean - [2, -3][j]) < K_SE * se, `mean[${j}] ${mean} ± ${se}`);
        // SE of the sample variance for a normal: σ²·√(2/(n−1)).
        const s2 = meanSe(col.map((v) => (v - mean) ** 2)).mean;
        const sigma2 = [0.25, 16][j];
        assert.ok(Math.abs(s2 - sigma2) < K_SE * sigma2 * Math.sqrt(2 / 19999), `var[${j}] ${s2} vs ${sigma2}`);
      }
    });

    it("rsample has exactly the stated location and scale: 10⁶ draws pin the std to a thousandth", () => {
      // The moments test above allows ~4 % on the variance; a 1 % error in σ must fail here (it is 14 SE).
      const n = 1_000_000;
      const loc = [2, -3];
      const scale = [0.5, 4];
      const z = new Normal(loc, scale).rsample([n], 13).dataSync();
      for (let j = 0; j < 2; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += z[2 * k + j];
        const mean = s / n;
        let s2 = 0;
        for (let k = 0; k < n; k++) s2 += (z[2 * k + j] - mean) ** 2;
        const sd = Math.sqrt(s2 / (n - 1));
        assert.ok(Math.abs(mean - loc[j]) < (K_SE * sd) / Math.sqrt(n), `mean[${j}] ${mean} vs ${loc[j]}`);
        // SE of a normal sample's std: σ/√(2(n−1)), here 0.07 % of σ.
        assert.ok(
          Math.abs(sd - scale[j]) < (K_SE * sd) / Math.sqrt(2 * (n - 1)),
          `std[${j}] ${sd} vs ${scale[j]} (${(((sd - scale[j]) / scale[j]) * 100).toFixed(3)} %)`,
        );
      }
    });

    it("the same seed gives the same draws; another seed different ones", () => {
      const d = new Normal(0, 1);
      assert.deepEqual(arr(d.sample([5], 42)), arr(d.sample([5], 42)));
      assert.notDeepEqual(arr(d.sample([5], 42)), arr(d.sample([5], 43)));
      // Seed 0 too: tfjs itself reads a zero seed as "unseeded".
      assert.deepEqual(arr(d.sample([5], 0)), arr(d.sample([5], 0)));
      assert.deepEqual(arr(new Bernoulli({ probs: 0.5 }).sample([8], 0)), arr(new Bernoulli({ probs: 0.5 }).sample([8], 0)));
    });

    it("rsample is differentiable: gradients equal the analytic pathwise values and finite differences", () => {
      // f(μ, σ) = mean over draws of (μ + σ ε)², with ε fixed by the seed.
      const seed = 5;
      const n = 4000;
      const f = (mu: tf.Tensor, sigma: tf.Tensor) => tf.mean(tf.square(new Normal(mu, sigma).rsample([n], seed)));
      const mu0 = 0.7;
      const s0 = 1.3;
      const [gMu, gSigma] = tf
        .grads(f)([tf.scalar(mu0), tf.scalar(s0)])
        .map((g) => g.dataSync()[0]);
      // Independent side 1: the pathwise derivative with the same ε, in float64.
      const eps = arr(tf.div(tf.sub(new Normal(mu0, s0).rsample([n], seed), mu0), s0));
      let dMu = 0;
      let dSigma = 0;
      for (const e of eps) {
        dMu += (2 * (mu0 + s0 * e)) / n;
        dSigma += (2 * (mu0 + s0 * e) * e) / n;
      }
      close(gMu, dMu, "d/dμ vs pathwise", 1e-4, 1e-4);
      close(gSigma, dSigma, "d/dσ vs pathwise", 1e-4, 1e-4);
      // Independent side 2: central finite differences (f is quadratic, so exact up to float32 rounding).
      const h = 1e-2;
      const fd = (a: number, b: number) => f(tf.scalar(a), tf.scalar(b)).dataSync()[0];
      close(gMu, (fd(mu0 + h, s0) - fd(mu0 - h, s0)) / (2 * h), "d/dμ vs finite difference", 2e-3, 2e-3);
      close(gSigma, (fd(mu0, s0 + h) - fd(mu0, s0 - h)) / (2 * h), "d/dσ vs finite difference", 2e-3, 2e-3);
      // Side 3: in expectation, ∂E[z²]/∂μ = 2μ and ∂E[z²]/∂σ = 2σ; per-draw SE from the draws themselves.
      const perMu = eps.map((e) => 2 * (mu0 + s0 * e));
      const perSigma = eps.map((e) => 2 * (mu0 + s0 * e) * e);
      const a = meanSe(perMu);
      const b = meanSe(perSigma);
      assert.ok(Math.abs(gMu - 2 * mu0) < K_SE * a.se, `E[d/dμ] ${gMu} vs ${2 * mu0} ± ${a.se}`);
      assert.ok(Math.abs(gSigma - 2 * s0) < K_SE * b.se, `E[d/dσ] ${gSigma} vs ${2 * s0} ± ${b.se}`);
    });

    it("sample() carries no gradient", () => {
      const g = tf.grad((mu: tf.Tensor) => tf.sum(new Normal(mu, 1).sample([3], 1)))(tf.scalar(0.5));
      assert.equal(g.dataSync()[0], 0);
    });

    it("batch shapes broadcast like torch.distributions", () => {
      const d = new Normal(tf.zeros([3, 1]), tf.ones([4]));
      assert.deepEqual(d.batchShape, [3, 4]);
      assert.deepEqual(d.eventShape, []);
      assert.deepEqual(d.sample([5, 2], 1).shape, [5, 2, 3, 4]);
      assert.deepEqual(d.logProb(tf.zeros([4])).shape, [3, 4]);
      assert.deepEqual(d.entropy().shape, [3, 4]);
      const ind = new Independent(d, 1);
      assert.deepEqual(ind.batchShape, [3]);
      assert.deepEqual(ind.eventShape, [4]);
      assert.deepEqual(ind.logProb(d.sample([5], 2)).shape, [5, 3]);
      assert.deepEqual(Normal.standard([2, 6]).batchShape, [2, 6]);
      assert.deepEqual(Normal.standard([7]).sample([], 1).shape, [7]);
      assert.deepEqual(Normal.diagonal([0, 0], [1, 1]).eventShape, [2]);
    });

    it("Independent logProb is the sum of the base logProbs over the event dims", () => {
      const base = new Normal([[0, 1, 2]], [[1, 2, 3]]);
      const x = tf.tensor([[0.3, -0.2, 4]]);
      const summed = arr(new Independent(base, 1).logProb(x))[0];
      const parts = arr(base.logProb(x));
      close(summed, parts[0] + parts[1] + parts[2], "Independent.logProb");
    });

    it("rejects bad parameters with errors naming the argument", () => {
      assert.throws(
        () => new Normal([0, 0], [1, 0]),
        (e: Error) => e instanceof ArgumentError && /scale/.test(e.message) && /positive/.test(e.message),
      );
      assert.throws(
        () => new Normal([NaN], [1]),
        (e: Error) => e instanceof ArgumentError && /loc/.test(e.message),
      );
      assert.throws(
        () => new Normal(tf.zeros([3]), tf.ones([4])),
        (e: Error) => e instanceof ArgumentError && /shape mismatch/.test(e.message),
      );
      assert.throws(() => new Normal(0, 1).sample([0]), ArgumentError);
      assert.throws(() => new Independent(new Normal(0, 1), 1), ArgumentError);
    });
  });

  describe("Bernoulli", () => {
    const softplus = (l: number) => Math.max(l, 0) + Math.log1p(Math.exp(-Math.abs(l)));

    it("logProb and entropy match x·log p + (1−x)·log(1−p) and −p log p − (1−p) log(1−p)", () => {
      const logits = [-3, -0.5, 0, 0.7, 2.5, 6];
      const b = new Bernoulli({ logits });
      for (const xv of [0, 1]) {
        const lp = arr(b.logProb(tf.fill([6], xv)));
        logits.forEach((l, i) => {
          const p = 1 / (1 + Math.exp(-l));
          close(lp[i], xv * Math.log(p) + (1 - xv) * Math.log(1 - p), `logProb(${xv}|${l})`);
        });
      }
      const h = arr(b.entropy());
      logits.forEach((l, i) => {
        const p = 1 / (1 + Math.exp(-l));
        close(h[i], -p * Math.log(p) - (1 - p) * Math.log(1 - p), `entropy(${l})`);
      });
    });

    it("logProb stays finite and exact for extreme logits where σ(l) rounds to 0 or 1", () => {
      const b = new Bernoulli({ logits: [-100, 100, 40] });
      const one = arr(b.logProb(tf.ones([3])));
      const zero = arr(b.logProb(tf.zeros([3])));
      // log σ(l) = −softplus(−l), log(1 − σ(l)) = −softplus(l), in float64.
      [-100, 100, 40].forEach((l, i) => {
        close(one[i], -softplus(-l), `log σ(${l})`);
        close(zero[i], -softplus(l), `log(1−σ(${l}))`);
      });
    });

    it("the logProb gradient in the logits is x − σ(l) (finite differences)", () => {
      const l0 = [-2, 0.3, 1.7];
      const x = tf.tensor([1, 0, 1]);
      const g = arr(tf.grad((l: tf.Tensor) => tf.sum(new Bernoulli({ logits: l }).logProb(x)))(tf.tensor(l0)));
      const h = 1e-2;
      l0.forEach((l, i) => {
        const xv = [1, 0, 1][i];
        const f = (v: number) => xv * v - softplus(v);
        close(g[i], (f(l + h) - f(l - h)) / (2 * h), `d/dl[${i}]`, 1e-3, 1e-4);
      });
      // Summed over an event (the VAE's reconstruction term): the same gradient, through Independent.
      const gSum = arr(tf.grad((l: tf.Tensor) => new Independent(new Bernoulli({ logits: l }), 1).logProb(x))(tf.tensor(l0)));
      gSum.forEach((v, i) => {
        close(v, g[i], `summed d/dl[${i}]`, 1e-6, 1e-7);
      });
    });

    it("an observation is data: logProb has no gradient in the (discrete) value", () => {
      const d = new Bernoulli({ logits: tf.tensor([0.2, -1]) });
      assert.throws(() => tf.grad((x: tf.Tensor) => tf.sum(d.logProb(x)))(tf.tensor([1, 0])), /gradient/i);
    });

    it("probs and logits parameterizations agree; sample mean matches p within 4 SE", () => {
      const p = [0.1, 0.5, 0.85];
      const a = new Bernoulli({ probs: p });
      const b = new Bernoulli({ logits: p.map((v) => Math.log(v / (1 - v))) });
      const x = tf.tensor([1, 0, 1]);
      arr(a.logProb(x)).forEach((v, i) => {
        close(v, arr(b.logProb(x))[i], `logProb[${i}]`);
      });
      const s = a.sample([20000], 9);
      p.forEach((pv, j) => {
        const col = arr(tf.gather(s, [j], 1));
        const mean = col.reduce((u, w) => u + w, 0) / col.length;
        const se = Math.sqrt((pv * (1 - pv)) / col.length);
        assert.ok(Math.abs(mean - pv) < K_SE * se, `mean[${j}] ${mean} vs ${pv}`);
      });
    });

    it("probs of exactly 0 and 1 are valid: finite logits, and the certain outcome has log-probability log 1 = 0", () => {
      const b = new Bernoulli({ probs: [0, 1] });
      const logits = arr(b.logits);
      for (const [i, l] of logits.entries()) assert.ok(Number.isFinite(l), `logit[${i}] = ${l}`);
      // probs are clipped to [1e-7, 1 − 1e-7], so the certain outcome's log-probability is within ~1.2e-7 of 0.
      const lp = arr(b.logProb(tf.tensor([0, 1])));
      for (const [i, v] of lp.entries()) close(v, 0, `log p(certain outcome)[${i}]`, 0, 1e-6);
    });

    it("needs exactly one of logits or probs; probs must lie in [0, 1]", () => {
      assert.throws(() => new Bernoulli({} as never), ArgumentError);
      assert.throws(() => new Bernoulli({ logits: [0], probs: [0.5] } as never), ArgumentError);
      assert.throws(
        () => new Bernoulli({ probs: [1.5] }),
        (e: Error) => e instanceof ArgumentError && /probs/.test(e.message),
      );
      assert.throws(() => new Bernoulli({ logits: [Infinity] }), ArgumentError);
    });
  });

  describe("kl registry", () => {
    it("analytic KL(Normal ‖ Normal) equals the Monte Carlo KL within 4 SE", () => {
      const p = new Normal([0.3, -1, 2], [0.5, 1.5, 1]);
      const q = new Normal([0, 0.5, 2], [1, 1, 0.2]);
      const analytic = arr(kl(p, q));
      const z = p.sample([40000], 21);
      const diff = tf.sub(p.logProb(z), q.logProb(z));
      for (let j = 0; j < 3; j++) {
        const { mean, se } = meanSe(arr(tf.gather(diff, [j], 1)));
        assert.ok(Math.abs(mean - analytic[j]) < K_SE * se, `KL[${j}] analytic ${analytic[j]} vs MC ${mean} ± ${se}`);
      }
    });

    it("KL(Normal ‖ Normal) matches the float64 closed form and is zero for equal arguments", () => {
      const [m1, s1, m2, s2] = [0.4, 0.7, -1.1, 1.9];
      const v = arr(kl(new Normal(m1, s1), new Normal(m2, s2)))[0];
      close(v, Math.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - 0.5, "KL closed form");
      assert.ok(Math.abs(arr(kl(new Normal(m1, s1), new Normal(m1, s1)))[0]) < 1e-6);
    });

    it("Independent KL sums over the event; the VAE's KL to N(0, I) is ½Σ(μ² + σ² − 1 − log σ²)", () => {
      const mu = [
        [0.5, -0.2],
        [1, 2],
      ];
      const sd = [
        [0.8, 1.1],
        [0.3, 1],
      ];
      const v = arr(kl(Normal.diagonal(mu, sd), Normal.diagonal(tf.zeros([2]), tf.ones([2]))));
      assert.deepEqual([v.length], [2]);
      mu.forEach((row, i) => {
        let e = 0;
        row.forEach((m, j) => {
          e += 0.5 * (m * m + sd[i][j] ** 2 - 1 - Math.log(sd[i][j] ** 2));
        });
        close(v[i], e, `KL row ${i}`);
      });
    });

    it("KL of one Normal to a batched N(0, I) broadcasts to the batch shape, each entry the float64 closed form", () => {
      const [m, sd] = [0.6, 0.45];
      const v = kl(new Normal(m, sd), Normal.standard([3]));
      assert.deepEqual(v.shape, [3]);
      for (const [i, e] of arr(v).entries()) close(e, 0.5 * (m * m + sd * sd - 1) - Math.log(sd), `KL[${i}]`);
    });

    it("KL(Bernoulli ‖ Bernoulli) matches the float64 formula", () => {
      const a = 0.3;
      const b = 0.8;
      const v = arr(kl(new Bernoulli({ probs: [a] }), new Bernoulli({ probs: [b] })))[0];
      close(v, a * Math.log(a / b) + (1 - a) * Math.log((1 - a) / (1 - b)), "Bernoulli KL", 1e-4, 1e-5);
    });

    it("unregistered pairs throw; registerKL adds a rule that subclasses inherit", () => {
      assert.throws(() => kl(new Normal(0, 1), new Bernoulli({ logits: [0] })), /no analytic KL registered for \(Normal, Bernoulli\)/);
      class Wide extends Normal {}
      class Marker extends Bernoulli {}
      registerKL(Normal, Bernoulli, () => tf.scalar(42));
      assert.equal(arr(kl(new Wide(0, 1), new Marker({ logits: [0] })))[0], 42);
      // Wide also inherits the Normal–Normal rule.
      close(arr(kl(new Wide(0, 1), new Normal(0, 2)))[0], Math.log(2) + 1 / 8 - 0.5, "inherited rule");
      assert.throws(() => kl({} as Distribution, new Normal(0, 1)), ArgumentError);
    });
  });
});
