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
import { saveCheckpoint, loadCheckpoint, hasCheckpoint, NamedTensor } from "./checkpoint";

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

/**
 * Adam (Kingma & Ba 2015, Algorithm 1), the update tf.train.adam makes, with the bias
 * corrections folded into two scalars:
 *
 *   m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,
 *   θ ← θ − lr · m̂ / (√v̂ + ε)  =  θ − (lr·√c₂/c₁) · m / (√v + ε·√c₂),   c_k = 1 − β_kᵗ.
 *
 * Elementwise, so it may run on any grouping of the parameters: variables smaller than
 * `groupBelow` entries (biases, the latent heads) are updated together as one
 * concatenated vector. A step then costs about 12 kernels per large variable plus ~25
 * for all the small ones, instead of tfjs's ~16 per variable; on tfjs-node, where each
 * kernel call costs tens of microseconds whatever its size, that is most of Adam's time.
 * getWeights/setWeights use tf.train.adam's layout ([iterations, m per variable…,
 * v per variable…]), so checkpoints from either resume with the other.
 */
export class LeanAdam extends tf.Optimizer {
  static get className(): string {
    return "Adam";
  }
  /** Update units: one large variable, or the group of small ones (flattened, concatenated). */
  private units: { members: number[]; m: tf.Tensor; v: tf.Tensor }[] | null = null;
  private shapes: number[][] = [];
  private names: string[] = [];
  /** State loaded by setWeights before the first step: per-variable moments. */
  private pending: { m: tf.Tensor[]; v: tf.Tensor[] } | null = null;
  /** Tensors handed out by getWeights; disposed at the next step (they are stale then). */
  private handedOut: tf.Tensor[] = [];
  private readonly scalars: tf.Scalar[];

  constructor(
    readonly learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = tf.backend().epsilon(),
    readonly groupBelow = 65536,
  ) {
    super();
    this.scalars = [beta1, 1 - beta1, beta2, 1 - beta2].map((c) => tf.keep(tf.scalar(c)));
  }

  private init(list: NamedTensor[], vars: tf.Variable[]): void {
    const p = this.pending;
    if (p && (p.m.length !== vars.length || vars.some((x, i) => x.shape.join() !== p.m[i].shape.join() || x.shape.join() !== p.v[i].shape.join()))) {
      throw new ArgumentError("variableGradients", "do not match the variables of the Adam state loaded with setWeights");
    }
    this.names = list.map((g) => g.name);
    this.shapes = vars.map((v) => v.shape.slice());
    const small = vars.map((v, i) => (v.size < this.groupBelow ? i : -1)).filter((i) => i >= 0);
    const groups = vars.map((_, i) => [i]).filter(([i]) => small.length < 2 || !small.includes(i));
    if (small.length >= 2) groups.push(small);
    this.units = groups.map((members) => {
      const per = (k: 0 | 1) => members.map((i) => this.pending?.[k === 0 ? "m" : "v"][i] ?? tf.zerosLike(vars[i]));
      const join = (ts: tf.Tensor[]) => tf.keep(members.length === 1 ? tf.clone(ts[0]) : tf.concat(ts.map(flat)));
      return tf.tidy(() => ({ members, m: join(per(0)), v: join(per(1)) }));
    });
    if (this.pending) tf.dispose([...this.pending.m, ...this.pending.v]);
    this.pending = null;
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list = Array.isArray(variableGradients) ? variableGradients : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const vars = list.map((g) => tf.engine().registeredVariables[g.name]);
    if (!this.units) this.init(list, vars);
    else if (list.length !== this.names.length || list.some((g, i) => g.name !== this.names[i])) {
      throw new ArgumentError("variableGradients", "must name the same variables, in the same order, on every step");
    }
    tf.dispose(this.handedOut);
    this.handedOut = [];
    const t = this.iterations + 1;
    const c1 = 1 - Math.pow(this.beta1, t);
    const c2 = 1 - Math.pow(this.beta2, t);
    const [b1, oneMinusB1, b2, oneMinusB2] = this.scalars;
    tf.tidy(() => {
      const rate = tf.scalar((-this.learningRate * Math.sqrt(c2)) / c1);
      const eps = tf.scalar(this.epsilon * Math.sqrt(c2));
      for (const unit of this.units!) {
        const single = unit.members.length === 1;
        const g = single ? list[unit.members[0]].tensor : tf.concat(unit.members.map((i) => flat(list[i].tensor)));
        const theta = single ? vars[unit.members[0]] : tf.concat(unit.members.map((i) => flat(vars[i])));
        const m = tf.add(tf.mul(unit.m, b1), tf.mul(g, oneMinusB1));
        const v = tf.add(tf.mul(unit.v, b2), tf.mul(tf.square(g), oneMinusB2));
        const next = tf.add(theta, tf.mul(tf.div(m, tf.add(tf.sqrt(v), eps)), rate));
        if (single) vars[unit.members[0]].assign(next);
        else tf.split(next, unit.members.map((i) => vars[i].size)).forEach((part, j) => vars[unit.members[j]].assign(tf.reshape(part, this.shapes[unit.members[j]])));
        tf.dispose([unit.m, unit.v]);
        unit.m = tf.keep(m);
        unit.v = tf.keep(v);
      }
    });
    this.incrementIterations();
  }

  /** Per-variable moments, in variable order: [m…] or [v…]. */
  private perVariable(which: "m" | "v"): tf.Tensor[] {
    if (this.pending) return this.pending[which];
    if (!this.units) return [];
    const out: tf.Tensor[] = new Array(this.names.length);
    for (const unit of this.units) {
      const state = unit[which];
      if (unit.members.length === 1) {
        out[unit.members[0]] = state;
        continue;
      }
      const parts = tf.split(state, unit.members.map((i) => this.shapes[i].reduce((a, b) => a * b, 1)));
      unit.members.forEach((i, j) => {
        out[i] = tf.reshape(parts[j], this.shapes[i]);
        this.handedOut.push(parts[j], out[i]);
      });
    }
    return out;
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const m = this.perVariable("m").map((tensor, i) => ({ name: `${this.names[i]}/m`, tensor }));
    const v = this.perVariable("v").map((tensor, i) => ({ name: `${this.names[i]}/v`, tensor }));
    return [await this.saveIterations(), ...m, ...v];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const slots = await this.extractIterations(weightValues);
    if (slots.length % 2 !== 0) throw new ArgumentError("weightValues", `Adam state needs as many second moments as first moments, got ${slots.length} slots`);
    this.disposeState();
    if (slots.length === 0) return;
    const k = slots.length / 2;
    this.names = slots.slice(0, k).map((w) => w.name.replace(/\/m$/, ""));
    this.shapes = slots.slice(0, k).map((w) => w.tensor.shape.slice());
    this.pending = { m: slots.slice(0, k).map((w) => tf.clone(w.tensor)), v: slots.slice(k).map((w) => tf.clone(w.tensor)) };
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  private disposeState(): void {
    tf.dispose([...this.handedOut, ...(this.units ?? []).flatMap((u) => [u.m, u.v]), ...(this.pending ? [...this.pending.m, ...this.pending.v] : [])]);
    this.handedOut = [];
    this.units = null;
    this.pending = null;
  }

  override dispose(): void {
    this.disposeState();
    tf.dispose(this.scalars);
  }
}

const flat = (t: tf.Tensor): tf.Tensor => (t.rank === 1 ? t : tf.reshape(t, [-1]));

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

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
    const saved = ck.meta.options;
    for (const key of ["batchSize", "learningRate", "seed", "binarization"] as const) {
      if (saved[key] !== o[key]) {
        throw new ArgumentError(key, `checkpoint in ${options.checkpointDir} was trained with ${key} = ${saved[key]}, not ${o[key]}; use another folder or matching options`);
      }
    }
    const arch = (c: VaeConfig) => `${c.inputDim}-${c.hidden.join("-")}-${c.latentDim}`;
    if (arch(ck.config) !== arch(config)) {
      throw new ArgumentError("model", `checkpoint architecture ${arch(ck.config)} differs from the requested ${arch(config)}`);
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
  const optimizer = new LeanAdam(o.learningRate);
  if (optimizerState) await optimizer.setWeights(optimizerState);
  const d = config.inputDim;
  const stepsPerEpoch = Math.ceil(train.n / o.batchSize);
  const evalImages = test && (options.evaluate ?? true) ? testImages(test, o.binarization, o.seed) : null;

  const showBar = options.progress ?? Boolean(process.stdout.isTTY);
  // cli-progress is only loaded for the command line.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const bar = showBar ? new (require("cli-progress").SingleBar)({ format: "epoch {epoch}/{epochs} [{bar}] {value}/{total} steps | −ELBO {loss} nats | {rate} ex/s", hideCursor: true }, require("cli-progress").Presets.shades_classic) : null;

  let stoppedEarly = false;
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
        bar?.stop();
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
      else if (s % 8 === 0) await nextTick();
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
  optimizer.dispose();
  return { model, history, epochsCompleted: history.length, steps: globalStep, resumedFrom: startEpoch, stoppedEarly };
}
