/**
 * The training loop: Adam on minus (5.9), mini-batches of a seeded shuffle, one
 * seeded reparameterized draw per example. Everything random is derived from
 * (seed, epoch, step), so a run resumed from a checkpoint continues exactly as an
 * uninterrupted one would.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError, checkInteger } from "../errors";
import { Rng } from "../random";
import { Vae } from "./model";
import { DEFAULT_VAE_CONFIG, type VaeConfig, checkVaeConfig, vaeParameterCount } from "./config";
import { Binarization, BINARIZATIONS, ImageSet, binarize, checkImageSet, fingerprint, permutation, pixels } from "./data";
import { evaluateElbo } from "./evaluate";
import { holdsRun, inspectCheckpointDir, loadCheckpoint, pointLatestAt, prepareCheckpointDir, saveCheckpoint } from "./checkpoint";
import { createAdam } from "./adam";
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
      `${config.inputDim}-${config.hidden.join("-")}-${config.latentDim} has ${vaeParameterCount(config)} parameters; training needs about ${gb(bytes)} GB ` +
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

  let model: Vae;
  let history: EpochRecord[] = [];
  let startEpoch = 0;
  let globalStep = 0;
  let optimizerState: { name: string; tensor: tf.Tensor }[] | null = null;
  /** The newest checkpoint on disk for this run: what a divergence falls back to. */
  let lastGood: string | null = null;
  if (options.resume && dir) {
    const ck = loadCheckpoint<Meta>(dir);
    try {
      checkResumable(ck.meta.options, ck.config, o, config, dir);
      checkSameData(ck.meta.data, data!, ck.path);
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
    lastGood = ck.path;
    // Resuming from an earlier epoch folder: it becomes the run's latest before the run goes on.
    if (run?.epochFolder && startEpoch < o.epochs) pointLatestAt(run.epochFolder);
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
        const { value: cost, grads } = tf.variableGrads(() => model.loss(x, seed, { validateArgs: false }).loss, vars);
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
            lastGood
              ? `The last good checkpoint is ${lastGood}.`
              : dir
                ? "No checkpoint was written: the run diverged before its first epoch ended."
                : "No checkpoint was being written.",
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
