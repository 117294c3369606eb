/**
 * Training: Adam on minus (5.9), mini-batches of a seeded shuffle, one seeded
 * reparameterized draw per example. Three parts:
 *
 *   epochBatches  the batches of one epoch (shuffle, binarization, per-step seeds)
 *   trainStep     one optimizer step on one batch, nothing else
 *   trainVae      the run around them: checks before any work, resume, checkpoints,
 *                 evaluation after each epoch, progress and callbacks
 *
 * Everything random is derived from (seed, epoch, step), so a run resumed from a
 * checkpoint continues exactly as an uninterrupted one would.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError, checkInteger } from "../errors";
import { Rng } from "../random";
import { Vae } from "./model";
import { DEFAULT_VAE_CONFIG, type VaeConfig, architecture, checkVaeConfig, vaeParameterCount } from "./config";
import { Binarization, BINARIZATIONS, ImageSet, binarize, checkImageSet, fingerprint, permutation, pixels } from "./data";
import { evaluateElbo } from "./evaluate";
import { type RunFolder, holdsRun, inspectCheckpointDir, loadCheckpoint, pointLatestAt, prepareCheckpointDir, saveCheckpoint } from "./checkpoint";
import { createAdam } from "./adam";
import type { NamedTensor } from "../tensors";
import { isInteractiveTerminal, progressBar, totalMemory, yieldToEventLoop } from "../platform";

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

const formatSource = (source: Record<string, string | number>) => Object.entries(source).map(([k, v]) => `${k} ${v}`).join(", ");

/** A checkpoint resumes (and is evaluated) only on the data it was trained on. */
export function checkSameData(saved: CheckpointData | undefined, now: { train?: string; test?: string | null }, where: string): void {
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

/** Where a run starts: its model, Adam's state, the history so far, and the epoch and step it has done. */
interface RunStart {
  model: Vae;
  optimizerState: NamedTensor[] | null;
  history: EpochRecord[];
  epoch: number;
  step: number;
  /** The checkpoint it starts from, if any. */
  checkpoint: string | null;
}

function freshRun(config: VaeConfig, seed: number): RunStart {
  return { model: new Vae(config, seed), optimizerState: null, history: [], epoch: 0, step: 0, checkpoint: null };
}

/** The checkpoint in `dir` (of `run`), if it was trained with these options and architecture on this data. */
function resumeRun(dir: string, run: RunFolder, o: Meta["options"], config: VaeConfig, data: CheckpointData): RunStart {
  const ck = loadCheckpoint<Meta>(dir);
  try {
    checkResumable(ck.meta.options, ck.config, o, config, dir);
    checkSameData(ck.meta.data, data, ck.path);
  } catch (error) {
    ck.model.dispose();
    tf.dispose(ck.optimizerWeights.map((w) => w.tensor));
    throw error;
  }
  // Resuming from an earlier epoch folder: it becomes the run's latest before the run goes on.
  if (run.epochFolder && ck.epoch < o.epochs) pointLatestAt(run.epochFolder);
  return { model: ck.model, optimizerState: ck.optimizerWeights, history: ck.meta.history, epoch: ck.epoch, step: ck.step, checkpoint: ck.path };
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
export function* epochBatches(
  train: ImageSet,
  epoch: number,
  options: { batchSize: number; binarization: Binarization; seed: number },
): Generator<Batch> {
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

/**
 * One optimizer step on the batch x: the loss −(5.9) with one reparameterized draw
 * (seeded), its gradients, and Adam's update. Returns the loss before the update. A loss
 * that is NaN or infinite is returned without an update, so it never reaches the weights.
 * The loss is read asynchronously: a GPU backend (WebGPU) cannot read it synchronously.
 */
export async function trainStep(model: Vae, optimizer: tf.Optimizer, x: tf.Tensor2D, seed: number): Promise<number> {
  const vars = model.variables();
  const { value: cost, grads } = tf.variableGrads(() => model.loss(x, seed, { validateArgs: false }).loss, vars);
  const loss = (await cost.data())[0];
  if (Number.isFinite(loss)) optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
  tf.dispose([cost, ...Object.values(grads)]);
  return loss;
}

/**
 * Trains a VAE on `train` for `epochs` epochs of trainStep over epochBatches, evaluating
 * the test −ELBO after each epoch and checkpointing it when `checkpointDir` is given.
 * Everything that can be checked (options, data, model size, the checkpoint folder) is
 * checked before the first step.
 */
export async function trainVae(train: ImageSet, test: ImageSet | null, options: TrainOptions = {}): Promise<TrainResult> {
  const o = resolveTrainOptions(options);
  checkImageSet("train", train);
  if (test) checkImageSet("test", test);
  const config = { ...DEFAULT_VAE_CONFIG, ...options.model, inputDim: pixels(train) };
  checkVaeConfig(config);
  if (test && pixels(test) !== config.inputDim) throw new ArgumentError("test", `has ${pixels(test)} pixels per image, train has ${config.inputDim}`);
  if (o.batchSize > train.n) throw new ArgumentError("batchSize", `${o.batchSize} is more than the ${train.n} training images; use at most ${train.n}`);
  checkMemory(config, options.memoryLimit ?? totalMemory());
  // The checkpoint folder is settled before any work: nothing of an earlier run is overwritten.
  const dir = options.checkpointDir;
  const run = dir ? inspectCheckpointDir(dir) : null;
  // What checkpoints record of the data (content hashes: only a run with checkpoints needs them).
  const data: CheckpointData | null = run ? { source: options.dataSource ?? null, train: fingerprint(train), test: test ? fingerprint(test) : null } : null;
  if (options.resume && !(run && holdsRun(run))) {
    throw new ArgumentError("resume", dir ? `${dir} holds no checkpoint to resume; start without resume for a fresh run there` : "needs a checkpointDir");
  }
  if (run && !options.resume && holdsRun(run)) {
    const what = run.epochFolder ? "is an epoch folder of a run" : `already holds a run (${run.epochs.join(", ") || "latest.json"})`;
    throw new ArgumentError("checkpointDir", `${dir} ${what}; resume it, or give the new run another folder`);
  }
  if (run) prepareCheckpointDir(run.runDir);

  const start = options.resume && dir && run ? resumeRun(dir, run, o, config, data!) : freshRun(config, o.seed);
  const { model, history, epoch: startEpoch } = start;
  let globalStep = start.step;
  /** The newest checkpoint on disk for this run: what a divergence falls back to. */
  let lastGood = start.checkpoint;
  const optimizer = createAdam(o.learningRate);
  if (start.optimizerState) {
    await optimizer.setWeights(start.optimizerState); // copies what it keeps
    tf.dispose(start.optimizerState.map((w) => w.tensor));
  }
  const d = config.inputDim;
  const stepsPerEpoch = Math.ceil(train.n / o.batchSize);
  const evalImages = test && (options.evaluate ?? true) ? testImages(test, o.binarization, o.seed) : null;

  const showBar = options.progress ?? isInteractiveTerminal();
  const bar = showBar ? progressBar({ format: "epoch {epoch}/{epochs} [{bar}] {value}/{total} steps | −ELBO {loss} nats | {rate} ex/s" }) : null;

  let stoppedEarly = false;
  try {
    for (let epoch = startEpoch + 1; epoch <= o.epochs; epoch++) {
      let lossSum = 0;
      let examples = 0;
      let trainMs = 0;
      bar?.start(stepsPerEpoch, 0, { epoch, epochs: o.epochs, loss: "…", rate: "…" });
      for (const batch of epochBatches(train, epoch, o)) {
        if (options.maxSteps !== undefined && globalStep >= options.maxSteps) {
          stoppedEarly = true;
          break;
        }
        options.beforeStep?.(model, { epoch, step: batch.step });
        const t0 = performance.now();
        const x = tf.tensor2d(batch.images, [batch.rows, d]);
        const loss = await trainStep(model, optimizer, x, batch.seed);
        trainMs += performance.now() - t0;
        x.dispose();
        globalStep++;
        if (!Number.isFinite(loss)) {
          throw new TrainingDivergedError(
            epoch,
            batch.step,
            loss,
            lastGood
              ? `The last good checkpoint is ${lastGood}.`
              : dir
                ? "No checkpoint was written: the run diverged before its first epoch ended."
                : "No checkpoint was being written.",
          );
        }
        lossSum += loss * batch.rows;
        examples += batch.rows;
        bar?.update(batch.step, { loss: loss.toFixed(2), rate: Math.round((examples / trainMs) * 1000) });
        if (options.onStep) await options.onStep({ epoch, step: batch.step, stepsPerEpoch, globalStep, loss });
        else if (batch.step % 8 === 1) await yieldToEventLoop();
      }
      bar?.stop();
      if (stoppedEarly) break;
      const record: EpochRecord = {
        epoch,
        trainNegElbo: lossSum / examples,
        trainSeconds: trainMs / 1000,
        examplesPerSecond: examples / (trainMs / 1000),
        msPerStep: trainMs / stepsPerEpoch,
      };
      if (evalImages) {
        const r = await evaluateElbo(model, evalImages, { seed: o.seed + epoch });
        record.testNegElbo = r.negElbo.value;
        record.testRecon = r.recon.value;
        record.testKl = r.kl.value;
      }
      history.push(record);
      if (run) {
        lastGood = await saveCheckpoint<Meta>(run.runDir, model, optimizer, {
          epoch,
          step: globalStep,
          meta: { options: o, history, data: data! },
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
