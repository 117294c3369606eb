/**
 * The training loop: Adam on minus (5.9), mini-batches of a seeded shuffle, one
 * seeded reparameterized draw per example. Everything random is derived from
 * (seed, epoch, step), so a run resumed from a checkpoint continues exactly as an
 * uninterrupted one would.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError, checkInteger } from "../errors";
import { Rng } from "../random";
import { Vae, VaeConfig, DEFAULT_VAE_CONFIG, checkVaeConfig } from "./model";
import { Binarization, BINARIZATIONS, ImageSet, binarize, checkImageSet, permutation, pixels } from "./data";
import { evaluateElbo } from "./evaluate";
import { saveCheckpoint, loadCheckpoint, hasCheckpoint } from "./checkpoint";
import { createAdam } from "./adam";
import { isInteractiveTerminal, progressBar, yieldToEventLoop } from "../platform";

export interface EpochRecord {
  epoch: number;
  /** Mean training −ELBO over the epoch's steps (nats per example). */
  trainNegElbo: number;
  /** Test −ELBO and its parts after the epoch (when test data is given). */
  testNegElbo?: number;
  testRecon?: number;
  testKl?: number;
  /** Wall time of the epoch's optimizer steps only (not evaluation). */
  trainSeconds: number;
  examplesPerSecond: number;
  msPerStep: number;
}

export interface StepInfo {
  epoch: number;
  /** Step within the epoch (1-based) and steps per epoch. */
  step: number;
  stepsPerEpoch: number;
  globalStep: number;
  loss: number;
}

export interface TrainOptions {
  model?: Partial<VaeConfig>;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  binarization?: Binarization;
  /** Write a checkpoint after every epoch into this folder. */
  checkpointDir?: string;
  /** Continue from checkpointDir's latest checkpoint when one exists. */
  resume?: boolean;
  /** Evaluate test −ELBO after each epoch (default true when test data is given). */
  evaluate?: boolean;
  /** Show a cli-progress bar (default: when stdout is a terminal). */
  progress?: boolean;
  /** Stop after this many optimizer steps in total (for tests and interruptions). */
  maxSteps?: number;
  onStep?: (info: StepInfo) => void | Promise<void>;
  onEpoch?: (record: EpochRecord, model: Vae) => void | Promise<void>;
  /** Called before each step; lets tests poison weights to exercise the NaN guard. */
  beforeStep?: (model: Vae, info: { epoch: number; step: number }) => void;
}

export interface TrainResult {
  model: Vae;
  history: EpochRecord[];
  epochsCompleted: number;
  steps: number;
  /** Epoch the run resumed after (0 for a fresh run). */
  resumedFrom: number;
  stoppedEarly: boolean;
}

export class TrainingDivergedError extends Error {
  constructor(readonly epoch: number, readonly step: number, readonly value: number, hint: string) {
    super(
      `training diverged: the loss is ${value} at epoch ${epoch}, step ${step}. ${hint}` +
        " Try a lower learning rate, and check the data for values outside [0, 1].",
    );
    this.name = "TrainingDivergedError";
  }
}

interface Meta {
  options: Required<Pick<TrainOptions, "batchSize" | "learningRate" | "seed" | "binarization" | "epochs">>;
  history: EpochRecord[];
}

export function resolveTrainOptions(options: TrainOptions) {
  const o = {
    epochs: options.epochs ?? 10,
    batchSize: options.batchSize ?? 128,
    learningRate: options.learningRate ?? 1e-3,
    seed: options.seed ?? 0,
    binarization: options.binarization ?? ("dynamic" as Binarization),
  };
  checkInteger("epochs", o.epochs, 1);
  checkInteger("batchSize", o.batchSize, 1);
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate))) throw new ArgumentError("learningRate", `must be a positive number, got ${o.learningRate}`);
  if (!Number.isInteger(o.seed)) throw new ArgumentError("seed", `must be an integer, got ${o.seed}`);
  if (!BINARIZATIONS.includes(o.binarization)) throw new ArgumentError("binarization", `must be one of ${BINARIZATIONS.join(", ")}, got "${o.binarization}"`);
  if (options.maxSteps !== undefined) checkInteger("maxSteps", options.maxSteps, 1);
  return o;
}

/** The binarized test images the trainer evaluates on (dynamic: one fixed seeded draw). */
export function testImages(test: ImageSet, binarization: Binarization, seed: number): Float32Array {
  return binarize(test.images, binarization, new Rng(`test-binarize/${seed}`));
}

/** A checkpoint resumes only under the options and architecture it was trained with. */
function checkResumable(saved: Meta["options"], savedConfig: VaeConfig, o: Meta["options"], config: VaeConfig, dir: string): void {
  for (const key of ["batchSize", "learningRate", "seed", "binarization"] as const) {
    if (saved[key] !== o[key]) {
      throw new ArgumentError(key, `checkpoint in ${dir} was trained with ${key} = ${saved[key]}, not ${o[key]}; use another folder or matching options`);
    }
  }
  const arch = (c: VaeConfig) => `${c.inputDim}-${c.hidden.join("-")}-${c.latentDim}`;
  if (arch(savedConfig) !== arch(config)) {
    throw new ArgumentError("model", `checkpoint architecture ${arch(savedConfig)} differs from the requested ${arch(config)}`);
  }
}

export async function trainVae(train: ImageSet, test: ImageSet | null, options: TrainOptions = {}): Promise<TrainResult> {
  const o = resolveTrainOptions(options);
  checkImageSet("train", train);
  if (test) checkImageSet("test", test);
  const config = { ...DEFAULT_VAE_CONFIG, ...options.model, inputDim: pixels(train) };
  checkVaeConfig(config);
  if (test && pixels(test) !== config.inputDim) throw new ArgumentError("test", `has ${pixels(test)} pixels per image, train has ${config.inputDim}`);

  let model: Vae;
  let history: EpochRecord[] = [];
  let startEpoch = 0;
  let globalStep = 0;
  let optimizerState: { name: string; tensor: tf.Tensor }[] | null = null;
  if (options.resume && options.checkpointDir && hasCheckpoint(options.checkpointDir)) {
    const ck = loadCheckpoint<Meta>(options.checkpointDir);
    try {
      checkResumable(ck.meta.options, ck.config, o, config, options.checkpointDir);
    } catch (error) {
      ck.model.dispose();
      tf.dispose(ck.optimizerWeights.map((w) => w.tensor));
      throw error;
    }
    model = ck.model;
    optimizerState = ck.optimizerWeights;
    history = ck.meta.history;
    startEpoch = ck.epoch;
    globalStep = ck.step;
  } else {
    model = new Vae(config, o.seed);
  }
  const vars = model.variables();
  const optimizer = createAdam(o.learningRate);
  if (optimizerState) {
    await optimizer.setWeights(optimizerState); // copies what it keeps
    tf.dispose(optimizerState.map((w) => w.tensor));
  }
  const d = config.inputDim;
  const stepsPerEpoch = Math.ceil(train.n / o.batchSize);
  const evalImages = test && (options.evaluate ?? true) ? testImages(test, o.binarization, o.seed) : null;

  const showBar = options.progress ?? isInteractiveTerminal();
  const bar = showBar ? progressBar({ format: "epoch {epoch}/{epochs} [{bar}] {value}/{total} steps | −ELBO {loss} nats | {rate} ex/s" }) : null;

  let stoppedEarly = false;
  try {
    const batchBuf = new Float32Array(o.batchSize * d);
    for (let epoch = startEpoch + 1; epoch <= o.epochs; epoch++) {
      const epochRng = new Rng(`train/${o.seed}/epoch${epoch}`);
      const order = permutation(train.n, epochRng.fork("shuffle"));
      const pixelsEpoch = binarize(train.images, o.binarization, epochRng.fork("binarize"));
      const noise = epochRng.fork("noise");
      let lossSum = 0;
      let stepsDone = 0;
      let trainMs = 0;
      bar?.start(stepsPerEpoch, 0, { epoch, epochs: o.epochs, loss: "…", rate: "…" });
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (options.maxSteps !== undefined && globalStep >= options.maxSteps) {
          stoppedEarly = true;
          break;
        }
        options.beforeStep?.(model, { epoch, step: s + 1 });
        const start = s * o.batchSize;
        const end = Math.min(train.n, start + o.batchSize);
        const m = end - start;
        for (let i = 0; i < m; i++) batchBuf.set(pixelsEpoch.subarray(order[start + i] * d, (order[start + i] + 1) * d), i * d);
        const seed = noise.int32();
        const t0 = performance.now();
        const x = tf.tensor2d(batchBuf.subarray(0, m * d), [m, d]);
        const { value: cost, grads } = tf.variableGrads(() => model.loss(x, seed).loss, vars);
        const value = cost.dataSync()[0];
        // The guard runs before the update, so a NaN never reaches the weights.
        const ok = Number.isFinite(value);
        if (ok) optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        trainMs += performance.now() - t0;
        tf.dispose([x, cost, ...Object.values(grads)]);
        globalStep++;
        if (!ok) {
          throw new TrainingDivergedError(
            epoch,
            s + 1,
            value,
            options.checkpointDir ? `The last good checkpoint is in ${options.checkpointDir}.` : "No checkpoint was being written.",
          );
        }
        lossSum += value * m;
        stepsDone += m;
        bar?.update(s + 1, { loss: value.toFixed(2), rate: Math.round((stepsDone / trainMs) * 1000) });
        if (options.onStep) await options.onStep({ epoch, step: s + 1, stepsPerEpoch, globalStep, loss: value });
        else if (s % 8 === 0) await yieldToEventLoop();
      }
      bar?.stop();
      if (stoppedEarly) break;
      const record: EpochRecord = {
        epoch,
        trainNegElbo: lossSum / stepsDone,
        trainSeconds: trainMs / 1000,
        examplesPerSecond: stepsDone / (trainMs / 1000),
        msPerStep: trainMs / stepsPerEpoch,
      };
      if (evalImages) {
        const r = evaluateElbo(model, evalImages, { seed: o.seed + epoch });
        record.testNegElbo = r.negElbo.value;
        record.testRecon = r.recon.value;
        record.testKl = r.kl.value;
      }
      history.push(record);
      if (options.checkpointDir) {
        await saveCheckpoint<Meta>(options.checkpointDir, model, optimizer, {
          epoch,
          step: globalStep,
          meta: { options: o, history },
        });
      }
      if (options.onEpoch) await options.onEpoch(record, model);
    }
  } catch (error) {
    // A diverged or interrupted run hands back no model: free it (its last good state is
    // the checkpoint, when one was written).
    bar?.stop();
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
  return { model, history, epochsCompleted: history.length, steps: globalStep, resumedFrom: startEpoch, stoppedEarly };
}
