/**
 * Monte Carlo estimators against the closed forms of the linear-Gaussian model.
 * Tolerance: 4 standard errors with fixed seeds (a correct estimator misses 4 SE with
 * probability ≈ 6e-5 per comparison); exact identities 1e-10 relative.
 */
import { strict as assert } from "node:assert";
import { Matrix } from "ml-matrix";
import {
  elboMonteCarlo,
  elboSplit,
  importanceSamplingMarginal,
  iwae,
  jensenGap,
  klMonteCarlo,
  logMeanExp,
  monteCarloMean,
  naiveMonteCarloMarginal,
} from "../src/estimators";
import { klMvNormal, LinearGaussian, MvNormal64 } from "../src/exact";
import * as linalg from "../src/linalg";
import { Rng } from "../src/random";
import { assertArgumentError } from "./support/assert";

const SE = 4;

function assertWithinSE(estimate: { value: number; stdError: number }, truth: number, msg = ""): void {
  const z = Math.abs(estimate.value - truth) / estimate.stdError;
  assert.ok(z <= SE, `${msg} estimate ${estimate.value} ± ${estimate.stdError} vs ${truth}: ${z.toFixed(2)} SE`);
}

/** 20 seeded models with an observation and a q near (but not at) the posterior, wider than it. */
function cases(count = 20) {
  return Array.from({ length: count }, (_, seed) => {
    const latentDim = 1 + (seed % 2);
    const model = LinearGaussian.random(300 + seed, { latentDim, dataDim: 3, noiseStd: 1 });
    const x = model.sample(new Rng(seed), 1).x[0];
    const post = model.posterior(x);
    const rng = new Rng(400 + seed);
    const q = MvNormal64.diag(
      Array.from(post.mean, (m, i) => m + 0.5 * post.std[i] * rng.normal()),
      Array.from(post.std, (s) => 1.4 * s),
    );
    return { seed, model, x, post, q };
  });
}

describe("estimators (20 random seeded models)", () => {
  it("(3.2) naive prior-sampling MC: p(x) and log p(x) within 4 SE", () => {
    for (const { seed, model, x } of cases()) {
      const est = naiveMonteCarloMarginal(model, x, { n: 4000, seed });
      assertWithinSE(est.marginal, Math.exp(model.logMarginal(x)), `p(x) seed ${seed}`);
      assertWithinSE(est.log, model.logMarginal(x), `log p(x) seed ${seed}`);
      assert.equal(est.log.n, 4000);
    }
  });

  it("(5.3) importance sampling with q: log p(x) within 4 SE; with q = posterior, zero variance", () => {
    for (const { seed, model, x, q, post } of cases()) {
      assertWithinSE(importanceSamplingMarginal(model, x, q, { n: 4000, seed }).log, model.logMarginal(x), `seed ${seed}`);
      const perfect = importanceSamplingMarginal(model, x, post, { n: 100, seed });
      assert.ok(Math.abs(perfect.log.value - model.logMarginal(x)) < 1e-10);
      assert.ok(perfect.log.stdError < 1e-10);
      assert.ok(Math.abs(perfect.effectiveSampleSize - 100) < 1e-6);
    }
  });

  it("(5.5) ELBO by MC and (5.9) by the split both match the closed-form ELBO within 4 SE", () => {
    for (const { seed, model, x, q } of cases()) {
      const closed = model.elbo(x, q);
      assertWithinSE(elboMonteCarlo(model, x, q, { n: 2000, seed }), closed, `5.5 seed ${seed}`);
      const split = elboSplit(model, x, q, { n: 2000, seed });
      assertWithinSE(split, closed, `5.9 seed ${seed}`);
      assert.ok(Math.abs(split.kl - klMvNormal(q, model.prior)) === 0);
      assertWithinSE(split.reconstruction, model.reconstructionTerm(x, q));
    }
  });

  it("Monte Carlo KL matches the analytic KL within 4 SE", () => {
    for (const { seed, model, q } of cases()) assertWithinSE(klMonteCarlo(q, model.prior, { n: 2000, seed }), model.klToPrior(q));
  });

  it("(5.4) Jensen gap: log E[Y] → log p(x), E[log Y] → ELBO, gap → KL(q‖p(z|x)), gap ≥ 0", () => {
    for (const { seed, model, x, q } of cases()) {
      const j = jensenGap(model, x, q, { n: 4000, seed });
      assertWithinSE(j.logMeanY, model.logMarginal(x), "log E[Y]");
      assertWithinSE(j.meanLogY, model.elbo(x, q), "E[log Y]");
      assertWithinSE(j.gap, model.klToPosterior(x, q), "gap");
      assert.ok(j.gap.value >= 0);
    }
  });

  it("IWAE-k: IWAE-1 = ELBO, and ELBO ≤ IWAE-k ≤ log p(x) rising with k (poor q)", () => {
    const model = LinearGaussian.random(7, { latentDim: 2, dataDim: 4, noiseStd: 0.5 });
    const x = model.sample(new Rng(7), 1).x[0];
    const post = model.posterior(x);
    // A deliberately poor q: shifted by 1.5 posterior SDs and twice as wide.
    const q = MvNormal64.diag(
      Array.from(post.mean, (m, i) => m + 1.5 * post.std[i]),
      Array.from(post.std, (s) => 2 * s),
    );
    const logp = model.logMarginal(x);
    assertWithinSE(iwae(model, x, q, { k: 1, outer: 2000, seed: 1 }), model.elbo(x, q), "IWAE-1");
    const bounds = [1, 10, 100].map((k) => iwae(model, x, q, { k, outer: 400, seed: k }));
    for (let i = 1; i < bounds.length; i++) {
      const diff = bounds[i].value - bounds[i - 1].value;
      const se = Math.hypot(bounds[i].stdError, bounds[i - 1].stdError);
      assert.ok(diff > SE * se, `IWAE-k must rise: ${bounds.map((b) => b.value)}`);
    }
    for (const b of bounds) assert.ok(b.value <= logp + SE * b.stdError, `IWAE ${b.value} vs log p ${logp}`);
  });

  it("logMeanExp equals log(mean(exp(v))) computed directly, and survives values that underflow exp", () => {
    const v = [-1.5, 0.2, -0.3, 1.1];
    const direct = Math.log(v.reduce((a, b) => a + Math.exp(b), 0) / v.length);
    assert.ok(Math.abs(logMeanExp(v).log.value - direct) < 1e-14);
    const shifted = logMeanExp(v.map((a) => a - 2000));
    assert.ok(Math.abs(shifted.log.value - (direct - 2000)) < 1e-10);
    assert.ok(Math.abs(monteCarloMean([1, 2, 3, 4]).value - 2.5) < 1e-15);
    // log 0 = −∞ is a legitimate weight: it counts as zero, and all-zero weights give log 0.
    assert.ok(Math.abs(logMeanExp([-Infinity, ...v]).log.value - Math.log(v.reduce((a, b) => a + Math.exp(b), 0) / 5)) < 1e-14);
    const none = logMeanExp([-Infinity, -Infinity]);
    assert.equal(none.log.value, -Infinity);
    assert.equal(none.marginal.value, 0);
  });

  it("linalg's logSumExp and logMeanExp: stable, over a range of the values, ±∞ and NaN as the largest value", () => {
    const v = [-1.5, 0.2, -0.3, 1.1];
    const direct = Math.log(v.reduce((a, b) => a + Math.exp(b), 0));
    assert.ok(Math.abs(linalg.logSumExp(v) - direct) < 1e-14);
    assert.ok(Math.abs(linalg.logSumExp(v.map((a) => a + 1000)) - (direct + 1000)) < 1e-10);
    assert.ok(Math.abs(linalg.logMeanExp(v) - (direct - Math.log(4))) < 1e-14);
    // The range [1, 3): 0.2 and −0.3 only.
    assert.ok(Math.abs(linalg.logMeanExp(v, 1, 3) - Math.log((Math.exp(0.2) + Math.exp(-0.3)) / 2)) < 1e-14);
    // The estimate and the plain number agree to the bit: the same operations in the same order.
    assert.equal(logMeanExp(v).log.value, linalg.logMeanExp(v));
    assert.equal(linalg.logSumExp([-Infinity, -Infinity]), -Infinity);
    assert.equal(linalg.logMeanExp([0, Infinity]), Infinity);
    assert.ok(Number.isNaN(linalg.logSumExp([0, NaN])));
    assert.equal(linalg.maxOf(new Float64Array(200000).fill(-1)), -1); // no spread into Math.max
  });

  it("same seed, same numbers; different seed, different numbers", () => {
    const { model, x, q } = cases(1)[0];
    assert.equal(elboMonteCarlo(model, x, q, { n: 100, seed: 3 }).value, elboMonteCarlo(model, x, q, { n: 100, seed: 3 }).value);
    assert.notEqual(elboMonteCarlo(model, x, q, { n: 100, seed: 3 }).value, elboMonteCarlo(model, x, q, { n: 100, seed: 4 }).value);
  });

  it("rejects bad input with an ArgumentError naming the argument", () => {
    const { model, x, q } = cases(1)[0];
    assertArgumentError(() => naiveMonteCarloMarginal(model, x, { n: 1 }), "n");
    assertArgumentError(() => naiveMonteCarloMarginal(model, x, { n: 2.5 }), "n");
    assertArgumentError(() => naiveMonteCarloMarginal(model, [1, 2], { n: 10 }), "x");
    assertArgumentError(() => elboMonteCarlo(model, [1, NaN, 3], q, { n: 10 }), "x");
    assertArgumentError(() => elboSplit(model, x, MvNormal64.standard(3), { n: 10 }), "q");
    assertArgumentError(() => importanceSamplingMarginal(model, x, q, { n: 10, seed: NaN }), "seed");
    assertArgumentError(() => iwae(model, x, q, { k: 0 }), "k");
    assertArgumentError(() => iwae(model, x, q, { k: 1.5 }), "k");
    assertArgumentError(() => iwae(model, x, q, { k: 5, outer: 1 }), "outer");
    assertArgumentError(() => jensenGap(model, x, q, { n: 0 }), "n");
    assertArgumentError(() => klMonteCarlo(q, MvNormal64.standard(3), { n: 10 }), "p");
    assertArgumentError(() => monteCarloMean([1]), "values");
    // Non-finite input is named, not returned as a silent NaN.
    assertArgumentError(() => monteCarloMean([NaN, 1]), "values", /NaN at index 0/);
    assertArgumentError(() => monteCarloMean([1, Infinity]), "values", /Infinity at index 1/);
    assertArgumentError(() => logMeanExp([NaN, 0]), "logValues", /NaN at index 0/);
    assertArgumentError(() => logMeanExp([0, Infinity]), "logValues", /Infinity at index 1/);
    assertArgumentError(() => new MvNormal64([0], new Matrix([[-1]])), "cov");
  });
});
