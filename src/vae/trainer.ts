/**
 * Training: Adam on minus (5.9), mini-batches of a seeded shuffle, one seeded
 * reparameterized draw per example. trainVae is a short loop over named steps:
 *
 *   planRun          every check that can be made before any work: options, data, model
 *                    size, the checkpoint folder
 *   openRun          a fresh run or one resumed from its checkpoint, with its training
 *                    step (eager, or one TensorFlow graph per step on tfjs-node: ./steps.ts)
 *   trainEpoch       the epoch's batches (epochBatches) through the step, with the NaN
 *                    guard's verdict and the caller's progress bar
 *   evaluateEpoch    the test −ELBO after the epoch
 *   checkpointEpoch  the epoch saved, when the run has a folder
 *
 * Everything random is derived from (seed, epoch, step), so a run resumed from a
 * checkpoint continues exactly as an uninterrupted one would.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError, assertInteger } from "../errors";
import type { AdamState } from "../fast/adam-state";
import { type ProgressBar, totalMemory, yieldToEventLoop } from "../platform";
import { Rng } from "../random";
import type { NamedTensor } from "../tensors";
import { createAdam } from "./adam";
import { loadCheckpoint, pointLatestAt, prepareCheckpointDir, type RunFolder, saveCheckpoint, settleRunFolder } from "./checkpoint";
import { architecture, assertVaeConfig, DEFAULT_VAE_CONFIG, type VaeConfig, vaeParameterCount } from "./config";
import { assertImageSet, BINARIZATIONS, type Binarization, binarize, fingerprint, type ImageSet, permutation, pixels } from "./data";
import { evaluateElbo } from "./evaluate";
import { Vae } from "./model";
import { openTrainingStep, type TrainingStep } from "./steps";

export { lossAndGradients, trainStep } from "./steps";

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
  /**
   * Write a checkpoint after every epoch into this folder. A fresh run refuses a folder that
   * already holds a run (nothing is overwritten); with `resume` it may also name one epoch
   * folder of a run (`RUN/epoch-0002`), to continue from that epoch.
   */
  checkpointDir?: string;
  /** Continue from the checkpoint in checkpointDir (an error when there is none). */
  resume?: boolean;
  /** How the data was chosen, e.g. {data: "mnist", testFraction: 0.2}: stored in checkpoints, quoted when other data is given. */
  dataSource?: Record<string, string | number>;
  /** Refuse models whose training state would exceed this many bytes (default: the machine's memory). */
  memoryLimit?: number;
  /** Evaluate test −ELBO after each epoch (default true when test data is given). */
  evaluate?: boolean;
  /** A progress bar to draw each epoch on (the command line passes a terminal bar; default none). */
  progress?: ProgressBar;
  /** Stop after this many optimizer steps in total (for tests and interruptions). */
  maxSteps?: number;
  onStep?: (info: StepInfo) => void | Promise<void>;
  /** Called after each epoch (evaluated and saved) with the model; changes made to it carry into the next epoch. */
  onEpoch?: (record: EpochRecord, model: Vae) => void | Promise<void>;
}

export interface TrainResult {
  model: Vae;
  history: EpochRecord[];
  epochsCompleted: number;
  steps: number;
  /** Epoch the run resumed after (0 for a fresh run). */
  resumedFrom: number;
  stoppedEarly: boolean;
  /** How the steps ran: one TensorFlow graph per step (tfjs-node), or eager tfjs kernels. */
  trainingStep: TrainingStep["kind"];
}

export class TrainingDivergedError extends Error {
  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly value: number,
    hint: string,
  ) {
    super(
      `training diverged: the loss is ${value} at epoch ${epoch}, step ${step}. ${hint}` +
        // The images were checked to lie in [0, 1] before training, so the step size is what is left.
        " Try a lower learning rate.",
    );
    this.name = "TrainingDivergedError";
  }
}

/** What a checkpoint records of its data: how it was chosen and content hashes of both sets. */
export interface CheckpointData {
  source: Record<string, string | number> | null;
  train: string;
  test: string | null;
}

/** The trainer's part of a checkpoint's model.json (`meta`). */
export interface TrainMeta {
  options: Required<Pick<TrainOptions, "batchSize" | "learningRate" | "seed" | "binarization" | "epochs">>;
  history: EpochRecord[];
  /** Absent in checkpoints written before data was recorded. */
  data?: CheckpointData;
}
type Meta = TrainMeta;

function resolveTrainOptions(options: TrainOptions) {
  const o = {
    epochs: options.epochs ?? 10,
    batchSize: options.batchSize ?? 128,
    learningRate: options.learningRate ?? 1e-3,
    seed: options.seed ?? 0,
    binarization: options.binarization ?? ("dynamic" as Binarization),
  };
  assertInteger("epochs", o.epochs, 1);
  assertInteger("batchSize", o.batchSize, 1);
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate))) throw new ArgumentError("learningRate", `must be a positive number, got ${o.learningRate}`);
  if (!Number.isInteger(o.seed)) throw new ArgumentError("seed", `must be an integer, got ${o.seed}`);
  if (!BINARIZATIONS.includes(o.binarization)) throw new ArgumentError("binarization", `must be one of ${BINARIZATIONS.join(", ")}, got "${o.binarization}"`);
  if (options.maxSteps !== undefined) assertInteger("maxSteps", options.maxSteps, 1);
  return o;
}

/** The binarized test images the trainer evaluates on (dynamic: one fixed seeded draw). */
export function testImages(test: ImageSet, binarization: Binarization, seed: number): Float32Array {
  return binarize(test.images, binarization, new Rng(`test-binarize/${seed}`));
}

const formatSource = (source: Record<string, string | number>) =>
  Object.entries(source)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");

/** A checkpoint resumes (and is evaluated) only on the data it was trained on. */
export function assertSameData(saved: CheckpointData | undefined, now: { train?: string; test?: string | null }, where: string): void {
  if (!saved) return;
  const source = saved.source ? ` (${formatSource(saved.source)})` : "";
  for (const part of ["train", "test"] as const) {
    const mine = now[part];
    if (mine && saved[part] && mine !== saved[part]) {
      throw new ArgumentError(part, `the ${part} images differ from those the checkpoint ${where} was trained with${source}; use the same data`);
    }
  }
}

const gb = (bytes: number) => Number((bytes / 1e9).toPrecision(2));

/** Weights, gradients and Adam's two moments: 16 bytes per parameter, checked before anything is allocated. */
function checkMemory(config: VaeConfig, limit: number): void {
  const bytes = 16 * vaeParameterCount(config);
  if (bytes > limit) {
    throw new ArgumentError(
      "model",
      `${architecture(config)} has ${vaeParameterCount(config)} parameters; training needs about ${gb(bytes)} GB ` +
        `(weights, gradients and Adam's two moments), more than the limit of ${gb(limit)} GB; use smaller hidden layers or latent dimension`,
    );
  }
}

/** A checkpoint resumes only under the options and architecture it was trained with. */
function checkResumable(saved: Meta["options"], savedConfig: VaeConfig, o: Meta["options"], config: VaeConfig, dir: string): void {
  for (const key of ["batchSize", "learningRate", "seed", "binarization"] as const) {
    if (saved[key] !== o[key]) {
      throw new ArgumentError(key, `checkpoint in ${dir} was trained with ${key} = ${saved[key]}, not ${o[key]}; use another folder or matching options`);
    }
  }
  if (architecture(savedConfig) !== architecture(config)) {
    throw new ArgumentError("model", `checkpoint architecture ${architecture(savedConfig)} differs from the requested ${architecture(config)}`);
  }
}

/** One batch of an epoch's images, in training order. */
export interface Batch {
  /** Step within the epoch, from 1. */
  step: number;
  /** rows × pixels values: a view into a buffer that the epoch's next batch overwrites. */
  images: Float32Array;
  rows: number;
  /** Seed of the batch's reparameterized draws. */
  seed: number;
}

/**
 * The batches of one epoch: the training images in a seeded random order, binarized
 * afresh for the epoch (dynamic binarization draws new pixels each time), cut into
 * batches of `batchSize` (the last may be smaller), each with the seed of its draws.
 * Everything derives from (seed, epoch).
 */
export function* epochBatches(train: ImageSet, epoch: number, options: { batchSize: number; binarization: Binarization; seed: number }): Generator<Batch> {
  const d = pixels(train);
  const epochRng = new Rng(`train/${options.seed}/epoch${epoch}`);
  const order = permutation(train.n, epochRng.fork("shuffle"));
  const images = binarize(train.images, options.binarization, epochRng.fork("binarize"));
  const noise = epochRng.fork("noise");
  const buffer = new Float32Array(options.batchSize * d);
  for (let start = 0, step = 1; start < train.n; start += options.batchSize, step++) {
    const rows = Math.min(options.batchSize, train.n - start);
    for (let i = 0; i < rows; i++) buffer.set(images.subarray(order[start + i] * d, (order[start + i] + 1) * d), i * d);
    yield { step, images: buffer.subarray(0, rows * d), rows, seed: noise.int32() };
  }
}

// ---------------------------------------------------------------- the run

/** What planRun settled: the options resolved, the data, and the folder, all checked. */
interface RunPlan {
  o: Meta["options"];
  options: TrainOptions;
  config: VaeConfig;
  train: ImageSet;
  /** The binarized test images to evaluate on after each epoch, when asked for. */
  evalImages: Float32Array | null;
  /** The checkpoint folder, when the run has one, and what checkpoints record of the data. */
  folder: { dir: string; run: RunFolder; data: CheckpointData } | null;
  stepsPerEpoch: number;
}

/** A run in progress. */
interface Run {
  plan: RunPlan;
  model: Vae;
  optimizer: AdamState;
  step: TrainingStep;
  history: EpochRecord[];
  resumedFrom: number;
  globalStep: number;
  /** The newest checkpoint on disk for this run: what a divergence falls back to. */
  lastGood: string | null;
  stoppedEarly: boolean;
}

/**
 * Trains a VAE on `train` for `epochs` epochs, evaluating the test −ELBO after each epoch
 * and checkpointing it when `checkpointDir` is given. Everything that can be checked
 * (options, data, model size, the checkpoint folder) is checked before the first step.
 */
export async function trainVae(train: ImageSet, test: ImageSet | null, options: TrainOptions = {}): Promise<TrainResult> {
  const plan = planRun(train, test, options);
  const run = await openRun(plan);
  try {
    for (let epoch = run.resumedFrom + 1; epoch <= plan.o.epochs; epoch++) {
      const record = await trainEpoch(run, epoch);
      await run.step.sync(); // the model as the steps left it, for what follows
      if (!record) break; // stopped at maxSteps
      await evaluateEpoch(run, record);
      await checkpointEpoch(run, record);
      if (options.onEpoch) await options.onEpoch(record, run.model);
    }
  } catch (error) {
    // A diverged or interrupted run hands back no model: free it (its last good state is
    // the checkpoint, when one was written).
    run.model.dispose();
    throw error;
  } finally {
    run.step.dispose();
    run.optimizer.dispose();
  }
  const { model, history, globalStep: steps, resumedFrom, stoppedEarly } = run;
  return { model, history, epochsCompleted: history.length, steps, resumedFrom, stoppedEarly, trainingStep: run.step.kind };
}

/** Checks everything that can be checked before any work; the checkpoint folder is settled and made writable. */
function planRun(train: ImageSet, test: ImageSet | null, options: TrainOptions): RunPlan {
  const o = resolveTrainOptions(options);
  assertImageSet("train", train);
  if (test) assertImageSet("test", test);
  const config = { ...DEFAULT_VAE_CONFIG, ...options.model, inputDim: pixels(train) };
  assertVaeConfig(config);
  if (test && pixels(test) !== config.inputDim) throw new ArgumentError("test", `has ${pixels(test)} pixels per image, train has ${config.inputDim}`);
  if (o.batchSize > train.n) throw new ArgumentError("batchSize", `${o.batchSize} is more than the ${train.n} training images; use at most ${train.n}`);
  checkMemory(config, options.memoryLimit ?? totalMemory());
  if (options.resume && !options.checkpointDir) throw new ArgumentError("resume", "needs a checkpointDir");
  // The checkpoint folder is settled before any work: nothing of an earlier run is overwritten.
  const dir = options.checkpointDir;
  let folder: RunPlan["folder"] = null;
  if (dir) {
    const run = settleRunFolder(dir, Boolean(options.resume));
    prepareCheckpointDir(run.runDir);
    // What checkpoints record of the data (content hashes: only a run with checkpoints needs them).
    folder = { dir, run, data: { source: options.dataSource ?? null, train: fingerprint(train), test: test ? fingerprint(test) : null } };
  }
  const evalImages = test && (options.evaluate ?? true) ? testImages(test, o.binarization, o.seed) : null;
  return { o, options, config, train, evalImages, folder, stepsPerEpoch: Math.ceil(train.n / o.batchSize) };
}

/** A fresh run, or the run in the checkpoint folder (checked against these options and data), with its training step. */
async function openRun(plan: RunPlan): Promise<Run> {
  const { o, config, folder } = plan;
  const optimizer = createAdam(o.learningRate);
  let model: Vae;
  let history: EpochRecord[] = [];
  let resumedFrom = 0;
  let globalStep = 0;
  let lastGood: string | null = null;
  if (plan.options.resume && folder) {
    const ck = loadCheckpoint<Meta>(folder.dir);
    try {
      checkResumable(ck.meta.options, ck.config, o, config, folder.dir);
      assertSameData(ck.meta.data, folder.data, ck.path);
      await optimizer.setWeights(ck.optimizerWeights); // copies what it keeps
    } catch (error) {
      ck.model.dispose();
      optimizer.dispose();
      throw error;
    } finally {
      tf.dispose(ck.optimizerWeights.map((w: NamedTensor) => w.tensor));
    }
    // Resuming from an earlier epoch folder: it becomes the run's latest before the run goes on.
    if (folder.run.epochFolder && ck.epoch < o.epochs) pointLatestAt(folder.run.epochFolder);
    ({ model, epoch: resumedFrom, step: globalStep } = ck);
    history = ck.meta.history;
    lastGood = ck.path;
  } else {
    model = new Vae(config, o.seed);
  }
  const lastRows = plan.train.n - (plan.stepsPerEpoch - 1) * o.batchSize;
  const step = await openTrainingStep(model, optimizer, [o.batchSize, lastRows]);
  return { plan, model, optimizer, step, history, resumedFrom, globalStep, lastGood, stoppedEarly: false };
}

/** One epoch of steps; its record, or null when the run stops here (maxSteps). A loss that is not finite ends the run. */
async function trainEpoch(run: Run, epoch: number): Promise<EpochRecord | null> {
  const { o, options, train, stepsPerEpoch } = run.plan;
  const bar = options.progress;
  let lossSum = 0;
  let examples = 0;
  let trainMs = 0;
  bar?.start(stepsPerEpoch, 0, { epoch, epochs: o.epochs, loss: "…", rate: "…" });
  try {
    for (const batch of epochBatches(train, epoch, o)) {
      if (options.maxSteps !== undefined && run.globalStep >= options.maxSteps) {
        run.stoppedEarly = true;
        return null;
      }
      const t0 = performance.now();
      const loss = await run.step.run(batch.images, batch.rows, batch.seed);
      trainMs += performance.now() - t0;
      run.globalStep++;
      if (!Number.isFinite(loss)) throw diverged(run, epoch, batch.step, loss);
      lossSum += loss * batch.rows;
      examples += batch.rows;
      bar?.update(batch.step, { loss: loss.toFixed(2), rate: Math.round((examples / trainMs) * 1000) });
      if (options.onStep) await options.onStep({ epoch, step: batch.step, stepsPerEpoch, globalStep: run.globalStep, loss });
      else if (batch.step % 8 === 1) await yieldToEventLoop();
    }
  } finally {
    bar?.stop();
  }
  return {
    epoch,
    trainNegElbo: lossSum / examples,
    trainSeconds: trainMs / 1000,
    examplesPerSecond: examples / (trainMs / 1000),
    msPerStep: trainMs / stepsPerEpoch,
  };
}

function diverged(run: Run, epoch: number, step: number, loss: number): TrainingDivergedError {
  const hint = run.lastGood
    ? `The last good checkpoint is ${run.lastGood}.`
    : run.plan.folder
      ? "No checkpoint was written: the run diverged before its first epoch ended."
      : "No checkpoint was being written.";
  return new TrainingDivergedError(epoch, step, loss, hint);
}

/** The test −ELBO and its parts, after the epoch (when the run evaluates); read asynchronously, as WebGPU needs. */
async function evaluateEpoch(run: Run, record: EpochRecord): Promise<void> {
  const images = run.plan.evalImages;
  if (!images) return;
  const r = await evaluateElbo(run.model, images, { seed: run.plan.o.seed + record.epoch });
  record.testNegElbo = r.negElbo.value;
  record.testRecon = r.recon.value;
  record.testKl = r.kl.value;
}

/** The epoch in the history, and on disk when the run has a folder. */
async function checkpointEpoch(run: Run, record: EpochRecord): Promise<void> {
  run.history.push(record);
  const folder = run.plan.folder;
  if (!folder) return;
  run.lastGood = await saveCheckpoint<Meta>(folder.run.runDir, run.model, run.optimizer, {
    epoch: record.epoch,
    step: run.globalStep,
    meta: { options: run.plan.o, history: run.history, data: folder.data },
  });
}
