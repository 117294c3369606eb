/**
 * The training step as one TensorFlow graph, on tfjs-node: one TF_SessionRun per step
 * instead of ~150 eager kernel calls, each of which costs tens of microseconds of N-API
 * and bookkeeping (./backends.ts).
 *
 * One copy of the math: the graph is the eager step's own kernels. `GraphStep.build`
 * runs the eager forward and backward pass once per batch size under ./kernel-trace.ts,
 * which records every TensorFlow op tfjs-node executes; those ops become the graph's
 * nodes, their JavaScript-made inputs its constants. Added around them:
 *
 *   variables   θ, m, v per parameter as resource variables (VarHandleOp) that live in
 *               the session between calls; the trace's reads of a parameter become one
 *               ReadVariableOp of θ
 *   feeds       the batch, the seeded noise ε (drawn by the same generator as the eager
 *               step: the trace checks that the step drew exactly it), and Adam's three
 *               per-step scalars (./native-adam.ts, adamStepScalars)
 *   Adam        ResourceApplyAdam per parameter, the kernel NativeAdam runs, ordered after
 *               every op that reads that parameter (control edges), so θ is updated in place
 *   NaN guard   IsFinite(loss) → Switch: the updates sit on the true branch, so a loss that
 *               is NaN or infinite updates nothing; a Merge returns the loss either way
 *
 * Two more entry points move the state in and out: `load` assigns θ, m, v from feeds,
 * `read` fetches them (the trainer does both at epoch boundaries only: evaluation and
 * checkpoints stay eager). The graph is written as a SavedModel (./saved-model.ts) into a
 * temporary folder, loaded with tfjs-node's loadSavedModel (a TF_Session kept alive), and
 * the folder removed. `build` ends with a self-check: one graph step on a traced batch
 * must give the eager step's loss.
 *
 * Threads: TensorFlow's defaults, one inter-op thread per core, so that independent ops of
 * the step (a layer's two gradient products, Adam's updates of different parameters) run
 * side by side, and one intra-op thread per core for each kernel. Measured on 2 cores,
 * alternating processes (`bench.ts --worker graph-profile`): inter-op 2 took 4.7–5.5 ms per
 * step at intra-op 1 or 2, against 6.3–6.5 ms with TF_NUM_INTEROP_THREADS=-1 (every op on
 * the calling thread, one after another). Both variables are read once per process.
 */
import * as tf from "@tensorflow/tfjs";
import { fs, hostSetting, instanceTag, path, temporaryFolder } from "../platform";
import { Rng } from "../random";
import { onTfjsNode } from "./backends";
import { type KernelTrace, type TraceRef, traceKernels } from "./kernel-trace";
import { adamStepScalars, applyAdamAttrs } from "./native-adam";
import { type AttrValue, DT, GraphBuilder } from "./saved-model";
import { handleId, type NodeBackend, nodeBackend, type OpAttr, type TfBinding } from "./tfjs-node";

/**
 * Whether the trainer runs its step as one graph here: on tfjs-node whose binding runs
 * SavedModels, unless VAE_GRAPH=0. `why` says why not, when tfjs-node is the backend.
 */
export function graphStepSetting(): { use: boolean; why?: string } {
  if (!onTfjsNode()) return { use: false };
  if (hostSetting("VAE_GRAPH") === "0") return { use: false, why: "VAE_GRAPH=0" };
  const why = GraphStep.unavailable();
  return why ? { use: false, why } : { use: true };
}

/** The eager training step a graph is traced from. */
export interface EagerStep {
  /** The parameters it trains, in order. */
  variables: tf.Variable[];
  /** The loss and its gradient per parameter (in order) on batch x with the noise of `seed`: the computation traced. */
  lossAndGradients(x: tf.Tensor2D, seed: number): { loss: tf.Scalar; grads: tf.Tensor[] };
  /** The noise lossAndGradients draws for `rows` examples with `seed`, from the same generator. */
  noise(rows: number, seed: number): tf.Tensor;
}

export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Parameters θ, Adam's moments m and v (each in parameter order), and Adam's step count. */
export interface StepState {
  weights: tf.Tensor[];
  m: tf.Tensor[];
  v: tf.Tensor[];
  iterations: number;
}

/** Why a graph step could not be built or loaded (the trainer then names it and trains eagerly). */
export class GraphStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GraphStepError";
  }
}

/**
 * How closely a graph step and an eager step agree, relative to each result's largest
 * magnitude (a loss; each weight and moment tensor after a few steps): the parity tests,
 * the setup probe and the self-check use it. Both run the same kernels on the same
 * float32 values; TensorFlow's graph optimizer may fuse or reorder some of them, moving a
 * sum of up to ~800 products by a few units of float32 rounding (2⁻²⁴ ≈ 6e-8) each, ~1e-5
 * of the result at most, and Adam passes a relative change δ of a gradient on to the
 * weights as at most lr·δ. A wrong graph (a dropped term, a transposed weight, a missed
 * update) differs by orders of magnitude more.
 */
export const GRAPH_EAGER_RTOL = 1e-5;

const TAG = "train";

/** One batch size's step: what to feed and what to fetch. */
interface Head {
  rows: number;
  feeds: string; // "x:0,noise:0,adam:0"
  loss: string;
  /** With `profile`: the step's products alone (inputs from variables, filled by `fill`), and an empty call with the step's feeds. */
  profile?: { products: string; call: string; fill: { feeds: string; shapes: number[][]; done: string } };
}

/** Where a step's time goes (ms per step, medians): its matrix products alone, one empty call with its feeds, and the whole step. */
export interface StepProfile {
  step: number;
  products: number;
  call: number;
}

let graphCounter = 0;

export class GraphStep {
  /** Null when a graph step can run here; else why not (not tfjs-node, or a binding without SavedModel support). */
  static unavailable(): string | null {
    const be = nodeBackend();
    if (!be) return "the active backend is not tfjs-node";
    if (typeof be.binding.loadSavedModel !== "function" || typeof be.binding.runSavedModel !== "function")
      return "this tfjs-node binding cannot run SavedModels";
    return null;
  }

  /**
   * Traces `step` for each batch size and builds, loads and self-checks the graph. The
   * session's variables start uninitialized: call `load` before the first `run`.
   */
  static build(step: EagerStep, options: { inputDim: number; batchSizes: number[]; adam: AdamSettings; profile?: boolean }): GraphStep {
    const why = GraphStep.unavailable();
    if (why) throw new GraphStepError(why);
    const be = nodeBackend()!;
    const sizes = [...new Set(options.batchSizes)];
    const g = new GraphBuilder();
    const vars = declareVariables(g, step.variables, graphCounter++);
    const adam = declareAdam(g, options.adam);
    const checks: { head: Head; x: Float32Array; seed: number; loss: number }[] = [];
    const heads = new Map<number, Head>();
    for (const rows of sizes) {
      const traced = traceStep(be, step, rows, options.inputDim);
      const head = emitStep(g, be.binding, traced, vars, adam, `step${rows}`);
      if (options.profile) head.profile = emitProfile(g, be.binding, traced, vars, head, `profile${rows}`);
      heads.set(rows, head);
      checks.push({ head, ...traced.check });
    }
    const load = emitLoad(g, step.variables, vars);
    const graph = new GraphStep(be, loadSession(be, g), step, options, heads, load, vars.reads);
    graph.selfCheck(checks);
    return graph;
  }

  private iterationsDone = 0;
  private disposed = false;

  private constructor(
    private readonly be: NodeBackend,
    private readonly session: number,
    private readonly step: EagerStep,
    private readonly options: { inputDim: number; adam: AdamSettings },
    private readonly heads: Map<number, Head>,
    private readonly loadFeeds: string,
    private readonly reads: string,
  ) {}

  /** Adam's steps taken so far (steps whose loss was not finite do not count). */
  get iterations(): number {
    return this.iterationsDone;
  }

  /** The batch sizes this graph has a step for. */
  get batchSizes(): number[] {
    return [...this.heads.keys()];
  }

  /** Sets θ, m, v and the step count in the session. */
  load(state: StepState): void {
    const values = [...state.weights, ...state.m, ...state.v];
    const ids = this.be.getInputTensorIds(values);
    const [done] = this.be.binding.runSavedModel(this.session, ids, this.loadFeeds, "load/done:0");
    this.be.binding.deleteTensor(done.id);
    this.iterationsDone = state.iterations;
  }

  /** θ, m, v and the step count, read from the session (new tensors: the caller disposes them). */
  read(): StepState {
    const out = this.be.binding.runSavedModel(this.session, [], "", this.reads).map((meta) => this.be.createOutputTensor(meta));
    const k = this.step.variables.length;
    return { weights: out.slice(0, k), m: out.slice(k, 2 * k), v: out.slice(2 * k), iterations: this.iterationsDone };
  }

  /**
   * One training step on `rows` images (row-major, rows × inputDim) with the noise of
   * `seed`: returns the loss before the update. A loss that is not finite changes nothing.
   */
  async run(images: Float32Array, rows: number, seed: number): Promise<number> {
    const loss = this.runHead(images, rows, seed, this.iterationsDone + 1);
    const value = (await loss.data())[0];
    loss.dispose();
    if (Number.isFinite(value)) this.iterationsDone++;
    return value;
  }

  private runHead(images: Float32Array, rows: number, seed: number, t: number): tf.Tensor {
    if (this.disposed) throw new GraphStepError("the graph step was disposed");
    const head = this.heads.get(rows);
    if (!head) throw new GraphStepError(`no graph step for a batch of ${rows} (built for ${this.batchSizes.join(", ")})`);
    const { beta1, beta2, epsilon } = this.options.adam;
    const feeds = [tf.tensor2d(images, [rows, this.options.inputDim]), this.step.noise(rows, seed), tf.tensor1d(adamStepScalars(t, beta1, beta2, epsilon))];
    try {
      const [loss] = this.be.binding.runSavedModel(this.session, this.be.getInputTensorIds(feeds), head.feeds, head.loss);
      return this.be.createOutputTensor(loss);
    } finally {
      tf.dispose(feeds);
    }
  }

  /**
   * Times `reps` steps on `rows` images (real steps: the state moves on), the same number
   * of runs of the step's products alone, and of an empty call with the step's feeds.
   * Needs a graph built with `profile: true`.
   */
  async profile(images: Float32Array, rows: number, reps: number): Promise<StepProfile> {
    const p = this.heads.get(rows)?.profile;
    if (!p) throw new GraphStepError(`no profile for a batch of ${rows}: build with profile: true`);
    const B = this.be.binding;
    const fill = p.fill.shapes.map((shape, k) => tf.randomNormal(shape, 0, 1, "float32", k + 1));
    B.deleteTensor(B.runSavedModel(this.session, this.be.getInputTensorIds(fill), p.fill.feeds, p.fill.done)[0].id);
    tf.dispose(fill);
    const head = this.heads.get(rows)!;
    const { beta1, beta2, epsilon } = this.options.adam;
    let seed = 0;
    const parts = {
      step: async () => void (await this.run(images, rows, ++seed)),
      products: () => void B.deleteTensor(B.runSavedModel(this.session, [], "", p.products)[0].id),
      call: () => {
        const feeds = [
          tf.tensor2d(images, [rows, this.options.inputDim]),
          this.step.noise(rows, 1),
          tf.tensor1d(adamStepScalars(this.iterationsDone + 1, beta1, beta2, epsilon)),
        ];
        const [out] = B.runSavedModel(this.session, this.be.getInputTensorIds(feeds), head.feeds, p.call);
        tf.dispose(feeds);
        const t = this.be.createOutputTensor(out);
        t.dataSync();
        t.dispose();
      },
    };
    // The three in turn, so that the machine's drift touches all alike; medians after 3 warm-ups.
    const ms: Record<keyof StepProfile, number[]> = { step: [], products: [], call: [] };
    for (let r = 0; r < reps + 3; r++) {
      for (const part of ["step", "products", "call"] as const) {
        const t0 = performance.now();
        await parts[part]();
        if (r >= 3) ms[part].push(performance.now() - t0);
      }
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
    return { step: median(ms.step), products: median(ms.products), call: median(ms.call) };
  }

  /** One step per head on the traced batch, from the parameters' current values: the loss must be the eager step's. */
  private selfCheck(checks: { head: Head; x: Float32Array; seed: number; loss: number }[]): void {
    const zeros = this.step.variables.map((v) => tf.zerosLike(v));
    try {
      for (const c of checks) {
        this.load({ weights: this.step.variables, m: zeros, v: zeros, iterations: 0 });
        const loss = this.runHead(c.x, c.head.rows, c.seed, 1);
        const got = loss.dataSync()[0];
        loss.dispose();
        if (!(Math.abs(got - c.loss) <= GRAPH_EAGER_RTOL * Math.abs(c.loss))) {
          throw new GraphStepError(`self-check failed: the graph's loss on a batch of ${c.head.rows} is ${got}, the eager step's ${c.loss}`);
        }
      }
    } catch (error) {
      this.dispose();
      throw error;
    } finally {
      tf.dispose(zeros);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.be.binding.deleteSavedModel(this.session);
  }
}

// ---------------------------------------------------------------- building the graph

interface Variables {
  theta: string[];
  m: string[];
  v: string[];
  /** ReadVariableOp of θ per parameter (the step's reads) and the fetch list of `read`. */
  thetaRead: string[];
  reads: string;
}

function declareVariables(g: GraphBuilder, variables: tf.Variable[], graphId: number): Variables {
  const handle = (i: number, slot: string, shape: number[]) =>
    g.add(
      "VarHandleOp",
      [],
      {
        dtype: { type: DT.float },
        shape: { shape },
        container: { s: "" },
        shared_name: { s: `vae_workbook_graph_${instanceTag}_${graphId}_${i}_${slot}` },
      },
      `var/${i}/${slot}`,
    );
  const read = (h: string) => g.add("ReadVariableOp", [h], { dtype: { type: DT.float } }, `read/${h.slice(4)}`);
  const theta = variables.map((v, i) => handle(i, "theta", v.shape));
  const m = variables.map((v, i) => handle(i, "m", v.shape));
  const v = variables.map((x, i) => handle(i, "v", x.shape));
  const thetaRead = theta.map(read);
  const all = [...thetaRead, ...m.map(read), ...v.map(read)];
  return { theta, m, v, thetaRead, reads: all.map((r) => `${r}:0`).join(",") };
}

interface AdamNodes {
  /** [β₁ᵗ, β₂ᵗ, ε̂] fed per step, unpacked into three scalars. */
  perStep: string[];
  lr: string;
  beta1: string;
  beta2: string;
}

function declareAdam(g: GraphBuilder, adam: AdamSettings): AdamNodes {
  const feed = g.placeholder(DT.float, [3], "adam");
  const unpack = g.add("Unpack", [feed], { num: { i: 3 }, axis: { i: 0 }, T: { type: DT.float } }, "adam/unpack");
  const scalar = (value: number, name: string) => g.constant({ dtype: DT.float, shape: [], data: Float32Array.of(value) }, name);
  return {
    perStep: [0, 1, 2].map((k) => `${unpack}:${k}`),
    lr: scalar(adam.learningRate, "adam/lr"),
    beta1: scalar(adam.beta1, "adam/beta1"),
    beta2: scalar(adam.beta2, "adam/beta2"),
  };
}

/** One trace of the eager step at one batch size, and what the self-check needs. */
interface TracedStep {
  rows: number;
  inputDim: number;
  trace: KernelTrace;
  x: TraceRef & { kind: "external" };
  noise: number; // index into trace.constants
  loss: TraceRef;
  grads: TraceRef[];
  /** Handle id → parameter index, for the trace's reads of parameters. */
  params: Map<number, number>;
  check: { x: Float32Array; seed: number; loss: number };
}

/**
 * Traces the eager step at `rows` examples twice, on different batches and seeds, and
 * checks that both traces are the same computation (same ops, same constants) apart from
 * the batch and the noise: then the graph is right for every batch of that size.
 */
function traceStep(be: NodeBackend, step: EagerStep, rows: number, inputDim: number): TracedStep {
  const once = (label: string, seed: number): TracedStep => {
    const rng = new Rng(`graph-step-trace/${label}`);
    const images = Float32Array.from({ length: rows * inputDim }, () => (rng.uniform() < 0.3 ? 1 : 0));
    const x = tf.tensor2d(images, [rows, inputDim]);
    const noiseTensor = step.noise(rows, seed);
    const noise = noiseTensor.dataSync() as Float32Array;
    const params = new Map(step.variables.map((v, i) => [handleId(be, v), i] as const));
    const xId = handleId(be, x);
    let made: tf.Tensor[] = [x, noiseTensor];
    try {
      const { result, trace } = traceKernels(be, () => step.lossAndGradients(x, seed));
      made = made.concat(result.loss, result.grads);
      const refOf = (t: tf.Tensor) => trace.refOf(handleId(be, t));
      const xRef = trace.refOf(xId);
      if (xRef.kind !== "external") throw new GraphStepError("the batch was uploaded again during the trace");
      const matches = trace.constants.map((c, i) => (sameValues(c.values, noise) ? i : -1)).filter((i) => i >= 0);
      if (matches.length !== 1) throw new GraphStepError(`the eager step's noise was found ${matches.length} times among the tensors it made (expected once)`);
      const check = { x: images, seed, loss: result.loss.dataSync()[0] };
      const traced: TracedStep = { rows, inputDim, trace, x: xRef, noise: matches[0], loss: refOf(result.loss), grads: result.grads.map(refOf), params, check };
      checkExternals(be, traced);
      return traced;
    } finally {
      tf.dispose(made);
    }
  };
  const a = once(`${rows}/a`, 1001);
  const b = once(`${rows}/b`, 2002);
  const diff = firstDifference(a, b);
  if (diff) throw new GraphStepError(`the eager step is not the same computation for two batches of ${rows}: ${diff}`);
  return a;
}

/** Every handle the trace read that it did not make must be a parameter or the batch; other tensors become constants. */
function checkExternals(be: NodeBackend, t: TracedStep): void {
  const trainable = new Set(t.params.keys());
  const variables = new Set(Object.values(tf.engine().registeredVariables).map((v) => be.tensorMap.get(v.dataId)?.id));
  for (const op of t.trace.ops) {
    for (const ref of op.inputs) {
      if (ref.kind === "external" && ref.id !== t.x.id && !trainable.has(ref.id) && variables.has(ref.id)) {
        throw new GraphStepError(`the eager step reads a variable that is not one of the parameters it trains (${op.op})`);
      }
    }
  }
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function firstDifference(a: TracedStep, b: TracedStep): string | null {
  if (a.trace.ops.length !== b.trace.ops.length) return `${a.trace.ops.length} ops vs ${b.trace.ops.length}`;
  const key = (t: TracedStep, r: TraceRef) =>
    r.kind === "external" ? (r.id === t.x.id ? "x" : `param${t.params.get(r.id) ?? `?${r.id}`}`) : JSON.stringify(r);
  for (let k = 0; k < a.trace.ops.length; k++) {
    const [p, q] = [a.trace.ops[k], b.trace.ops[k]];
    const same =
      p.op === q.op && JSON.stringify(p.attrs) === JSON.stringify(q.attrs) && p.inputs.map((r) => key(a, r)).join() === q.inputs.map((r) => key(b, r)).join();
    if (!same) return `op ${k}: ${p.op} vs ${q.op}`;
  }
  if (a.trace.constants.length !== b.trace.constants.length || a.noise !== b.noise) return "different tensors made in JavaScript";
  for (let k = 0; k < a.trace.constants.length; k++) {
    const [p, q] = [a.trace.constants[k], b.trace.constants[k]];
    if (k !== a.noise && (p.dtype !== q.dtype || p.shape.join() !== q.shape.join() || !sameValues(p.values, q.values))) {
      return `a tensor made in JavaScript (shape [${p.shape}]) depends on the batch or the seed`;
    }
  }
  return [a.loss, ...a.grads].map((r) => key(a, r)).join() === [b.loss, ...b.grads].map((r) => key(b, r)).join() ? null : "different results";
}

/** The binding's attribute (TF_ATTR_* code and value) as a NodeDef attribute. */
function attrValue(a: OpAttr, B: TfBinding): AttrValue {
  const v = a.value;
  const list = Array.isArray(v);
  switch (a.type) {
    case B.TF_ATTR_STRING:
      return { s: String(v) };
    case B.TF_ATTR_INT:
      return list ? { list: { i: v as number[] } } : { i: v as number };
    case B.TF_ATTR_FLOAT:
      return list ? { list: { f: v as number[] } } : { f: v as number };
    case B.TF_ATTR_BOOL:
      return list ? { list: { b: v as boolean[] } } : { b: v as boolean };
    case B.TF_ATTR_TYPE:
      return { type: v as number };
    case B.TF_ATTR_SHAPE:
      return { shape: v as number[] };
    default:
      throw new GraphStepError(`attribute ${a.name} has a type (${a.type}) the graph writer does not know`);
  }
}

/** The traced step at one batch size, as nodes under `scope`, with the guard and Adam. Returns what to feed and fetch. */
function emitStep(g: GraphBuilder, B: TfBinding, t: TracedStep, vars: Variables, adam: AdamNodes, scope: string): Head {
  const x = g.placeholder(DT.float, [t.rows, t.inputDim], `${scope}/x`);
  const noiseShape = t.trace.constants[t.noise].shape;
  const noise = g.placeholder(DT.float, noiseShape, `${scope}/noise`);
  const constants = new Map<number, string>();
  const opNames: string[] = [];
  /** Per parameter: the ops that read it (its update waits for them). */
  const readers: string[][] = vars.theta.map(() => []);
  const input = (r: TraceRef): string => {
    if (r.kind === "op") return `${opNames[r.op]}:${r.output}`;
    if (r.kind === "constant") {
      if (r.index === t.noise) return noise;
      let name = constants.get(r.index);
      if (!name) {
        const c = t.trace.constants[r.index];
        name = g.constant({ dtype: c.dtype, shape: c.shape, data: c.values }, `${scope}/const${r.index}`);
        constants.set(r.index, name);
      }
      return name;
    }
    if (r.id === t.x.id) return x;
    const param = t.params.get(r.id);
    if (param === undefined) throw new GraphStepError(`the eager step reads a tensor made before it that is neither the batch nor a parameter`);
    return vars.thetaRead[param];
  };
  t.trace.ops.forEach((op, k) => {
    const inputs = op.inputs.map(input);
    const attrs = Object.fromEntries(op.attrs.map((a) => [a.name, attrValue(a, B)]));
    const name = g.add(op.op, inputs, attrs, `${scope}/${k}_${op.op}`);
    opNames.push(name);
    op.inputs.forEach((r) => {
      const param = r.kind === "external" ? t.params.get(r.id) : undefined;
      if (param !== undefined) readers[param].push(name);
    });
  });
  const float = { T: { type: DT.float } };
  const loss = input(t.loss);
  const ok = g.add("IsFinite", [loss], float, `${scope}/loss_is_finite`);
  const applies = t.grads.map((grad, i) => {
    const guarded = g.add("Switch", [input(grad), ok], float, `${scope}/guard/${i}`);
    const attrs = Object.fromEntries(applyAdamAttrs(B).map((a) => [a.name, attrValue(a, B)]));
    // ResourceApplyAdam(var, m, v, β₁ᵗ, β₂ᵗ, lr, β₁, β₂, ε̂, grad), as NativeAdam calls it.
    const [beta1Power, beta2Power, epsilonHat] = adam.perStep;
    const inputs = [vars.theta[i], vars.m[i], vars.v[i], beta1Power, beta2Power, adam.lr, adam.beta1, adam.beta2, epsilonHat, `${guarded}:1`];
    return g.add("ResourceApplyAdam", [...inputs, ...[...new Set(readers[i])].map((r) => `^${r}`)], attrs, `${scope}/apply/${i}`);
  });
  const branch = g.add("Switch", [loss, ok], float, `${scope}/loss_switch`);
  const applied = g.add("Identity", [`${branch}:1`, ...applies.map((a) => `^${a}`)], float, `${scope}/loss_applied`);
  const out = g.add("Merge", [`${branch}:0`, applied], { ...float, N: { i: 2 } }, `${scope}/loss`);
  return { rows: t.rows, feeds: [`${x}:0`, `${noise}:0`, "adam:0"].join(","), loss: `${out}:0` };
}

/**
 * For the profile: the step's matrix products (BatchMatMulV2) alone, their operands read
 * from variables (parameters, or stand-ins of the operands' shapes that `fill` sets once)
 * so that no constant folding removes them; and an empty call that takes the step's feeds.
 */
function emitProfile(g: GraphBuilder, B: TfBinding, t: TracedStep, vars: Variables, step: Head, scope: string): NonNullable<Head["profile"]> {
  const float = { T: { type: DT.float } };
  const one = g.constant({ dtype: DT.float, shape: [], data: Float32Array.of(1) }, `${scope}/one`);
  const shapeOf = (r: TraceRef): number[] =>
    r.kind === "op"
      ? t.trace.ops[r.op].outputs[r.output].shape
      : r.kind === "constant"
        ? t.trace.constants[r.index].shape
        : r.id === t.x.id
          ? [t.rows, t.inputDim]
          : [];
  const fills: { feed: string; shape: number[] }[] = [];
  const assigns: string[] = [];
  const products = t.trace.ops.flatMap((op, k) => {
    if (op.op !== "BatchMatMulV2") return [];
    const inputs = op.inputs.map((r, j) => {
      const param = r.kind === "external" ? t.params.get(r.id) : undefined;
      if (param !== undefined) return vars.thetaRead[param];
      const shape = shapeOf(r);
      const handle = g.add(
        "VarHandleOp",
        [],
        { dtype: { type: DT.float }, shape: { shape }, container: { s: "" }, shared_name: { s: `${scope}/in${k}_${j}` } },
        `${scope}/in${k}_${j}`,
      );
      const feed = g.placeholder(DT.float, shape, `${scope}/fill${k}_${j}`);
      fills.push({ feed: `${feed}:0`, shape });
      assigns.push(g.add("AssignVariableOp", [handle, feed], { dtype: { type: DT.float } }, `${scope}/fill${k}_${j}/assign`));
      return g.add("ReadVariableOp", [handle], { dtype: { type: DT.float } }, `${scope}/read${k}_${j}`);
    });
    const attrs = Object.fromEntries(op.attrs.map((a) => [a.name, attrValue(a, B)]));
    return [g.add(op.op, inputs, attrs, `${scope}/${k}_${op.op}`)];
  });
  const filled = g.add("Identity", [one, ...assigns.map((a) => `^${a}`)], float, `${scope}/filled`);
  // Each product's first entry, summed: the fetch needs their values (a product reached
  // only by control edges would be pruned by TensorFlow's graph optimizer).
  const int32 = (values: number[], name: string) => g.constant({ dtype: DT.int32, shape: [values.length], data: Int32Array.from(values) }, name);
  const [begin, size] = [int32([0, 0], `${scope}/begin`), int32([1, 1], `${scope}/size`)];
  const corners = products.map((p) => g.add("Slice", [p, begin, size], { ...float, Index: { type: DT.int32 } }, `${p}/corner`));
  const productsDone = g.add("AddN", corners, { ...float, N: { i: corners.length } }, `${scope}/products`);
  const feeds = step.feeds.split(",").map((f) => `^${f.split(":")[0]}`);
  const call = g.add("Identity", [one, ...feeds], float, `${scope}/call`);
  return {
    products: `${productsDone}:0`,
    call: `${call}:0`,
    fill: { feeds: fills.map((f) => f.feed).join(","), shapes: fills.map((f) => f.shape), done: `${filled}:0` },
  };
}

/** Placeholders for θ, m, v per parameter, assigned to the variables; fetch "load/done:0" to run it. */
function emitLoad(g: GraphBuilder, variables: tf.Variable[], vars: Variables): string {
  const feeds: string[] = [];
  const assigns: string[] = [];
  for (const [slot, handles] of [
    ["theta", vars.theta],
    ["m", vars.m],
    ["v", vars.v],
  ] as const) {
    handles.forEach((h, i) => {
      const value = g.placeholder(DT.float, variables[i].shape, `load/${i}/${slot}`);
      feeds.push(`${value}:0`);
      assigns.push(g.add("AssignVariableOp", [h, value], { dtype: { type: DT.float } }, `load/${i}/${slot}/assign`));
    });
  }
  const one = g.constant({ dtype: DT.float, shape: [], data: Float32Array.of(1) }, "load/one");
  g.add("Identity", [one, ...assigns.map((a) => `^${a}`)], { T: { type: DT.float } }, "load/done");
  return feeds.join(",");
}

/** Writes the graph as a SavedModel into a temporary folder, loads it into a session, removes the folder. */
function loadSession(be: NodeBackend, g: GraphBuilder): number {
  let dir: string;
  try {
    dir = temporaryFolder("vae-graph-step-");
  } catch (error) {
    throw new GraphStepError(`no temporary folder for the graph: ${(error as Error).message}`);
  }
  try {
    fs.writeFileSync(path.join(dir, "saved_model.pb"), g.savedModel(TAG));
    return be.binding.loadSavedModel(dir, TAG);
  } catch (error) {
    throw new GraphStepError(`TensorFlow could not load the graph: ${(error as Error).message.split("\n")[0]}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
