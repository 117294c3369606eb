/**
 * Checkpoints in tfjs's weight format: a folder with `model.json` (a tfjs
 * weightsManifest plus our config, epoch, metrics and history) and `weights.bin`
 * (float32, in manifest order), plus the Adam state in `optimizer.bin`.
 *
 * Atomicity: each epoch is written into a fresh temporary folder, which is renamed
 * to `epoch-NNNN` only when complete; then `latest.json` is replaced by
 * write-to-temp-and-rename. A crash at any point leaves the previous checkpoint
 * intact, so an interrupted run loses at most the epoch in progress.
 */
import * as tf from "@tensorflow/tfjs";
import { Vae, VaeConfig } from "./model";
import { fs, path } from "../platform";

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export interface CheckpointState<TMeta = unknown> {
  config: Required<VaeConfig>;
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps completed. */
  step: number;
  /** Training options and history the trainer needs to resume. */
  meta: TMeta;
}

const FORMAT = "vae-workbook-checkpoint-1";

function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

async function encode(named: NamedTensor[]): Promise<{ data: Uint8Array; specs: tf.io.WeightsManifestEntry[] }> {
  const { data, specs } = await tf.io.encodeWeights(named);
  return { data: new Uint8Array(data as ArrayBuffer), specs };
}

function decode(buf: Uint8Array, specs: tf.io.WeightsManifestEntry[]): tf.NamedTensorMap {
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  return tf.io.decodeWeights(ab, specs);
}

/** Writes epoch `state.epoch` under `dir` atomically and points latest.json at it. */
export async function saveCheckpoint<TMeta>(
  dir: string,
  model: Vae,
  optimizer: tf.Optimizer,
  state: Omit<CheckpointState<TMeta>, "config">,
  keep = 2,
): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const name = `epoch-${String(state.epoch).padStart(4, "0")}`;
  const final = path.join(dir, name);
  const tmp = path.join(dir, `.${name}.tmp-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);

  const weights = model.getWeights();
  const w = await encode(Object.entries(weights).map(([n, tensor]) => ({ name: n, tensor })));
  tf.dispose(Object.values(weights));
  // Adam's slots: the iteration count, then first and second moments per variable.
  const optWeights = await optimizer.getWeights();
  const o = await encode(optWeights.map((w, i) => ({ name: `slot${i}`, tensor: w.tensor })));

  fs.writeFileSync(path.join(tmp, "weights.bin"), w.data);
  fs.writeFileSync(path.join(tmp, "optimizer.bin"), o.data);
  const modelJson = {
    format: FORMAT,
    generatedBy: "vae-workbook",
    weightsManifest: [{ paths: ["weights.bin"], weights: w.specs }],
    optimizerManifest: [{ paths: ["optimizer.bin"], weights: o.specs }],
    config: model.config,
    epoch: state.epoch,
    step: state.step,
    meta: state.meta,
  };
  fs.writeFileSync(path.join(tmp, "model.json"), JSON.stringify(modelJson, null, 1));
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(tmp, final);
  writeFileAtomic(path.join(dir, "latest.json"), JSON.stringify({ checkpoint: name, epoch: state.epoch }) + "\n");

  // Keep the newest `keep` epochs.
  const old = fs
    .readdirSync(dir)
    .filter((f) => /^epoch-\d{4}$/.test(f))
    .sort()
    .slice(0, -keep);
  for (const f of old) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  return final;
}

export interface LoadedCheckpoint<TMeta = unknown> extends CheckpointState<TMeta> {
  model: Vae;
  /** Adam's state as saved, in order, for optimizer.setWeights (the caller disposes these tensors). */
  optimizerWeights: NamedTensor[];
  path: string;
}

/** Reads the checkpoint `latest.json` points to (or a given epoch folder). */
export function loadCheckpoint<TMeta = unknown>(dirOrEpoch: string): LoadedCheckpoint<TMeta> {
  let folder = dirOrEpoch;
  const latest = path.join(dirOrEpoch, "latest.json");
  if (fs.existsSync(latest)) {
    const pointer = JSON.parse(fs.readFileSync(latest, "utf8"));
    folder = path.join(dirOrEpoch, pointer.checkpoint);
  }
  const jsonFile = path.join(folder, "model.json");
  if (!fs.existsSync(jsonFile)) throw new Error(`${dirOrEpoch}: no checkpoint found (expected latest.json or model.json)`);
  const json = JSON.parse(fs.readFileSync(jsonFile, "utf8"));
  if (json.format !== FORMAT) throw new Error(`${jsonFile}: not a vae-workbook checkpoint (format ${json.format})`);
  const model = new Vae(json.config);
  const weights = decode(fs.readFileSync(path.join(folder, "weights.bin")), json.weightsManifest[0].weights);
  model.setWeights(weights);
  tf.dispose(Object.values(weights));
  const om = json.optimizerManifest[0];
  const optMap = decode(fs.readFileSync(path.join(folder, "optimizer.bin")), om.weights);
  const optimizerWeights = (om.weights as tf.io.WeightsManifestEntry[]).map((w) => ({ name: w.name, tensor: optMap[w.name] }));
  return { model, optimizerWeights, config: json.config, epoch: json.epoch, step: json.step, meta: json.meta as TMeta, path: folder };
}

export function hasCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(dir, "latest.json"));
}
