/**
 * The VAE: its loss against an independent float64 computation of −(recon − KL), one
 * training step and the epoch's batches, training that lowers the loss and repeats bit
 * for bit with the same seed, checkpoint + resume
 * equal to an uninterrupted run, the NaN guard, the IWAE ladder's ordering, and the
 * command line's validation. Small models and data keep this file to a few seconds.
 */

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { CommanderError } from "commander";
import { buildProgram } from "../scripts/train";
import { initBackend } from "../src/backend";
import { ArgumentError } from "../src/errors";
import { createAdam } from "../src/vae/adam";
import { loadCheckpoint } from "../src/vae/checkpoint";
import { binarize, type ImageSet } from "../src/vae/data";
import { activeUnits, evaluateElbo, iwaeLadder, iwaePlan } from "../src/vae/evaluate";
import { Vae } from "../src/vae/model";
import { epochBatches, TrainingDivergedError, trainStep, trainVae } from "../src/vae/trainer";
import { assertArgumentError, assertRejectsArgumentError } from "./support/assert";
import { smallDigits } from "./support/digits";

const SMALL = { hidden: [32], latentDim: 3 };

function softplus(l: number): number {
  return Math.max(l, 0) + Math.log1p(Math.exp(-Math.abs(l)));
}

/** x·W + b in float64 for row-major W [fanIn, fanOut]. */
function affine(x: number[], W: Float32Array, b: Float32Array): number[] {
  const out = Array.from(b, Number);
  for (let i = 0; i < x.length; i++) {
    if (x[i] === 0) continue;
    for (let j = 0; j < out.length; j++) out[j] += x[i] * W[i * out.length + j];
  }
  return out;
}

describe("Gaussian VAE", function () {
  this.timeout(60000);
  let train: ImageSet;
  let test: ImageSet;
  let tmp: string;

  before(async () => {
    await initBackend({ quiet: true });
    ({ train, test } = smallDigits());
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vae-test-"));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("the loss is −(recon − KL) of (5.9), recomputed independently in float64", () => {
    const model = new Vae({ inputDim: 784, ...SMALL }, 3);
    const x = binarize(train.images.subarray(0, 4 * 784), "threshold");
    const seed = 77;
    const out = model.loss(tf.tensor2d(x, [4, 784]), seed);
    const loss = out.loss.dataSync()[0];
    const recon = Array.from(out.recon.dataSync());
    const klv = Array.from(out.kl.dataSync());
    // The same ε the model drew (the seed fixes it; ε is an input here, not under test).
    const eps = tf.randomNormal([4, 3], 0, 1, "float32", seed).dataSync();
    const w = model.getWeights();
    const get = (name: string) => w[name].dataSync() as Float32Array;
    let total = 0;
    for (let r = 0; r < 4; r++) {
      const xr = Array.from(x.subarray(r * 784, (r + 1) * 784));
      const h = affine(xr, get("enc0/kernel"), get("enc0/bias")).map((v) => Math.max(v, 0));
      const mu = affine(h, get("loc/kernel"), get("loc/bias"));
      const logVar = affine(h, get("logvar/kernel"), get("logvar/bias"));
      const sd = logVar.map((v) => Math.exp(0.5 * v));
      const z = mu.map((m, j) => m + sd[j] * eps[r * 3 + j]);
      const hd = affine(z, get("dec0/kernel"), get("dec0/bias")).map((v) => Math.max(v, 0));
      const logits = affine(hd, get("out/kernel"), get("out/bias"));
      const rec = logits.reduce((s, l, j) => s + xr[j] * l - softplus(l), 0);
      const kl = mu.reduce((s, m, j) => s + 0.5 * (m * m + sd[j] * sd[j] - 1 - Math.log(sd[j] * sd[j])), 0);
      // float32 sums of ~800 terms of size ~1: agree to ~1e-4 relative.
      assert.ok(Math.abs(recon[r] - rec) < 1e-4 * Math.abs(rec) + 1e-3, `recon[${r}] ${recon[r]} vs ${rec}`);
      assert.ok(Math.abs(klv[r] - kl) < 1e-4 * kl + 1e-5, `kl[${r}] ${klv[r]} vs ${kl}`);
      total += kl - rec;
    }
    assert.ok(Math.abs(loss - total / 4) < 1e-4 * Math.abs(total / 4), `loss ${loss} vs ${total / 4}`);
    model.dispose();
  });

  it("a model's whole life (build, loss, a training step, optimizer state saved, dispose) leaves no tensor behind", async () => {
    const before = tf.memory().numTensors;
    const model = new Vae({ inputDim: 784, ...SMALL }, 3);
    assert.equal(tf.memory().numTensors - before, model.variables().length + 2, "the variables and the prior's two parameters");
    const x = tf.tensor2d(binarize(train.images.subarray(0, 4 * 784), "threshold"), [4, 784]);
    const optimizer = createAdam(1e-3);
    const { value, grads } = tf.variableGrads(() => model.loss(x, 5).loss, model.variables());
    optimizer.applyGradients(model.variables().map((v) => ({ name: v.name, tensor: grads[v.name] })));
    await optimizer.getWeights(); // the optimizer owns what it hands out, until its next step or dispose
    tf.dispose([x, value, ...Object.values(grads)]);
    optimizer.dispose();
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it("trainStep takes one Adam step and returns the loss before it; a NaN loss leaves the weights as they were", async () => {
    const model = new Vae({ inputDim: 784, ...SMALL }, 3);
    const x = tf.tensor2d(binarize(train.images.subarray(0, 8 * 784), "threshold"), [8, 784]);
    const optimizer = createAdam(1e-3);
    const before = model.variables().map((v) => v.dataSync().slice());
    const expected = tf.tidy(() => model.loss(x, 11).loss.dataSync()[0]);
    assert.equal(await trainStep(model, optimizer, x, 11), expected);
    const after = model.variables().map((v) => v.dataSync().slice());
    // Adam's first step moves every weight with a nonzero gradient by about the learning rate.
    for (const [i, w] of after.entries()) assert.notDeepEqual(w, before[i], model.weightNames()[i]);
    const moved = Math.max(...after[0].map((v, j) => Math.abs(v - before[0][j])));
    assert.ok(moved > 5e-4 && moved < 2e-3, `largest move ${moved}`);
    tf.tidy(() => model.variables()[1].assign(tf.fill(model.variables()[1].shape, NaN)));
    const poisoned = model.variables().map((v) => v.dataSync().slice());
    assert.ok(Number.isNaN(await trainStep(model, optimizer, x, 12)));
    for (const [i, v] of model.variables().entries()) assert.deepEqual(v.dataSync(), poisoned[i], `${model.weightNames()[i]} unchanged`);
    tf.dispose(x);
    optimizer.dispose();
    model.dispose();
  });

  it("epochBatches: each image once per epoch in a seeded order, the same batches for the same (seed, epoch)", () => {
    const options = { batchSize: 100, binarization: "threshold" as const, seed: 2 };
    const take = (epoch: number, seed = options.seed) =>
      Array.from(epochBatches(train, epoch, { ...options, seed }), (b) => ({ ...b, images: b.images.slice() }));
    const batches = take(1);
    assert.deepEqual(
      batches.map((b) => [b.step, b.rows]),
      [
        [1, 100],
        [2, 100],
        [3, 100],
        [4, 84],
      ],
    );
    // Every image exactly once: the binarized rows, as multisets of strings, are the training set's.
    const rows = (images: Float32Array, n: number) => Array.from({ length: n }, (_, i) => images.subarray(i * 784, (i + 1) * 784).join(""));
    const seen = batches.flatMap((b) => rows(b.images, b.rows)).sort();
    assert.deepEqual(seen, rows(binarize(train.images, "threshold"), train.n).sort());
    assert.deepEqual(take(1), batches, "same seed and epoch, same batches and seeds");
    assert.notDeepEqual(take(2)[0].images, batches[0].images, "another epoch, another order");
    assert.notDeepEqual(take(1, 3)[0].images, batches[0].images, "another seed, another order");
    assert.equal(new Set(batches.map((b) => b.seed)).size, batches.length, "a seed for each step");
  });

  it("training lowers the loss and repeats exactly with the same seed", async () => {
    const opts = { model: SMALL, epochs: 3, batchSize: 128, seed: 4, learningRate: 3e-3 };
    const r1 = await trainVae(train, test, opts);
    const r2 = await trainVae(train, test, opts);
    const h = r1.history;
    assert.equal(h.length, 3);
    assert.ok(h[2].trainNegElbo < h[0].trainNegElbo - 20, `train −ELBO ${h.map((e) => e.trainNegElbo.toFixed(1))}`);
    assert.ok(h[2].testNegElbo! < h[0].testNegElbo!, `test −ELBO ${h.map((e) => e.testNegElbo!.toFixed(1))}`);
    assert.deepEqual(
      h.map((e) => [e.trainNegElbo, e.testNegElbo]),
      r2.history.map((e) => [e.trainNegElbo, e.testNegElbo]),
    );
    const w1 = r1.model.getWeights();
    const w2 = r2.model.getWeights();
    for (const k of Object.keys(w1)) assert.deepEqual(w1[k].dataSync(), w2[k].dataSync(), k);
    const r3 = await trainVae(train, null, { ...opts, epochs: 1, seed: 5 });
    assert.notEqual(r3.history[0].trainNegElbo, h[0].trainNegElbo);
    for (const r of [r1, r2, r3]) r.model.dispose();
  });

  it("a run interrupted mid-epoch and resumed from its checkpoint equals an uninterrupted run", async () => {
    const base = { model: SMALL, epochs: 3, batchSize: 128, seed: 6, binarization: "dynamic" as const };
    const tensorsBefore = tf.memory().numTensors;
    const full = await trainVae(train, test, { ...base, checkpointDir: path.join(tmp, "full") });
    const dir = path.join(tmp, "interrupted");
    // Stop after 4 steps: epoch 1 (3 steps) is checkpointed, epoch 2 is lost.
    const cut = await trainVae(train, test, { ...base, checkpointDir: dir, maxSteps: 4 });
    assert.ok(cut.stoppedEarly);
    assert.equal(cut.epochsCompleted, 1);
    const saved = loadCheckpoint(dir);
    assert.equal(saved.epoch, 1);
    const json = JSON.parse(fs.readFileSync(path.join(saved.path, "model.json"), "utf8"));
    assert.ok(Array.isArray(json.weightsManifest) && json.weightsManifest[0].paths[0] === "weights.bin", "tfjs weights manifest");
    assert.ok(!fs.readdirSync(dir).some((f) => f.includes(".tmp")), "no temporary files left behind");
    saved.model.dispose();
    tf.dispose(saved.optimizerWeights.map((w) => w.tensor));
    const resumed = await trainVae(train, test, { ...base, checkpointDir: dir, resume: true });
    assert.equal(resumed.resumedFrom, 1);
    assert.deepEqual(
      resumed.history.map((e) => [e.epoch, e.trainNegElbo, e.testNegElbo]),
      full.history.map((e) => [e.epoch, e.trainNegElbo, e.testNegElbo]),
    );
    const a = full.model.getWeights();
    const b = resumed.model.getWeights();
    for (const k of Object.keys(a)) assert.deepEqual(a[k].dataSync(), b[k].dataSync(), k);
    tf.dispose([...Object.values(a), ...Object.values(b)]);
    await assert.rejects(
      trainVae(train, test, { ...base, checkpointDir: dir, resume: true, learningRate: 0.01 }),
      (e: Error) => e instanceof ArgumentError && /learningRate/.test(e.message),
    );
    for (const r of [full, cut, resumed]) r.model.dispose();
    // Checkpointing, resuming and refusing to resume hold no tensor beyond the models.
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });

  it("the NaN guard stops training with a clear message, and frees the model", async () => {
    const tensorsBefore = tf.memory().numTensors;
    // Weights made NaN between epochs (onEpoch hands out the model): the next step's loss is NaN.
    const poison = (_: unknown, m: Vae) => void tf.tidy(() => m.variables()[0].assign(tf.fill(m.variables()[0].shape, NaN)));
    await assert.rejects(
      trainVae(train, null, { model: SMALL, epochs: 2, onEpoch: poison }),
      (e: Error) =>
        e instanceof TrainingDivergedError && /training diverged: the loss is NaN at epoch 2, step 1/.test(e.message) && /learning rate/.test(e.message),
    );
    assert.equal(tf.memory().numTensors, tensorsBefore);
    await assert.rejects(trainVae(train, null, { epochs: 0 }), /epochs: must be at least 1/);
    await assert.rejects(trainVae(train, null, { binarization: "x" as never }), /binarization/);
  });

  it("ELBO ≤ IWAE_k, rising with k, on a trained model; evaluation parts add up", async () => {
    const r = await trainVae(train, null, { model: SMALL, epochs: 2, seed: 1, binarization: "threshold" });
    const x = binarize(test.images, "threshold");
    const lad = await iwaeLadder(r.model, x, [1, 4, 16, 64], { seed: 2, subset: 50 });
    assert.equal(lad.rungs[0].estimate.value, lad.elbo.value); // k = 1 is the ELBO by definition
    for (const rung of lad.rungs.slice(1)) {
      // Paired over the same draws the sign of the gap is certain (concavity of log); its size beyond 4 SE is not.
      assert.ok(rung.gapOverElbo.value > 4 * rung.gapOverElbo.stdError, `k=${rung.k}: gap ${rung.gapOverElbo.value} ± ${rung.gapOverElbo.stdError}`);
      assert.equal(rung.perExample.length, lad.elboPerExample.length);
    }
    // Rising with k from independent draws: neighbouring rungs alternate between two ladders
    // (nested groups of the same draws would rise for any draws), paired over images.
    const ladders = [await iwaeLadder(r.model, x, [1, 8, 64], { seed: 4, subset: 150 }), await iwaeLadder(r.model, x, [1, 8, 64], { seed: 5, subset: 150 })];
    const alternating = ladders[0].rungs.map((_, i) => ladders[i % 2].rungs[i]);
    for (let i = 1; i < alternating.length; i++) {
      const step = Array.from(alternating[i].perExample, (v, j) => v - alternating[i - 1].perExample[j]);
      const mean = step.reduce((a, b) => a + b, 0) / step.length;
      const se = Math.sqrt(step.reduce((a, b) => a + (b - mean) ** 2, 0) / (step.length - 1) / step.length);
      assert.ok(mean > 4 * se, `k = ${alternating[i - 1].k} → ${alternating[i].k}: step ${mean} ± ${se}`);
    }
    const e = await evaluateElbo(r.model, x);
    assert.ok(Math.abs(e.negElbo.value - (e.kl.value - e.recon.value)) < 1e-9 * e.negElbo.value);
    assert.ok(e.kl.value > 0);
    const au = await activeUnits(r.model, x);
    assert.equal(au.variances.length, 3);
    assert.equal(au.count, au.variances.filter((v) => v > 0.01).length);
    await assert.rejects(iwaeLadder(r.model, x, [3, 4]), /every k must divide the largest/);
    r.model.dispose();
  });

  describe("edges: bad input is named before any work", () => {
    /** A model whose every forward pass fails, to show that a check comes before the work. */
    function noWork(model: Vae): Vae {
      const fail = () => {
        throw new Error("the work started before the check");
      };
      return Object.create(model, { encode: { value: fail }, decode: { value: fail }, loss: { value: fail } });
    }

    it("Vae.loss and the evaluations reject pixels outside [0, 1], NaN, and non-float32 tensors", async () => {
      const model = new Vae({ inputDim: 4, hidden: [3], latentDim: 2 }, 1);
      const tensorsBefore = tf.memory().numTensors;
      const bad: [number[], RegExp][] = [
        [[0, 1, 2, 0.5], /pixel 2 is 2/],
        [[0, NaN, 1, 1], /pixel 1 is NaN/],
        [[-0.5, 0, 1, 1], /pixel 0 is -0.5/],
      ];
      for (const [values, pattern] of bad) {
        const x = tf.tensor2d(values, [1, 4]);
        assertArgumentError(() => model.loss(x, 1), "x", pattern);
        x.dispose();
        const twoImages = Float32Array.from([...values, ...values]);
        await assertRejectsArgumentError(evaluateElbo(noWork(model), twoImages), "images", pattern);
        await assertRejectsArgumentError(activeUnits(noWork(model), twoImages), "images", pattern);
      }
      const ints = tf.tensor2d([0, 1, 1, 0], [1, 4], "int32");
      assertArgumentError(() => model.loss(ints, 1), "x", /float32 tensor, got int32/);
      assertArgumentError(() => model.encode(ints), "x", /float32 tensor, got int32/);
      ints.dispose();
      const z = tf.tensor2d([0, 1], [1, 2], "int32");
      assertArgumentError(() => model.decoderLogits(z as tf.Tensor2D), "z", /float32 tensor, got int32/);
      z.dispose();
      assert.equal(tf.memory().numTensors, tensorsBefore, "a rejected call leaves no tensor behind");
      // Valid input still works, with and without the check.
      const x = tf.tensor2d([0, 1, 0.25, 1], [1, 4]);
      const a = model.loss(x, 3);
      const b = model.loss(x, 3, { validateArgs: false });
      assert.equal(a.loss.dataSync()[0], b.loss.dataSync()[0]);
      assert.ok(Number.isFinite(a.loss.dataSync()[0]));
      tf.dispose([x, a.loss, a.recon, a.kl, b.loss, b.recon, b.kl]);
      model.dispose();
    });

    it("the IWAE ladder checks its subset and its memory before drawing anything", async () => {
      const model = new Vae({ inputDim: 784, ...SMALL }, 1);
      const x = binarize(test.images, "threshold");
      // A standard error needs two images; this used to fail only after the whole pass.
      await assertRejectsArgumentError(iwaeLadder(noWork(model), x, [1, 10], { subset: 1 }), "subset", /at least 2/);
      // 10^6 draws × 200 images of float64 weights: refused up front (it used to overflow the stack).
      await assertRejectsArgumentError(iwaeLadder(noWork(model), x, [1, 1_000_000]), "ks", /1000000 draws × 200 images/);
      assert.deepEqual(iwaePlan(200, [1, 10, 100], 500), { draws: 100, examples: 200 });
      // More draws than the largest k: each rung averages over more groups; a multiple of every k.
      assert.deepEqual(iwaePlan(200, [1, 50], 100, 200), { draws: 200, examples: 100 });
      assertArgumentError(() => iwaePlan(200, [1, 50], 100, 120), "draws", /multiple of every k; 50 does not divide 120/);
      await assertRejectsArgumentError(iwaeLadder(noWork(model), x, [1, 10], { draws: 2_000_000 }), "draws", /2000000 draws × 200 images/);
      // Large groups are averaged with a loop, not a spread into Math.max.
      const lad = await iwaeLadder(model, x, [1, 200_000], { subset: 2, maxBatch: 8192 });
      assert.ok(Number.isFinite(lad.rungs[1].estimate.value) && lad.rungs[1].gapOverElbo.value > 0);
      model.dispose();
    });

    it("a model too large to allocate, or a batch larger than the data, is named before training", async () => {
      const shape = { inputDim: 784, hidden: [24, 16], latentDim: 3 };
      const counted = new Vae(shape);
      assert.equal(
        counted.parameterCount(),
        counted.variables().reduce((s, v) => s + v.size, 0),
        "parameters counted from the config",
      );
      counted.dispose();
      assertArgumentError(() => new Vae({ inputDim: 784, hidden: [16], latentDim: 1_000_000_000 }), "latentDim", /16×1000000000/);
      assertArgumentError(() => new Vae({ inputDim: 784, hidden: [3_000_000], latentDim: 2 }), "hidden[0]", /784×3000000/);
      const tensorsBefore = tf.memory().numTensors;
      await assert.rejects(
        trainVae(train, null, { model: SMALL, batchSize: 100_000_000 }),
        (e: Error) => e instanceof ArgumentError && e.argument === "batchSize" && /more than the 384 training images/.test(e.message),
      );
      await assert.rejects(
        trainVae(train, null, { model: SMALL, memoryLimit: 100_000 }),
        (e: Error) => e instanceof ArgumentError && e.argument === "model" && /needs about 0\.00082 GB .*limit of 0\.0001 GB/.test(e.message),
      );
      assert.equal(tf.memory().numTensors, tensorsBefore);
    });
  });

  describe("command line (scripts/train.ts)", () => {
    function parse(args: string[]): { error?: string; opts?: Record<string, unknown> } {
      let seen: Record<string, unknown> | undefined;
      let err = "";
      const program = buildProgram({
        onTrain: (o) => {
          seen = o;
        },
        onEvaluate: (o) => {
          seen = o;
        },
      });
      const quiet = (cmd: typeof program) => {
        cmd.exitOverride().configureOutput({ writeErr: (s) => (err += s), writeOut: () => {} });
        for (const c of cmd.commands) quiet(c as typeof program);
      };
      quiet(program);
      try {
        program.parse(["node", "train", ...args]);
      } catch (e) {
        if (!(e instanceof CommanderError)) throw e;
        return { error: err || e.message };
      }
      return { opts: seen };
    }

    it("has defaults that match the classic example", () => {
      const { opts } = parse(["train"]);
      assert.ok(opts);
      assert.equal(opts.epochs, 10);
      assert.equal(opts.batchSize, 128);
      assert.equal(opts.lr, 1e-3);
      assert.deepEqual(opts.hidden, [400]);
      assert.equal(opts.latent, 20);
      assert.equal(opts.binarization, "dynamic");
      assert.deepEqual(parse(["train", "--hidden", "512,256", "--lr", "3e-4"]).opts?.hidden, [512, 256]);
      assert.deepEqual(parse(["evaluate", "--iwae-k", "1,5,50"]).opts?.iwaeK, [1, 5, 50]);
    });

    it("rejects every bad option value with a message naming the option", () => {
      const bad: [string[], RegExp][] = [
        [["train", "--epochs", "0"], /--epochs <n>.*'0' is invalid. must be a positive integer/],
        [["train", "--epochs", "2.5"], /--epochs/],
        [["train", "--batch-size", "x"], /--batch-size/],
        [["train", "--lr", "-1"], /--lr <x>.*must be a positive number/],
        [["train", "--lr", "abc"], /--lr/],
        [["train", "--hidden", "400,"], /--hidden <list>/],
        [["train", "--latent", "-3"], /--latent/],
        [["train", "--binarization", "maybe"], /--binarization <mode>.*Allowed choices are none, threshold, dynamic/],
        [["train", "--test-fraction", "1"], /--test-fraction/],
        [["train", "--data", "/no/such/folder"], /--data <mnist\|dir>.*is not a folder/],
        [["train", "--seed", "x"], /--seed/],
        [["train", "--backend", "gpu"], /--backend <name>.*Allowed choices are tensorflow, wasm, cpu/],
        [["train", "--bogus"], /unknown option '--bogus'/],
        [["evaluate", "--iwae-k", "0,10"], /--iwae-k/],
        [["evaluate", "--subset", "0"], /--subset/],
        // One image has no standard error: refused at parse time, not after the IWAE pass.
        [["evaluate", "--subset", "1"], /--subset <n>.*must be an integer of at least 2/],
      ];
      for (const [args, pattern] of bad) {
        const { error } = parse(args);
        assert.ok(error && pattern.test(error), `${args.join(" ")} → ${error}`);
      }
    });
  });
});
