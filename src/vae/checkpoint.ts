/**
 * Checkpoints in tfjs's weight format. A run folder holds one training run:
 *
 *   latest.json          {"checkpoint": "epoch-0003", "epoch": 3}: the newest complete checkpoint
 *   epoch-0003/          model.json (a tfjs weightsManifest plus our config, epoch, metrics and
 *                        history), weights.bin (float32, in manifest order), optimizer.bin (Adam)
 *   epoch-0002/          the previous epoch, kept as a fallback
 *
 * Atomicity: each epoch is written into a temporary folder `.epoch-NNNN.tmp-PID`, which is
 * renamed to `epoch-NNNN` only when complete; then `latest.json` is replaced by
 * write-to-temp-and-rename. A crash or a full disk at any point leaves the previous
 * checkpoint intact; a failed save removes its temporary folder, and the next save removes
 * any left by a process that was killed.
 *
 * Retention never touches what latest.json points at or the epoch just written: after a
 * save, only epochs numbered below it beyond the newest `keep` are removed (a later-numbered
 * folder, e.g. from a run resumed at an earlier epoch, is left for the run to overwrite).
 *
 * Every failure is a {@link CheckpointError} naming the file at fault; a damaged checkpoint
 * also names the newest kept epoch that is intact.
 */

import type { Stats } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { ArgumentError } from "../errors";
import { fs, instanceTag, path, processAlive } from "../platform";
import type { NamedTensor } from "../tensors";
import { assertVaeConfig, type VaeConfig } from "./config";
import { Vae } from "./model";

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
const EPOCH_FOLDER = /^epoch-(\d{4,})$/;
const TEMP_ENTRY = /^(?:\.epoch-\d{4,}\.(?:tmp|old)|latest\.json\.tmp|\.write-probe)-(\d+)$/;

const epochFolderName = (epoch: number) => `epoch-${String(epoch).padStart(4, "0")}`;
const epochOf = (name: string) => Number(EPOCH_FOLDER.exec(name)?.[1] ?? NaN);

/** A checkpoint file or folder that cannot be written or read, named, with what is wrong. */
export class CheckpointError extends Error {
  constructor(
    /** The file or folder at fault. */
    readonly file: string,
    readonly problem: string,
    /** The newest kept epoch folder that loads, when the fault is elsewhere in the same run. */
    readonly intact: string | null = null,
  ) {
    super(`${file} ${problem}${intact ? `; the kept epoch ${intact} is intact` : ""}`);
    this.name = "CheckpointError";
  }
}

const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "is a folder, not a file",
  ENOENT: "does not exist",
  EIO: "input/output error",
};

/** "no space left on device (ENOSPC)" for a Node fs error; its message otherwise. */
function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code && ERRNO_WORDS[code] ? `${ERRNO_WORDS[code]} (${code})` : String((error as Error)?.message ?? error);
}

/**
 * The one place checkpoint bytes reach the disk. Tests replace `writeFile` to simulate a
 * full disk where no small tmpfs can be mounted (test/vae-checkpoint.test.ts).
 */
export const checkpointIo = {
  writeFile(file: string, data: string | Uint8Array): void {
    fs.writeFileSync(file, data);
  },
};

function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${instanceTag}`;
  try {
    checkpointIo.writeFile(tmp, data);
    fs.renameSync(tmp, file);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

async function encode(named: NamedTensor[]): Promise<{ data: Uint8Array; specs: tf.io.WeightsManifestEntry[] }> {
  const { data, specs } = await tf.io.encodeWeights(named);
  return { data: new Uint8Array(data as ArrayBuffer), specs };
}

// ---------------------------------------------------------------- the run folder

export interface RunFolder {
  /** The folder that holds latest.json and the epoch folders. */
  runDir: string;
  /** The epoch folder named explicitly (`--checkpoint-dir RUN/epoch-0002`), else null. */
  epochFolder: string | null;
  /** Epoch folders present, oldest first. */
  epochs: string[];
  /** latest.json exists. */
  hasLatest: boolean;
}

/** What a checkpoint path holds: a run folder, one epoch folder of a run, or nothing yet. */
export function inspectCheckpointDir(dir: string): RunFolder {
  const stat = statOrNull(dir);
  if (stat && !stat.isDirectory()) throw new CheckpointError(dir, "is a file, not a folder");
  const isEpoch = stat !== null && EPOCH_FOLDER.test(path.basename(dir)) && fs.existsSync(path.join(dir, "model.json"));
  const runDir = isEpoch ? path.dirname(dir) : dir;
  const entries = statOrNull(runDir) ? fs.readdirSync(runDir) : [];
  return {
    runDir,
    epochFolder: isEpoch ? dir : null,
    epochs: entries.filter((f) => EPOCH_FOLDER.test(f)).sort((a, b) => epochOf(a) - epochOf(b)),
    hasLatest: entries.includes("latest.json"),
  };
}

/** True when the folder already holds checkpoints of a run (latest.json, an epoch folder, or is one). */
export function holdsRun(folder: RunFolder): boolean {
  return folder.hasLatest || folder.epochs.length > 0 || folder.epochFolder !== null;
}

/** How messages name the two settings of a run's folder: the library's options, or the command line's flags. */
export interface RunFolderWords {
  resume: string;
  folder: string;
}

const OPTION_WORDS: RunFolderWords = { resume: "resume: true", folder: "checkpointDir" };

/**
 * The rule for a run's checkpoint folder, for the trainer and the command line alike: a
 * new run never writes where a run already is (nothing is overwritten), and resuming needs
 * a checkpoint. Returns what the folder holds; otherwise throws an ArgumentError naming
 * `checkpointDir` or `resume`, worded with `words`.
 */
export function settleRunFolder(dir: string, resume: boolean, words: RunFolderWords = OPTION_WORDS): RunFolder {
  const run = inspectCheckpointDir(dir);
  if (resume && !holdsRun(run)) {
    throw new ArgumentError("resume", `${dir} holds no checkpoint; leave out ${words.resume} to start a new run there`);
  }
  if (!resume && holdsRun(run)) {
    const what = run.epochFolder ? "is an epoch folder of a run" : `already holds a run (${run.epochs.join(", ") || "latest.json"})`;
    throw new ArgumentError("checkpointDir", `${dir} ${what}; continue it with ${words.resume}, or pass another ${words.folder} for a new run`);
  }
  return run;
}

function statOrNull(p: string): Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

/**
 * Makes sure checkpoints can be written into `dir` before any training: creates it (and
 * its parents) and writes and removes a probe file there. A path that is a file, a
 * read-only or unwritable parent, or a full disk fail here, named, instead of after an epoch.
 */
export function prepareCheckpointDir(dir: string): void {
  const stat = statOrNull(dir);
  if (stat && !stat.isDirectory()) throw new CheckpointError(dir, "is a file, not a folder");
  try {
    makeFolders(dir);
  } catch (error) {
    throw new CheckpointError(dir, `cannot create the folder: ${describeFsError(error)}`);
  }
  const probe = path.join(dir, `.write-probe-${instanceTag}`);
  try {
    checkpointIo.writeFile(probe, "probe");
  } catch (error) {
    throw new CheckpointError(dir, `cannot write checkpoints here: ${describeFsError(error)}`);
  } finally {
    fs.rmSync(probe, { force: true });
  }
}

/** mkdir -p one level at a time: Node's recursive mkdir reports a read-only file system as ENOENT. */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let p = path.resolve(dir); !fs.existsSync(p) && path.dirname(p) !== p; p = path.dirname(p)) missing.unshift(p);
  for (const p of missing) {
    try {
      fs.mkdirSync(p);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/** Removes temporary entries of earlier saves that failed or were killed (never another live process's). */
function removeStaleTemporaries(dir: string): void {
  for (const entry of fs.readdirSync(dir)) {
    const m = TEMP_ENTRY.exec(entry);
    if (m && (m[1] === instanceTag || !processAlive(Number(m[1])))) {
      fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
  }
}

function readPointer(runDir: string): string | null {
  try {
    const pointer = JSON.parse(fs.readFileSync(path.join(runDir, "latest.json"), "utf8"));
    return typeof pointer?.checkpoint === "string" && EPOCH_FOLDER.test(pointer.checkpoint) ? pointer.checkpoint : null;
  } catch {
    return null;
  }
}

/** Points latest.json at an existing epoch folder (a run resumed from an earlier epoch starts there). */
export function pointLatestAt(epochFolder: string): void {
  const runDir = path.dirname(epochFolder);
  const name = path.basename(epochFolder);
  if (!EPOCH_FOLDER.test(name)) throw new CheckpointError(epochFolder, "is not an epoch folder (epoch-NNNN)");
  try {
    writeFileAtomic(path.join(runDir, "latest.json"), `${JSON.stringify({ checkpoint: name, epoch: epochOf(name) })}\n`);
  } catch (error) {
    throw new CheckpointError(path.join(runDir, "latest.json"), `could not be written: ${describeFsError(error)}`);
  }
}

// ---------------------------------------------------------------- saving

/** Writes epoch `state.epoch` under `dir` atomically, points latest.json at it, and prunes old epochs. */
export async function saveCheckpoint<TMeta>(
  dir: string,
  model: Vae,
  optimizer: tf.Optimizer,
  state: Omit<CheckpointState<TMeta>, "config">,
  keep = 2,
): Promise<string> {
  if (!(Number.isInteger(keep) && keep >= 1)) throw new CheckpointError(dir, `cannot keep ${keep} epochs (a positive integer is needed)`);
  prepareCheckpointDir(dir);
  removeStaleTemporaries(dir);
  const previous = readPointer(dir);
  const name = epochFolderName(state.epoch);
  const final = path.join(dir, name);
  const tmp = path.join(dir, `.${name}.tmp-${instanceTag}`);

  const weights = model.getWeights();
  const w = await encode(Object.entries(weights).map(([n, tensor]) => ({ name: n, tensor })));
  tf.dispose(Object.values(weights));
  // Adam's slots: the iteration count, then first and second moments per variable.
  const optWeights = await optimizer.getWeights();
  const o = await encode(optWeights.map((w, i) => ({ name: `slot${i}`, tensor: w.tensor })));
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

  const intactNote = previous ? `; the previous checkpoint ${path.join(dir, previous)} is intact` : "; no earlier checkpoint was written";
  let writing = tmp;
  try {
    fs.mkdirSync(tmp);
    for (const [file, data] of [
      ["weights.bin", w.data],
      ["optimizer.bin", o.data],
      ["model.json", JSON.stringify(modelJson, null, 1)],
    ] as const) {
      writing = path.join(tmp, file);
      checkpointIo.writeFile(writing, data);
    }
    if (fs.existsSync(final)) {
      // Re-training an epoch after resuming from an earlier one (latest.json points below it):
      // the old folder moves aside until the new one is in place.
      writing = final;
      const old = path.join(dir, `.${name}.old-${instanceTag}`);
      fs.renameSync(final, old);
      fs.renameSync(tmp, final);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      writing = final;
      fs.renameSync(tmp, final);
    }
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new CheckpointError(final, `could not be saved (writing ${path.basename(writing)}): ${describeFsError(error)}${intactNote}`);
  }
  try {
    writeFileAtomic(path.join(dir, "latest.json"), `${JSON.stringify({ checkpoint: name, epoch: state.epoch })}\n`);
  } catch (error) {
    throw new CheckpointError(path.join(dir, "latest.json"), `could not be updated to ${name}: ${describeFsError(error)}${intactNote}`);
  }

  // latest.json now points at `name`: remove only epochs below it, beyond the newest `keep`.
  const older = inspectCheckpointDir(dir).epochs.filter((f) => epochOf(f) < state.epoch);
  for (const f of older.slice(0, Math.max(0, older.length - (keep - 1)))) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  return final;
}

// ---------------------------------------------------------------- loading

export interface LoadedCheckpoint<TMeta = unknown> extends CheckpointState<TMeta> {
  model: Vae;
  /** Adam's state as saved, in order, for optimizer.setWeights (the caller disposes these tensors); empty unless asked for. */
  optimizerWeights: NamedTensor[];
  /** The epoch folder read. */
  path: string;
  /** The run folder it belongs to. */
  runDir: string;
}

export interface LoadOptions {
  /** Also read optimizer.bin (only resuming needs it; default true). */
  optimizer?: boolean;
}

interface ModelJson {
  format: string;
  config: Required<VaeConfig>;
  epoch: number;
  step: number;
  meta: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  optimizerManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new CheckpointError(file, `cannot be read: ${describeFsError(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(file, `is damaged: not valid JSON (${text.length === 0 ? "empty file" : (error as Error).message})`);
  }
}

/** The folder latest.json points at, checked. */
function latestFolder(runDir: string): string {
  const file = path.join(runDir, "latest.json");
  const pointer = readJson(file) as { checkpoint?: unknown };
  if (typeof pointer?.checkpoint !== "string" || !EPOCH_FOLDER.test(pointer.checkpoint)) {
    throw new CheckpointError(file, `is damaged: no "checkpoint": "epoch-NNNN" entry`);
  }
  const folder = path.join(runDir, pointer.checkpoint);
  if (!fs.existsSync(folder)) throw new CheckpointError(file, `points at ${pointer.checkpoint}, which is missing`);
  return folder;
}

/** model.json of an epoch folder, with every field the loader relies on checked. */
function readModelJson(folder: string): ModelJson {
  const file = path.join(folder, "model.json");
  if (!fs.existsSync(file)) throw new CheckpointError(file, "is missing");
  const json = readJson(file) as ModelJson;
  const damaged = (what: string) => new CheckpointError(file, `is damaged: ${what}`);
  if (json === null || typeof json !== "object") throw damaged("not a JSON object");
  if (json.format !== FORMAT) throw new CheckpointError(file, `is not a vae-workbook checkpoint (format ${json.format})`);
  const manifestOk = (m: ModelJson["weightsManifest"] | undefined, bin: string) =>
    Array.isArray(m) && m.length === 1 && m[0]?.paths?.[0] === bin && Array.isArray(m[0].weights);
  if (!manifestOk(json.weightsManifest, "weights.bin")) throw damaged("no weightsManifest for weights.bin");
  if (!manifestOk(json.optimizerManifest, "optimizer.bin")) throw damaged("no optimizerManifest for optimizer.bin");
  try {
    assertVaeConfig(json.config);
  } catch (error) {
    throw damaged(`config: ${(error as Error).message}`);
  }
  if (!(Number.isInteger(json.epoch) && json.epoch >= 1)) throw damaged(`epoch is ${json.epoch}`);
  if (!(Number.isInteger(json.step) && json.step >= 0)) throw damaged(`step is ${json.step}`);
  return json;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4 };

/** Reads a .bin file against its manifest: right size, every value finite. */
function readTensors(folder: string, bin: string, specs: tf.io.WeightsManifestEntry[]): tf.NamedTensorMap {
  const file = path.join(folder, bin);
  let buf: Uint8Array;
  try {
    buf = fs.readFileSync(file);
  } catch (error) {
    throw new CheckpointError(file, `cannot be read: ${describeFsError(error)}`);
  }
  let expected = 0;
  for (const s of specs) {
    if (!BYTES[s.dtype] || !Array.isArray(s.shape)) throw new CheckpointError(path.join(folder, "model.json"), `is damaged: entry ${s.name} of ${bin}`);
    expected += s.shape.reduce((a, b) => a * b, 1) * BYTES[s.dtype];
  }
  if (buf.byteLength !== expected) {
    throw new CheckpointError(
      file,
      `is damaged: ${buf.byteLength} bytes, model.json's manifest needs ${expected}${buf.byteLength < expected ? " (truncated)" : ""}`,
    );
  }
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const map = tf.io.decodeWeights(ab, specs);
  for (const s of specs) {
    const values = map[s.name].dataSync();
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      tf.dispose(Object.values(map));
      throw new CheckpointError(file, `is damaged: ${s.name} holds ${values[bad]} at index ${bad}; it cannot be evaluated or resumed`);
    }
  }
  return map;
}

function loadFolder<TMeta>(folder: string, runDir: string, options: LoadOptions): LoadedCheckpoint<TMeta> {
  const json = readModelJson(folder);
  const weights = readTensors(folder, "weights.bin", json.weightsManifest[0].weights);
  let model: Vae | null = null;
  try {
    model = new Vae(json.config);
    model.setWeights(weights);
  } catch (error) {
    model?.dispose();
    throw new CheckpointError(path.join(folder, "model.json"), `does not match weights.bin: ${(error as Error).message}`);
  } finally {
    tf.dispose(Object.values(weights));
  }
  let optimizerWeights: NamedTensor[] = [];
  if (options.optimizer ?? true) {
    try {
      const specs = json.optimizerManifest![0].weights;
      const map = readTensors(folder, "optimizer.bin", specs);
      optimizerWeights = specs.map((w) => ({ name: w.name, tensor: map[w.name] }));
    } catch (error) {
      model.dispose();
      throw error;
    }
  }
  return { model, optimizerWeights, config: json.config, epoch: json.epoch, step: json.step, meta: json.meta as TMeta, path: folder, runDir };
}

/** The newest epoch folder of the run, other than `except`, that loads (what a damaged checkpoint can fall back to). */
function newestIntact(run: RunFolder, except: string | null, options: LoadOptions): string | null {
  for (const name of run.epochs.slice().reverse()) {
    const folder = path.join(run.runDir, name);
    if (except && path.resolve(folder) === path.resolve(except)) continue;
    try {
      const ck = loadFolder(folder, run.runDir, options);
      ck.model.dispose();
      tf.dispose(ck.optimizerWeights.map((w) => w.tensor));
      return folder;
    } catch {
      /* damaged too: try an older one */
    }
  }
  return null;
}

/** Runs `read` on the epoch folder `dirOrEpoch` stands for; a damaged file's error also names the newest intact other epoch. */
function openCheckpoint<T>(dirOrEpoch: string, options: LoadOptions, read: (folder: string, runDir: string) => T): T {
  const run = inspectCheckpointDir(dirOrEpoch);
  if (!holdsRun(run)) throw new CheckpointError(dirOrEpoch, "holds no checkpoint (no latest.json, no epoch-NNNN folder)");
  let folder: string | null = run.epochFolder;
  try {
    if (folder === null) {
      if (!run.hasLatest) throw new CheckpointError(path.join(run.runDir, "latest.json"), "is missing");
      folder = latestFolder(run.runDir);
    }
    return read(folder, run.runDir);
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    const intact = newestIntact(run, folder, options);
    throw intact ? new CheckpointError(error.file, error.problem, intact) : error;
  }
}

/**
 * Reads the checkpoint latest.json points at, or a given epoch folder (`RUN/epoch-0002`).
 * A damaged file is named in a {@link CheckpointError}, which also names the newest other
 * kept epoch that loads. `optimizer: false` leaves optimizer.bin unread (evaluation).
 */
export function loadCheckpoint<TMeta = unknown>(dirOrEpoch: string, options: LoadOptions = {}): LoadedCheckpoint<TMeta> {
  return openCheckpoint(dirOrEpoch, options, (folder, runDir) => loadFolder<TMeta>(folder, runDir, options));
}

/** The epoch folder and model.json of a checkpoint, without reading its tensors (errors as {@link loadCheckpoint}'s). */
export function readCheckpointInfo<TMeta = unknown>(dirOrEpoch: string): Omit<LoadedCheckpoint<TMeta>, "model" | "optimizerWeights"> {
  return openCheckpoint(dirOrEpoch, {}, (folder, runDir) => {
    const json = readModelJson(folder);
    return { config: json.config, epoch: json.epoch, step: json.step, meta: json.meta as TMeta, path: folder, runDir };
  });
}
