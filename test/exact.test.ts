/**
 * The float64 exact side: MvNormal64, the linear-Gaussian model, the nonlinear toy with
 * its grid posterior, and the two classifiers. Every check compares two independent
 * computations. Tolerances: float64 identities 1e-10 relative (a handful of O(d³)
 * operations on well-conditioned matrices lose far less than 1e-12); Monte Carlo
 * comparisons 4 standard errors with fixed seeds (a correct estimator misses 4 SE
 * with probability ≈ 6e-5 per comparison).
 */
import { strict as assert } from "node:assert";
import { determinant, inverse, Matrix } from "ml-matrix";
import { klMonteCarlo, monteCarloMean, naiveMonteCarloMarginal } from "../src/estimators";
import {
  accuracy,
  GaussianGenerativeClassifier,
  gridPosterior,
  klMvNormal,
  LinearGaussian,
  LogisticRegression,
  MvNormal64,
  makeTwoClassData,
  NonlinearToy,
  normalizerCost,
  probabilityGrid,
  quadratureLogMarginal,
  TWO_CLASS_TRUTH,
} from "../src/exact";
import { Rng } from "../src/random";
import { assertArgumentError } from "./support/assert";

const REL = 1e-10;
const SE = 4;

function assertRel(a: number, b: number, tol = REL, msg = ""): void {
  const r = Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1);
  assert.ok(r <= tol, `${msg} ${a} vs ${b}: relative residual ${r.toExponential(2)} > ${tol}`);
}

function assertWithinSE(estimate: { value: number; stdError: number }, truth: number, msg = ""): void {
  const z = Math.abs(estimate.value - truth) / estimate.stdError;
  assert.ok(z <= SE, `${msg} estimate ${estimate.value} ± ${estimate.stdError} vs ${truth}: ${z.toFixed(2)} SE`);
}

/** A random symmetric positive-definite d×d matrix A Aᵀ + 0.1 I. */
function randomSpd(rng: Rng, d: number): Matrix {
  const A = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) A.set(i, j, rng.normal());
  const S = A.mmul(A.transpose()).add(Matrix.eye(d).mul(0.1));
  return S.add(S.transpose()).mul(0.5);
}

function randomMvNormal(rng: Rng, d: number): MvNormal64 {
  return new MvNormal64(rng.normals(d), randomSpd(rng, d));
}

describe("MvNormal64", () => {
  it("logProb matches the textbook formula with an LU inverse and determinant (20 random cases)", () => {
    const rng = new Rng(1);
    for (let k = 0; k < 20; k++) {
      const d = 1 + (k % 4);
      const p = randomMvNormal(rng, d);
      const x = rng.normals(d);
      const r = Matrix.columnVector(Array.from(x, (v, i) => v - p.mean[i]));
      const quad = r.transpose().mmul(inverse(p.cov)).mmul(r).get(0, 0);
      const expected = -0.5 * (d * Math.log(2 * Math.PI) + Math.log(determinant(p.cov)) + quad);
      assertRel(p.logProb(x), expected);
    }
  });

  it("samples have the stated mean and covariance (within 4 SE)", () => {
    const rng = new Rng(2);
    const p = randomMvNormal(rng, 3);
    const xs = p.sample(new Rng(3), 20000);
    for (let i = 0; i < 3; i++) {
      assertWithinSE(monteCarloMean(xs.map((x) => x[i])), p.mean[i], `mean[${i}]`);
      for (let j = 0; j <= i; j++) {
        const prod = xs.map((x) => (x[i] - p.mean[i]) * (x[j] - p.mean[j]));
        assertWithinSE(monteCarloMean(prod), p.cov.get(i, j), `cov[${i},${j}]`);
      }
    }
  });

  it("rsample is μ + L ε, with L the Cholesky factor (L Lᵀ = Σ)", () => {
    const p = randomMvNormal(new Rng(4), 3);
    const LLt = p.scaleTril.mmul(p.scaleTril.transpose());
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) assertRel(LLt.get(i, j), p.cov.get(i, j));
    const eps = [0.3, -1.2, 0.7];
    const z = p.rsample(eps);
    const expected = p.scaleTril
      .mmul(Matrix.columnVector(eps))
      .getColumn(0)
      .map((v, i) => v + p.mean[i]);
    for (let i = 0; i < 3; i++) assertRel(z[i], expected[i]);
  });

  it("analytic KL matches Monte Carlo KL, KL(p‖p) = 0, KL ≥ 0 (20 random pairs)", () => {
    const rng = new Rng(5);
    for (let k = 0; k < 20; k++) {
      const d = 1 + (k % 3);
      const q = randomMvNormal(rng, d);
      const p = randomMvNormal(rng, d);
      const kl = klMvNormal(q, p);
      assert.ok(kl >= 0);
      assertWithinSE(klMonteCarlo(q, p, { n: 4000, seed: k }), kl, `pair ${k}`);
      assert.ok(Math.abs(klMvNormal(q, q)) < 1e-12);
    }
  });

  it("entropy matches Monte Carlo −E[log q]", () => {
    const q = randomMvNormal(new Rng(6), 3);
    const draws = q.sample(new Rng(7), 20000).map((z) => -q.logProb(z));
    assertWithinSE(monteCarloMean(draws), q.entropy());
  });

  it("diag(mean, std) equals the full-covariance constructor", () => {
    const a = MvNormal64.diag([1, -2], [0.5, 2]);
    const b = new MvNormal64(
      [1, -2],
      [
        [0.25, 0],
        [0, 4],
      ],
    );
    assertRel(a.logProb([0.3, 0.1]), b.logProb([0.3, 0.1]));
    assert.ok(a.isDiagonal);
    assert.deepEqual(Array.from(a.std), [0.5, 2]);
  });

  it("isDiagonal is false when a covariance entry off the diagonal is non-zero; sample(rng, n) gives n draws", () => {
    const correlated = new Matrix([
      [1, 0.3],
      [0.3, 2],
    ]);
    assert.equal(new MvNormal64([0, 0], correlated).isDiagonal, false);
    assert.equal(new MvNormal64([0, 0, 0], Matrix.diag([1, 2, 3])).isDiagonal, true);
    for (const n of [0, 1, 5]) assert.equal(MvNormal64.standard(2).sample(new Rng(1), n).length, n);
  });

  it("rejects bad input with an ArgumentError naming the argument", () => {
    assertArgumentError(
      () =>
        new MvNormal64(
          [0, 0],
          [
            [1, 2],
            [2, 1],
          ],
        ),
      "cov",
    );
    assertArgumentError(
      () =>
        new MvNormal64(
          [0, 0],
          [
            [1, 0.5],
            [0, 1],
          ],
        ),
      "cov",
    );
    assertArgumentError(
      () =>
        new MvNormal64(
          [0, NaN],
          [
            [1, 0],
            [0, 1],
          ],
        ),
      "mean",
    );
    assertArgumentError(
      () =>
        new MvNormal64(
          [0, 0],
          [
            [1, 0, 0],
            [0, 1, 0],
          ],
        ),
      "cov",
    );
    assertArgumentError(() => MvNormal64.diag([0, 0], [1, 0]), "std");
    assertArgumentError(() => MvNormal64.diag([0, 0], [1]), "std");
    assertArgumentError(() => MvNormal64.standard(2).logProb([1, 2, 3]), "x");
    assertArgumentError(() => MvNormal64.standard(2).logProb([1, NaN]), "x");
    assertArgumentError(() => klMvNormal(MvNormal64.standard(2), MvNormal64.standard(3)), "p");
    assertArgumentError(() => MvNormal64.standard(2).sample(new Rng(0), -1), "n");
  });
});

/** 20 random seeded linear-Gaussian models of varying shape. */
function models(count = 20): { seed: number; model: LinearGaussian; x: Float64Array; z: Float64Array }[] {
  return Array.from({ length: count }, (_, seed) => {
    const latentDim = 1 + (seed % 3);
    const dataDim = latentDim + 1 + (seed % 4);
    const model = LinearGaussian.random(100 + seed, { latentDim, dataDim, noiseStd: 0.3 + 0.1 * (seed % 5) });
    const s = model.sample(new Rng(200 + seed), 1);
    return { seed, model, x: s.x[0], z: s.z[0] };
  });
}

function randomQ(rng: Rng, d: number): MvNormal64 {
  const A = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) A.set(i, j, 0.4 * rng.normal());
  const cov = A.mmul(A.transpose()).add(Matrix.eye(d).mul(0.05));
  return new MvNormal64(rng.normals(d), cov.add(cov.transpose()).mul(0.5));
}

describe("LinearGaussian: closed forms against independent computations (20 random models)", () => {
  it("(3.1) log joint = stacked (x, z) Gaussian", () => {
    for (const { model, x, z } of models()) {
      assertRel(model.logJoint(x, z), model.jointDistribution().logProb([...x, ...z]));
    }
  });

  it("posterior = conditioning the stacked Gaussian (Schur complement: WᵀC⁻¹(x−b), I − WᵀC⁻¹W)", () => {
    for (const { model, x } of models()) {
      const Ci = inverse(model.marginalCovariance());
      const Wt = model.W.transpose();
      const r = Matrix.columnVector(Array.from(x, (v, i) => v - model.b[i]));
      const mean = Wt.mmul(Ci).mmul(r).getColumn(0);
      const cov = Matrix.eye(model.latentDim).sub(Wt.mmul(Ci).mmul(model.W));
      const post = model.posterior(x);
      mean.forEach((m, i) => {
        assertRel(post.mean[i], m);
      });
      for (let i = 0; i < model.latentDim; i++) for (let j = 0; j < model.latentDim; j++) assertRel(post.cov.get(i, j), cov.get(i, j));
    }
  });

  it("(5.6) posterior × marginal = prior × likelihood at random z", () => {
    const rng = new Rng(9);
    for (const { model, x } of models()) {
      const z = rng.normals(model.latentDim);
      assertRel(model.posterior(x).logProb(z) + model.logMarginal(x), model.logPrior(z) + model.logLikelihood(x, z));
    }
  });

  it("closed-form ELBO matches Monte Carlo of log p(x,z) − log q(z); reconstruction term matches MC", () => {
    const rng = new Rng(10);
    for (const { seed, model, x } of models()) {
      const q = randomQ(rng, model.latentDim);
      const sr = new Rng(seed);
      const draws = q.sample(sr, 4000);
      assertWithinSE(monteCarloMean(draws.map((z) => model.logJoint(x, z) - q.logProb(z))), model.elbo(x, q), `elbo seed ${seed}`);
      assertWithinSE(monteCarloMean(draws.map((z) => model.logLikelihood(x, z))), model.reconstructionTerm(x, q), `recon seed ${seed}`);
    }
  });

  it("(5.10) log p(x) = ELBO + KL(q‖posterior); KL ≥ 0; ELBO(posterior) = log p(x)", () => {
    const rng = new Rng(11);
    for (const { model, x } of models()) {
      const q = randomQ(rng, model.latentDim);
      const kl = model.klToPosterior(x, q);
      assert.ok(kl >= 0);
      assertRel(model.elbo(x, q) + kl, model.logMarginal(x));
      assertRel(model.elbo(x, model.posterior(x)), model.logMarginal(x));
      assert.ok(model.elbo(x, q) <= model.logMarginal(x));
    }
  });

  it("sampled data have the marginal's mean and covariance (within 4 SE)", () => {
    const model = LinearGaussian.random(3, { latentDim: 2, dataDim: 3, noiseStd: 0.5 });
    for (const n of [0, 1, 7]) {
      const s = model.sample(new Rng(1), n);
      assert.deepEqual([s.x.length, s.z.length], [n, n], `model.sample(rng, ${n}) gives ${n} pairs`);
    }
    const { x } = model.sample(new Rng(12), 20000);
    const C = model.marginalCovariance();
    for (let i = 0; i < 3; i++) {
      assertWithinSE(monteCarloMean(x.map((v) => v[i])), model.b[i]);
      for (let j = 0; j <= i; j++) assertWithinSE(monteCarloMean(x.map((v) => (v[i] - model.b[i]) * (v[j] - model.b[j]))), C.get(i, j));
    }
  });

  it("the average log-likelihood gradient matches central finite differences", () => {
    for (const { seed, model } of models(10)) {
      const data = model.sample(new Rng(seed), 50).x;
      // Evaluate at a model that is not the MLE, so the gradient is far from zero.
      const other = LinearGaussian.random(seed + 999, { latentDim: model.latentDim, dataDim: model.dataDim, noiseStd: 0.8 });
      const { value, grad } = other.averageLogLikelihoodGradient(data);
      assertRel(value * data.length, other.logLikelihoodOf(data), 1e-10, "value");
      const D = model.dataDim;
      const d = model.latentDim;
      const pack = (m: LinearGaussian) => [...Array.from(m.W.to1DArray()), ...Array.from(m.b), Math.log(m.noiseStd)];
      const unpack = (t: number[]) =>
        new LinearGaussian({
          W: new Matrix(Array.from({ length: D }, (_, i) => t.slice(i * d, (i + 1) * d))),
          b: t.slice(D * d, D * d + D),
          noiseStd: Math.exp(t[D * d + D]),
        });
      const theta = pack(other);
      const h = 1e-5;
      theta.forEach((_, k) => {
        const up = theta.slice();
        const dn = theta.slice();
        up[k] += h;
        dn[k] -= h;
        const fd = (unpack(up).logLikelihoodOf(data) - unpack(dn).logLikelihoodOf(data)) / (2 * h * data.length);
        // Central differences: O(h²) truncation + O(ε/h) rounding ≈ 1e-9 on O(1) gradients.
        assert.ok(Math.abs(fd - grad[k]) <= 1e-6 * Math.max(1, Math.abs(fd)), `coordinate ${k}: fd ${fd} vs ${grad[k]}`);
      });
    }
  });

  it("∇_z log p(x | z) matches central finite differences of log p(x | z)", () => {
    const rng = new Rng(13);
    for (const { model, x } of models()) {
      const z = rng.normals(model.latentDim);
      const g = model.gradLogLikelihood(x, z);
      const h = 1e-5;
      for (let k = 0; k < model.latentDim; k++) {
        const up = Float64Array.from(z);
        const dn = Float64Array.from(z);
        up[k] += h;
        dn[k] -= h;
        const fd = (model.logLikelihood(x, up) - model.logLikelihood(x, dn)) / (2 * h);
        // log p(x | z) is quadratic in z: central differences are exact up to rounding, O(ε|log p|/h) ≈ 1e-9 here.
        assert.ok(Math.abs(fd - g[k]) <= 1e-6 * Math.max(1, Math.abs(fd)), `coordinate ${k}: fd ${fd} vs ${g[k]}`);
      }
    }
  });

  it("(3.3) closed-form MLE: zero gradient, beats perturbations, and gradient ascent reaches it", () => {
    for (const { seed, model } of models(6)) {
      const data = model.sample(new Rng(seed + 50), 300).x;
      const mle = LinearGaussian.fitClosedForm(data, model.latentDim);
      const { grad } = mle.averageLogLikelihoodGradient(data);
      assert.ok(Math.sqrt(grad.reduce((a, g) => a + g * g, 0)) < 1e-8, "gradient at the closed-form MLE");
      const best = mle.logLikelihoodOf(data);
      const rng = new Rng(seed);
      for (let k = 0; k < 5; k++) {
        const W = mle.W.clone();
        for (let i = 0; i < W.rows; i++) for (let j = 0; j < W.columns; j++) W.set(i, j, W.get(i, j) + 0.01 * rng.normal());
        const perturbed = new LinearGaussian({ W, b: mle.b.map((v) => v + 0.01 * rng.normal()), noiseStd: mle.noiseStd * Math.exp(0.01 * rng.normal()) });
        assert.ok(perturbed.logLikelihoodOf(data) < best);
      }
      const ga = LinearGaussian.fitGradientAscent(data, model.latentDim, { steps: 5000, seed });
      for (let t = 1; t < ga.trace.length; t++) assert.ok(ga.trace[t] >= ga.trace[t - 1], "gradient ascent never goes down");
      assertRel(ga.model.logLikelihoodOf(data), best, 1e-9, "log-likelihood");
      // W is identified only up to a rotation: compare W Wᵀ, b and σ.
      const A = ga.model.W.mmul(ga.model.W.transpose());
      const B = mle.W.mmul(mle.W.transpose());
      for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.columns; j++) assert.ok(Math.abs(A.get(i, j) - B.get(i, j)) < 1e-4, "W Wᵀ");
      mle.b.forEach((v, i) => {
        assert.ok(Math.abs(v - ga.model.b[i]) < 1e-5, "b");
      });
      assert.ok(Math.abs(mle.noiseStd - ga.model.noiseStd) < 1e-5, "σ");
    }
  });

  it("rejects bad input with an ArgumentError naming the argument", () => {
    const m = LinearGaussian.random(0, { latentDim: 2, dataDim: 3 });
    assertArgumentError(() => new LinearGaussian({ W: [[1, NaN]], b: [0], noiseStd: 1 }), "W");
    assertArgumentError(() => new LinearGaussian({ W: [[1, 2], [3]], b: [0, 0], noiseStd: 1 }), "W");
    assertArgumentError(() => new LinearGaussian({ W: [[1, 2]], b: [0, 0], noiseStd: 1 }), "b");
    assertArgumentError(() => new LinearGaussian({ W: [[1, 2]], b: [0], noiseStd: 0 }), "noiseStd");
    assertArgumentError(() => new LinearGaussian({ W: [[1, 2]], b: [0], noiseStd: NaN }), "noiseStd");
    assertArgumentError(() => LinearGaussian.random(0, { latentDim: 0, dataDim: 3 }), "latentDim");
    // Without its options: an ArgumentError naming them, not a TypeError from deep inside.
    assertArgumentError(() => (LinearGaussian.random as (seed: number) => unknown)(0), "options");
    assertArgumentError(() => LinearGaussian.random(0, null as never), "options");
    assertArgumentError(() => m.logJoint([1, 2], [0, 0]), "x");
    assertArgumentError(() => m.logJoint([1, 2, 3], [0]), "z");
    assertArgumentError(() => m.logPrior([0, NaN]), "z");
    assertArgumentError(() => m.elbo([1, 2, 3], MvNormal64.standard(3)), "q");
    assertArgumentError(() => m.logLikelihoodOf([]), "data");
    assertArgumentError(() => LinearGaussian.fitClosedForm([], 1), "data");
    assertArgumentError(() => LinearGaussian.fitClosedForm([[1, 2], [3]], 1), "data");
    assertArgumentError(
      () =>
        LinearGaussian.fitClosedForm(
          [
            [1, 2],
            [3, 4],
          ],
          2,
        ),
      "latentDim",
    );
    assertArgumentError(
      () =>
        LinearGaussian.fitGradientAscent(
          [
            [1, 2],
            [3, 5],
          ],
          1,
          { learningRate: -1 },
        ),
      "learningRate",
    );
  });
});

describe("quadrature and the nonlinear toy", () => {
  it("grid log marginal and grid posterior match the exact linear-Gaussian ones for d = 1, 2", () => {
    for (let seed = 0; seed < 20; seed++) {
      const d = 1 + (seed % 2);
      const G = d === 1 ? 401 : 201;
      const model = LinearGaussian.random(seed, { latentDim: d, dataDim: 3, noiseStd: 0.7 });
      const x = model.sample(new Rng(seed), 1).x[0];
      // Trapezoid rule on a smooth, rapidly decaying integrand: error falls like exp(−c/h²); 1e-10 is met with room.
      const q = quadratureLogMarginal(model, x, { pointsPerDim: G, extent: 10 });
      assertRel(q.value, model.logMarginal(x), REL, `seed ${seed}`);
      assert.equal(q.cost.densityEvaluations, G ** d);
      const g = gridPosterior(model, x, { pointsPerDim: G, extent: 10 });
      const post = model.posterior(x);
      assertRel(g.logMarginal, model.logMarginal(x));
      for (let i = 0; i < d; i++) {
        assert.ok(Math.abs(g.posteriorMean[i] - post.mean[i]) < 1e-8, "posterior mean");
        for (let j = 0; j < d; j++) assert.ok(Math.abs(g.posteriorCov.get(i, j) - post.cov.get(i, j)) < 1e-8, "posterior cov");
      }
      assertRel(
        g.mass.reduce((a, b) => a + b, 0),
        1,
        1e-12,
      );
    }
  });

  it("normalizer cost grows like G^d and stays accurate where the grid resolves the posterior", () => {
    const rows = normalizerCost({ dims: [1, 2, 3], pointsPerDim: 41, extent: 8, dataDim: 3, noiseStd: 1.5 });
    rows.forEach((r) => {
      assert.equal(r.gridPoints, 41 ** r.latentDim);
      assert.equal(r.densityEvaluations, r.gridPoints);
      assert.ok(r.absError < 1e-6, `d=${r.latentDim}: error ${r.absError}`);
    });
  });

  it("toy (1-D): grid log marginal matches prior-sampling Monte Carlo; posterior is symmetric for x₂ = 0", () => {
    const toy = new NonlinearToy({ latentDim: 1 });
    for (const x of [
      [1, 0],
      [0.5, 0.3],
      [2, -0.8],
    ]) {
      const g = gridPosterior(toy, x, { pointsPerDim: 801, extent: 8 });
      assertWithinSE(naiveMonteCarloMarginal(toy, x, { n: 20000, seed: 1 }).marginal, Math.exp(g.logMarginal), `x=${x}`);
    }
    // f(z) = (z², sin z): with x₂ = 0, p(x | z) = p(x | −z), so the posterior is even in z.
    const g = gridPosterior(toy, [1, 0], { pointsPerDim: 401, extent: 6 });
    const G = g.density.length;
    for (let i = 0; i < G; i++) assertRel(g.density[i], g.density[G - 1 - i], 1e-12);
    assert.ok(Math.abs(g.posteriorMean[0]) < 1e-12);
  });

  it("toy (2-D): grid log marginal matches Monte Carlo and converges under grid refinement", () => {
    const toy = new NonlinearToy({ latentDim: 2, noiseStd: 0.4 });
    const x = toy.sample(new Rng(3), 1).x[0];
    const coarse = gridPosterior(toy, x, { pointsPerDim: 151, extent: 7 });
    const fine = gridPosterior(toy, x, { pointsPerDim: 301, extent: 7 });
    assertRel(coarse.logMarginal, fine.logMarginal, 1e-8);
    assert.equal(fine.cost.densityEvaluations, 301 * 301);
    assertWithinSE(naiveMonteCarloMarginal(toy, x, { n: 20000, seed: 2 }).marginal, Math.exp(fine.logMarginal));
  });

  it("rejects bad input with an ArgumentError naming the argument", () => {
    const m3 = LinearGaussian.random(0, { latentDim: 3, dataDim: 4 });
    assertArgumentError(() => gridPosterior(m3, [0, 0, 0, 0]), "model");
    const toy = new NonlinearToy({ latentDim: 1 });
    assertArgumentError(() => gridPosterior(toy, [0, 0], { pointsPerDim: 1 }), "pointsPerDim");
    assertArgumentError(() => gridPosterior(toy, [0, 0], { extent: -1 }), "extent");
    assertArgumentError(() => new NonlinearToy({ latentDim: 3 }), "latentDim");
    assertArgumentError(() => new NonlinearToy({ latentDim: 1, noiseStd: -0.1 }), "noiseStd");
    assertArgumentError(() => toy.logJoint([0, 0, 0], [0]), "x");
  });
});

describe("two-class data: generative vs discriminative classifiers", () => {
  const train = makeTwoClassData(0, { n: 2000 });
  const test = makeTwoClassData(1, { n: 4000 });

  it("generative MLE = class frequencies, class means and (1/N_y) covariances computed directly", () => {
    const gen = GaussianGenerativeClassifier.fit(train.x, train.y);
    const ones = train.x.filter((_, i) => train.y[i] === 1);
    assertRel(gen.prior1, ones.length / train.x.length);
    for (let k = 0; k < 2; k++) {
      const mean = ones.reduce((a, p) => a + p[k], 0) / ones.length;
      assertRel(gen.classConditionals[1].mean[k], mean);
      const v = ones.reduce((a, p) => a + (p[k] - mean) ** 2, 0) / ones.length;
      assertRel(gen.classConditionals[1].cov.get(k, k), v);
    }
  });

  it("Bayes' rule: p(y=1|x) = p(1)p(x|1) / Σ_y p(y)p(x|y), from the class densities directly", () => {
    const gen = GaussianGenerativeClassifier.fit(train.x, train.y);
    for (const x of test.x.slice(0, 50)) {
      const a = gen.prior1 * Math.exp(gen.classConditionals[1].logProb(x));
      const b = (1 - gen.prior1) * Math.exp(gen.classConditionals[0].logProb(x));
      assertRel(gen.predictProba(x), a / (a + b), 1e-10);
      assertRel(gen.logMarginal(x), Math.log(a + b), 1e-10);
    }
  });

  it("the generative model samples new points with its own class prior and class means (4 SE)", () => {
    const gen = GaussianGenerativeClassifier.fit(train.x, train.y);
    const s = gen.sample(new Rng(5), 20000);
    assertWithinSE(monteCarloMean(s.y), gen.prior1);
    const ones = s.x.filter((_, i) => s.y[i] === 1);
    assertWithinSE(monteCarloMean(ones.map((p) => p[0])), gen.classConditionals[1].mean[0]);
  });

  it("logistic regression: zero gradient of the conditional log-likelihood, beats perturbations", () => {
    const lr = LogisticRegression.fit(train.x, train.y, { l2: 1e-8 });
    // Gradient Σ (y − p) φ computed here, independently of the Newton code.
    const g = [0, 0, 0];
    train.x.forEach((x, i) => {
      const r = train.y[i] - lr.predictProba(x);
      g[0] += r;
      g[1] += r * x[0];
      g[2] += r * x[1];
    });
    g.forEach((v) => {
      assert.ok(Math.abs(v) < 1e-6, `gradient ${g}`);
    });
    const best = lr.conditionalLogLikelihood(train.x, train.y);
    const rng = new Rng(6);
    for (let k = 0; k < 5; k++) {
      const w = lr.weights.map((v) => v + 0.01 * rng.normal());
      assert.ok(new LogisticRegression(w).conditionalLogLikelihood(train.x, train.y) < best);
    }
  });

  it("both classifiers come within 3% of the Bayes-optimal accuracy on held-out data", () => {
    const bayes = new GaussianGenerativeClassifier(TWO_CLASS_TRUTH.prior1, [TWO_CLASS_TRUTH.class0, TWO_CLASS_TRUTH.class1]);
    const optimum = accuracy(bayes, test.x, test.y);
    const gen = accuracy(GaussianGenerativeClassifier.fit(train.x, train.y), test.x, test.y);
    const disc = accuracy(LogisticRegression.fit(train.x, train.y), test.x, test.y);
    // The Bayes classifier is optimal in expectation; on 4000 test points its accuracy has SE ≈ 0.005.
    assert.ok(gen <= optimum + 0.02 && gen >= optimum - 0.03, `generative ${gen} vs Bayes ${optimum}`);
    assert.ok(disc <= optimum + 0.02 && disc >= optimum - 0.03, `logistic ${disc} vs Bayes ${optimum}`);
  });

  it("probabilityGrid evaluates predictProba on the grid, row-major", () => {
    const gen = GaussianGenerativeClassifier.fit(train.x, train.y);
    const grid = probabilityGrid(gen, { pointsPerDim: 11 });
    assert.equal(grid.p.length, 121);
    assertRel(grid.p[3 * 11 + 7], gen.predictProba([grid.xs[3], grid.ys[7]]));
  });

  it("rejects bad input with an ArgumentError naming the argument", () => {
    assertArgumentError(() => GaussianGenerativeClassifier.fit(train.x, train.y.slice(1)), "y");
    assertArgumentError(
      () =>
        GaussianGenerativeClassifier.fit(
          [
            [0, 0],
            [1, 1],
          ],
          [0, 2],
        ),
      "y",
    );
    assertArgumentError(() => LogisticRegression.fit([], []), "x");
    assertArgumentError(() => LogisticRegression.fit([[0, NaN]], [1]), "x");
    assertArgumentError(() => probabilityGrid(LogisticRegression.fit(train.x, train.y), { xRange: [1, 0] }), "xRange");
  });
});
