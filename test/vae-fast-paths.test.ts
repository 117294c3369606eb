/**
 * Each fast path (src/fast) against the plain tfjs computation it replaces: the dense
 * layer's hand-written backward pass (both gradient modes) against tfjs's autodiff, the
 * fused Bernoulli log-likelihood against autodiff of x·l − softplus(l), the fused KL to
 * N(0, 1) against the general Normal–Normal KL, and LeanAdam and NativeAdam (TensorFlow's
 * fused kernel, tfjs-node only) against tf.train.adam. Each pair is the same mathematics
 * computed by different code; float32 tolerances are relative to the largest entry, as
 * summation order differs.
 */

import { strict as assert } from "node:assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend";
import { kl } from "../src/distributions/kl";
import { Normal } from "../src/distributions/normal";
import { bernoulliLogLikelihood } from "../src/fast/bernoulli-loglik";
import { type Activation, type DenseLayer, dense, type GradientMode } from "../src/fast/dense";
import { LeanAdam } from "../src/fast/lean-adam";
import { NativeAdam } from "../src/fast/native-adam";
import { standardNormalKl } from "../src/fast/standard-normal-kl";
import { createAdam } from "../src/vae/adam";
import { binarize, loadMnistPackage } from "../src/vae/data";
import { Vae } from "../src/vae/model";

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 0;
  for (let j = 0; j < expected.length; j++) scale = Math.max(scale, Math.abs(expected[j]));
  for (let j = 0; j < expected.length; j++) {
    assert.ok(Math.abs(actual[j] - expected[j]) <= rtol * scale + 1e-7, `${label}[${j}]: ${actual[j]} vs ${expected[j]}`);
  }
}

describe("VAE fast paths agree with plain tfjs", function () {
  this.timeout(60000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  it("LeanAdam takes the same steps as tf.train.adam (grouped small variables and a large one)", () => {
    const shapes = [[300, 400], [400], [7, 3], [3]]; // one above the grouping threshold, three below
    const make = (prefix: string) => shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, "float32", 10 + i), true, `${prefix}${i}`));
    const lean = make("lean");
    const plain = make("plain");
    const a = new LeanAdam(1e-2);
    const b = tf.train.adam(1e-2);
    for (let step = 0; step < 6; step++) {
      const grads = shapes.map((s, i) => tf.randomNormal(s, 0, 1 + step, "float32", 100 * step + i));
      a.applyGradients(lean.map((v, i) => ({ name: v.name, tensor: grads[i] })));
      b.applyGradients(plain.map((v, i) => ({ name: v.name, tensor: grads[i] })));
      tf.dispose(grads);
    }
    // Six Adam steps move each entry by ~6e-2; float32 rounding of the folded constants is ~1e-7 of that.
    lean.forEach((v, i) => {
      assertClose(v.dataSync(), plain[i].dataSync(), 1e-5, `variable ${i}`);
    });
    tf.dispose([...lean, ...plain]);
    a.dispose();
    b.dispose();
  });

  describe("NativeAdam (tfjs-node's fused ResourceApplyAdam)", () => {
    before(function () {
      if (!NativeAdam.available()) this.skip(); // needs the tensorflow backend: npm run setup:native
    });
    const shapes = [[300, 400], [400], [7, 3], [3]];
    const make = (prefix: string) => shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, "float32", 10 + i), true, `${prefix}${i}`));
    // Seeds start at 1: tfjs treats seed 0 as "no seed".
    const gradsAt = (step: number) => shapes.map((s, i) => tf.randomNormal(s, 0, 1 + step, "float32", 1 + 100 * step + i));
    const stepAll = (opt: tf.Optimizer, vars: tf.Variable[], step: number) => {
      const grads = gradsAt(step);
      opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i] })));
      tf.dispose(grads);
    };

    it("createAdam picks it on this backend", () => {
      const a = createAdam(1e-3);
      assert.ok(a instanceof NativeAdam);
      a.dispose();
    });

    it("takes the same steps as tf.train.adam", () => {
      const native = make("native");
      const plain = make("plainN");
      const a = new NativeAdam(1e-2);
      const b = tf.train.adam(1e-2);
      for (let step = 0; step < 6; step++) {
        stepAll(a, native, step);
        stepAll(b, plain, step);
      }
      // Same tolerance and reason as LeanAdam's test: the update is the same formula, folded differently.
      native.forEach((v, i) => {
        assertClose(v.dataSync(), plain[i].dataSync(), 1e-5, `variable ${i}`);
      });
      tf.dispose([...native, ...plain]);
      a.dispose();
      b.dispose();
    });

    it("respects a variable assigned between steps, leaves clones alone, and its saved state resumes in LeanAdam", async () => {
      const native = make("resumeN");
      const lean = make("resumeL");
      const a = new NativeAdam(1e-2);
      for (let step = 0; step < 3; step++) stepAll(a, native, step);
      // Poke one variable from outside: the next native step must start from the poked value.
      native[2].assign(tf.fill([7, 3], 0.5));
      // A clone shares its variable's data; updating in place must not reach it.
      const snapshot = tf.clone(native[0]);
      const snapshotValues = snapshot.dataSync().slice();
      const state = await a.getWeights();
      // LeanAdam takes the saved moments and the same weights, then both take three more steps.
      lean.forEach((v, i) => {
        v.assign(native[i]);
      });
      const b = new LeanAdam(1e-2);
      await b.setWeights(state.map((w) => ({ name: w.name.replace("resumeN", "resumeL"), tensor: w.tensor })));
      for (let step = 3; step < 6; step++) {
        stepAll(a, native, step);
        stepAll(b, lean, step);
      }
      native.forEach((v, i) => {
        assertClose(v.dataSync(), lean[i].dataSync(), 1e-5, `variable ${i}`);
      });
      assert.deepEqual(snapshot.dataSync(), snapshotValues);
      tf.dispose([...native, ...lean, snapshot]);
      a.dispose();
      b.dispose();
    });
  });

  describe("the dense layer's hand-written backward pass (src/fast/dense.ts)", () => {
    const x = () => tf.randomNormal([6, 5], 0, 1, "float32", 3) as tf.Tensor2D;
    const makeLayer = (): DenseLayer => ({
      W: tf.variable(tf.randomNormal([5, 4], 0, 1, "float32", 4)) as tf.Variable<tf.Rank.R2>,
      b: tf.variable(tf.randomNormal([4], 0, 1, "float32", 5)) as tf.Variable<tf.Rank.R1>,
    });
    // Σ y ⊙ weights: a loss whose dy is not all ones, so act'(y) and every product show.
    const lossOf = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.linspace(-1, 2, y.size).reshape(y.shape)));
    for (const mode of ["transposed", "flags"] as GradientMode[]) {
      for (const activation of ["relu", "linear"] as Activation[]) {
        for (const onData of [false, true]) {
          it(`"${mode}", ${activation}${onData ? ", on data" : ""}: value and gradients equal tfjs's autodiff ("builtin")`, () => {
            const layer = makeLayer();
            const input = x();
            // On data the images get no gradient: differentiate in W and b alone there.
            const run = (m: GradientMode) => {
              const y = (xi: tf.Tensor, W: tf.Tensor, b: tf.Tensor) =>
                lossOf(dense(xi as tf.Tensor2D, { W, b } as unknown as DenseLayer, activation, m, onData && m !== "builtin"));
              const value = y(input, layer.W, layer.b).dataSync();
              const grads = onData ? tf.grads((W: tf.Tensor, b: tf.Tensor) => y(input, W, b))([layer.W, layer.b]) : tf.grads(y)([input, layer.W, layer.b]);
              return { value, grads: grads.map((g) => g.dataSync()) };
            };
            const fast = run(mode);
            const plain = run("builtin");
            assertClose(fast.value, plain.value, 1e-6, "value");
            const names = onData ? ["dW", "db"] : ["dx", "dW", "db"];
            names.forEach((name, i) => {
              assertClose(fast.grads[i], plain.grads[i], 1e-5, name);
            });
            tf.dispose([layer.W, layer.b, input]);
          });
        }
      }
    }

    it('inside the VAE: "transposed" and "flags" give the loss and gradients of "builtin"', () => {
      const images = loadMnistPackage().images;
      const x = tf.tensor2d(binarize(images.subarray(0, 8 * 784), "threshold"), [8, 784]);
      const reference = new Vae({ inputDim: 784, hidden: [24, 16], latentDim: 2, gradient: "builtin" }, 5);
      const gb = tf.variableGrads(() => reference.loss(x, 9).loss, reference.variables());
      for (const gradient of ["transposed", "flags"] as const) {
        const a = new Vae({ inputDim: 784, hidden: [24, 16], latentDim: 2, gradient }, 5);
        const ga = tf.variableGrads(() => a.loss(x, 9).loss, a.variables());
        assertClose(ga.value.dataSync(), gb.value.dataSync(), 1e-6, `${gradient}: loss`);
        a.variables().forEach((v, i) => {
          assertClose(ga.grads[v.name].dataSync(), gb.grads[reference.variables()[i].name].dataSync(), 1e-4, `${gradient}: ${a.weightNames()[i]}`);
        });
        tf.dispose([ga.value, ...Object.values(ga.grads)]);
        a.dispose();
      }
      tf.dispose([gb.value, ...Object.values(gb.grads)]);
      reference.dispose();
      x.dispose();
    });
  });

  describe("the fused Bernoulli log-likelihood (src/fast/bernoulli-loglik.ts)", () => {
    for (const ndims of [0, 1, 2]) {
      it(`summed over ${ndims} dims: value and gradient equal autodiff of x·l − softplus(l)`, () => {
        const logits = tf.mul(tf.randomNormal([3, 4, 5], 0, 1, "float32", 6), 4); // some large |l|
        const x = tf.cast(tf.less(tf.randomUniform([3, 4, 5], 0, 1, "float32", 7), 0.4), "float32");
        const plain = (l: tf.Tensor) => {
          const elementwise = tf.sub(tf.mul(x, l), tf.softplus(l));
          return ndims === 0 ? elementwise : tf.sum(elementwise, ndims === 1 ? [2] : [2, 1]);
        };
        // A weighted sum, so the gradient's dy has the kept shape and is not all ones.
        const weigh = (t: tf.Tensor) => tf.sum(tf.mul(t, tf.linspace(0.5, 1.5, t.size).reshape(t.shape)));
        const fast = (l: tf.Tensor) => bernoulliLogLikelihood(x, l, ndims);
        assert.deepEqual(fast(logits).shape, plain(logits).shape);
        assertClose(fast(logits).dataSync(), plain(logits).dataSync(), 1e-6, "value");
        const [dFast] = tf.grads((l: tf.Tensor) => weigh(fast(l)))([logits]);
        const [dPlain] = tf.grads((l: tf.Tensor) => weigh(plain(l)))([logits]);
        assertClose(dFast.dataSync(), dPlain.dataSync(), 1e-6, "d/dlogits");
        tf.dispose([logits, x, dFast, dPlain]);
      });
    }
  });

  describe("the fused KL to N(0, 1) (src/fast/standard-normal-kl.ts)", () => {
    it("equals autodiff of ½[σ² + μ² − 1 − log σ²], values and gradients, also broadcast", () => {
      const loc = tf.randomNormal([5, 3], 0, 1.5, "float32", 1);
      const scale = tf.exp(tf.randomNormal([1, 3], 0, 0.7, "float32", 2)); // broadcast over rows
      const plain = (m: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(0.5, tf.sub(tf.sub(tf.add(tf.square(s), tf.square(m)), 1), tf.log(tf.square(s)))));
      const fast = (m: tf.Tensor, s: tf.Tensor) => tf.sum(standardNormalKl(m, s));
      assertClose(fast(loc, scale).dataSync(), plain(loc, scale).dataSync(), 1e-6, "KL");
      const [dFast, dPlain] = [tf.grads(fast)([loc, scale]), tf.grads(plain)([loc, scale])];
      assertClose(dFast[0].dataSync(), dPlain[0].dataSync(), 1e-5, "dKL/dloc");
      assert.deepEqual(dFast[1].shape, [1, 3]);
      assertClose(dFast[1].dataSync(), dPlain[1].dataSync(), 1e-5, "dKL/dscale");
      tf.dispose([loc, scale, ...dFast, ...dPlain]);
    });

    it("kl() takes it against Normal.standard, and agrees with the general Normal–Normal KL", () => {
      const loc = tf.randomNormal([5, 3], 0, 1.5, "float32", 1);
      const scale = tf.exp(tf.randomNormal([5, 3], 0, 0.7, "float32", 2));
      const general = (m: tf.Tensor, s: tf.Tensor) => kl(new Normal(m, s), new Normal(tf.zeros([5, 3]), tf.ones([5, 3]))).sum();
      const short = (m: tf.Tensor, s: tf.Tensor) => kl(new Normal(m, s), Normal.standard([5, 3])).sum();
      const [gs, gg] = [tf.grads(short), tf.grads(general)];
      assertClose(short(loc, scale).dataSync(), general(loc, scale).dataSync(), 1e-6, "KL");
      const [dShort, dGeneral] = [gs([loc, scale]), gg([loc, scale])];
      assertClose(dShort[0].dataSync(), dGeneral[0].dataSync(), 1e-5, "dKL/dloc");
      assertClose(dShort[1].dataSync(), dGeneral[1].dataSync(), 1e-5, "dKL/dscale");
      tf.dispose([loc, scale, ...dShort, ...dGeneral]);
    });
  });
});
