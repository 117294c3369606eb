/**
 * The trainer's fast paths against the plain tfjs computations they replace:
 * LeanAdam and NativeAdam (TensorFlow's fused kernel, tfjs-node only) against
 * tf.train.adam, the "flags" dense gradient against tfjs's own
 * autodiff, and the short KL to a standard normal against the general Normal–Normal KL.
 * Each pair is the same mathematics computed by different code; float32 tolerances
 * are relative to the largest entry, as summation order differs.
 */
import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend";
import { Normal } from "../src/distributions/normal";
import { kl } from "../src/distributions/kl";
import { Vae } from "../src/vae/model";
import { LeanAdam, NativeAdam, createAdam } from "../src/vae/adam";
import { binarize, loadMnistPackage } from "../src/vae/data";

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
    const make = (prefix: string) =>
      shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, "float32", 10 + i), true, `${prefix}${i}`));
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
    lean.forEach((v, i) => assertClose(v.dataSync(), plain[i].dataSync(), 1e-5, `variable ${i}`));
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
      native.forEach((v, i) => assertClose(v.dataSync(), plain[i].dataSync(), 1e-5, `variable ${i}`));
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
      lean.forEach((v, i) => v.assign(native[i]));
      const b = new LeanAdam(1e-2);
      await b.setWeights(state.map((w) => ({ name: w.name.replace("resumeN", "resumeL"), tensor: w.tensor })));
      for (let step = 3; step < 6; step++) {
        stepAll(a, native, step);
        stepAll(b, lean, step);
      }
      native.forEach((v, i) => assertClose(v.dataSync(), lean[i].dataSync(), 1e-5, `variable ${i}`));
      assert.deepEqual(snapshot.dataSync(), snapshotValues);
      tf.dispose([...native, ...lean, snapshot]);
      a.dispose();
      b.dispose();
    });
  });

  it('the "flags" dense gradient equals tfjs\'s autodiff ("builtin")', () => {
    const images = loadMnistPackage().images;
    const x = tf.tensor2d(binarize(images.subarray(0, 8 * 784), "threshold"), [8, 784]);
    const a = new Vae({ inputDim: 784, hidden: [24, 16], latentDim: 2, gradient: "flags" }, 5);
    const b = new Vae({ inputDim: 784, hidden: [24, 16], latentDim: 2, gradient: "builtin" }, 5);
    const ga = tf.variableGrads(() => a.loss(x, 9).loss, a.variables());
    const gb = tf.variableGrads(() => b.loss(x, 9).loss, b.variables());
    assertClose(ga.value.dataSync(), gb.value.dataSync(), 1e-6, "loss");
    a.variables().forEach((v, i) => {
      assertClose(ga.grads[v.name].dataSync(), gb.grads[b.variables()[i].name].dataSync(), 1e-4, a.weightNames()[i]);
    });
    a.dispose();
    b.dispose();
    x.dispose();
  });

  it("KL to Normal.standard (short form) equals the general Normal–Normal KL, values and gradients", () => {
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
