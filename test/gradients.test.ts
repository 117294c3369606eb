/**
 * ELBO gradients w.r.t. q's (μ, log σ) on the linear-Gaussian model (§6).
 * - exact gradient vs central finite differences of the closed-form ELBO (1e-6 relative:
 *   O(h²) truncation + O(ε/h) rounding with h = 1e-5 is ≈ 1e-9 on O(1..100) gradients);
 * - Monte Carlo gradients vs the exact gradient, every coordinate within 4 SE (fixed seeds).
 */
import { strict as assert } from "node:assert";
import { ArgumentError } from "../src/errors";
import { LinearGaussian } from "../src/exact";
import {
  elboOfParams,
  exactElboGradient,
  fitVariational,
  gradientLabels,
  gradientSamples,
  gradientVarianceCurve,
  reparameterizationGradient,
  scoreFunctionGradient,
  summarizeGradients,
} from "../src/gradients";
import { Rng } from "../src/random";

const SE = 4;

function assertArgumentError(fn: () => unknown, argument: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ArgumentError && e.argument === argument, `expected ArgumentError naming "${argument}"`);
}

function cases(count = 20) {
  return Array.from({ length: count }, (_, seed) => {
    const latentDim = 1 + (seed % 3);
    const model = LinearGaussian.random(500 + seed, { latentDim, dataDim: latentDim + 2, noiseStd: 0.6 + 0.1 * (seed % 3) });
    const x = model.sample(new Rng(seed), 1).x[0];
    const rng = new Rng(600 + seed);
    const params = { mean: rng.normals(latentDim), logStd: Array.from(rng.normals(latentDim), (v) => -0.5 + 0.3 * v) };
    return { seed, model, x, params };
  });
}

function assertCoordinatesWithinSE(est: { mean: Float64Array; stdError: Float64Array }, exact: Float64Array, msg: string): void {
  exact.forEach((g, j) => {
    const z = Math.abs(est.mean[j] - g) / est.stdError[j];
    assert.ok(z <= SE, `${msg} coordinate ${j}: ${est.mean[j]} ± ${est.stdError[j]} vs exact ${g} (${z.toFixed(2)} SE)`);
  });
}

describe("ELBO gradients (20 random seeded models)", () => {
  it("exact gradient matches central finite differences of the closed-form ELBO", () => {
    for (const { model, x, params } of cases()) {
      const g = exactElboGradient(model, x, params);
      const d = model.latentDim;
      const flat = [...Array.from(params.mean), ...Array.from(params.logStd)];
      const f = (t: number[]) => elboOfParams(model, x, { mean: t.slice(0, d), logStd: t.slice(d) });
      const h = 1e-5;
      flat.forEach((_, k) => {
        const up = flat.slice();
        const dn = flat.slice();
        up[k] += h;
        dn[k] -= h;
        const fd = (f(up) - f(dn)) / (2 * h);
        assert.ok(Math.abs(fd - g[k]) <= 1e-6 * Math.max(1, Math.abs(fd)), `coordinate ${k}: fd ${fd} vs exact ${g[k]}`);
      });
    }
  });

  it("(§6) the reparameterization gradient is unbiased: mean within 4 SE of exact, both KL modes", () => {
    for (const { seed, model, x, params } of cases()) {
      const exact = exactElboGradient(model, x, params);
      assertCoordinatesWithinSE(reparameterizationGradient(model, x, params, { n: 2000, seed }), exact, `reparam/analytic seed ${seed}`);
      assertCoordinatesWithinSE(reparameterizationGradient(model, x, params, { n: 2000, seed, kl: "monte-carlo" }), exact, `reparam/mc seed ${seed}`);
    }
  });

  it("the score-function gradient is unbiased too: mean within 4 SE of exact, both KL modes", () => {
    for (const { seed, model, x, params } of cases()) {
      const exact = exactElboGradient(model, x, params);
      assertCoordinatesWithinSE(scoreFunctionGradient(model, x, params, { n: 4000, seed }), exact, `score/analytic seed ${seed}`);
      assertCoordinatesWithinSE(scoreFunctionGradient(model, x, params, { n: 4000, seed, kl: "monte-carlo" }), exact, `score/mc seed ${seed}`);
    }
  });

  it("the reparameterization gradient has lower total variance than the score function here", () => {
    for (const { seed, model, x, params } of cases()) {
      const r = reparameterizationGradient(model, x, params, { n: 2000, seed });
      const s = scoreFunctionGradient(model, x, params, { n: 2000, seed });
      const total = (v: Float64Array) => v.reduce((a, b) => a + b, 0);
      assert.ok(total(r.variance) < total(s.variance), `seed ${seed}: ${total(r.variance)} vs ${total(s.variance)}`);
    }
  });

  it("variance of the n-draw estimate falls like 1/n (measured across repeats vs per-draw variance / n)", () => {
    const { model, x, params } = cases(2)[1];
    const perDraw = {
      reparameterization: reparameterizationGradient(model, x, params, { n: 20000, seed: 77 }).variance.reduce((a, b) => a + b, 0),
      "score-function": scoreFunctionGradient(model, x, params, { n: 20000, seed: 77 }).variance.reduce((a, b) => a + b, 0),
    };
    const rows = gradientVarianceCurve(model, x, params, { sampleSizes: [16, 64], repeats: 200, seed: 3 });
    assert.equal(rows.length, 4);
    for (const row of rows) {
      const predicted = perDraw[row.estimator] / row.n;
      // A variance from 200 repeats has relative SE ≈ √(2/199) ≈ 0.1 (Gaussian means); allow 0.5 (≈ 5 SE).
      assert.ok(Math.abs(row.totalVariance / predicted - 1) < 0.5, `${row.estimator} n=${row.n}: ${row.totalVariance} vs ${predicted}`);
      assert.ok(row.meanSquaredError > 0);
    }
  });

  it("raw draws average to the estimator's mean; labels name the coordinates", () => {
    const { model, x, params } = cases(1)[0];
    const draws = gradientSamples(model, x, params, "score-function", { n: 50, seed: 9 });
    const est = scoreFunctionGradient(model, x, params, { n: 50, seed: 9 });
    const s = summarizeGradients(draws);
    s.mean.forEach((v, j) => {
      assert.equal(v, est.mean[j]);
    });
    assert.deepEqual(gradientLabels(2), ["mu[0]", "mu[1]", "logStd[0]", "logStd[1]"]);
  });

  it("rejects bad input with an ArgumentError naming the argument", () => {
    const { model, x, params } = cases(2)[1];
    assertArgumentError(() => exactElboGradient(model, x, { mean: params.mean, logStd: [0] }), "params.logStd");
    assertArgumentError(() => exactElboGradient(model, x, { mean: [NaN, 0], logStd: params.logStd }), "params.mean");
    assertArgumentError(() => exactElboGradient(model, [1], params), "x");
    assertArgumentError(() => reparameterizationGradient(model, x, params, { n: 1 }), "n");
    assertArgumentError(() => gradientSamples(model, x, params, "bogus" as never, { n: 5 }), "estimator");
    assertArgumentError(() => gradientSamples(model, x, params, "reparameterization", { n: 5, kl: "bogus" as never }), "kl");
    assertArgumentError(() => gradientVarianceCurve(model, x, params, { repeats: 1 }), "repeats");
  });
});

describe("fitVariational", () => {
  it("d = 1: raising the ELBO drives KL(q‖p(z|x)) to 0 and the ELBO to log p(x); (5.10) holds along the way", () => {
    const model = LinearGaussian.random(11, { latentDim: 1, dataDim: 3, noiseStd: 0.7 });
    const x = model.sample(new Rng(11), 1).x[0];
    const fit = fitVariational(model, x, { gradient: "exact", steps: 2000, learningRate: 0.05 });
    for (const row of fit.trace) assert.ok(Math.abs(row.elbo + row.klToPosterior - fit.logMarginal) < 1e-10 * Math.max(1, Math.abs(fit.logMarginal)));
    const last = fit.trace[fit.trace.length - 1];
    assert.ok(last.klToPosterior < 1e-6, `final KL ${last.klToPosterior}`);
    const post = model.posterior(x);
    assert.ok(Math.abs(fit.q.mean[0] - post.mean[0]) < 1e-3);
    assert.ok(Math.abs(fit.q.std[0] - post.std[0]) < 1e-3);
  });

  it("d = 2 with reparameterized gradients: the KL falls to the mean-field optimum found by the exact gradient", () => {
    const model = LinearGaussian.random(12, { latentDim: 2, dataDim: 4, noiseStd: 0.7 });
    const x = model.sample(new Rng(12), 1).x[0];
    const exact = fitVariational(model, x, { gradient: "exact", steps: 3000 });
    const mc = fitVariational(model, x, { gradient: "reparameterization", steps: 1500, n: 16, seed: 1, learningRate: 0.02 });
    const klExact = exact.trace[exact.trace.length - 1].klToPosterior;
    const klMc = mc.trace[mc.trace.length - 1].klToPosterior;
    assert.ok(mc.trace[0].klToPosterior > 10 * klMc, "the KL falls");
    // Stochastic steps of size 0.02 jitter around the optimum; 0.05 nats is a loose bound on that jitter.
    assert.ok(klMc - klExact < 0.05 && klMc >= klExact - 1e-9, `MC fit KL ${klMc} vs exact-gradient optimum ${klExact}`);
  });

  it("rejects bad input with an ArgumentError naming the argument", () => {
    const model = LinearGaussian.random(0, { latentDim: 2, dataDim: 3 });
    assertArgumentError(() => fitVariational(model, [0, 0, 0], { learningRate: 0 }), "learningRate");
    assertArgumentError(() => fitVariational(model, [0, 0, 0], { gradient: "bogus" as never }), "gradient");
    assertArgumentError(() => fitVariational(model, [0, 0, 0], { init: { mean: [0], logStd: [0, 0] } }), "params.mean");
  });
});
