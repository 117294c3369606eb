/**
 * Checkpoints when things go wrong: a fresh run into a used folder, a resume
 * without a checkpoint or on other data, an unwritable folder, a full disk, a damaged
 * file, a diverging run. Each case checks that nothing good is lost and that the message
 * names the file.
 * Tiny models on 384 digits keep the file to seconds.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend";
import { ArgumentError } from "../src/errors";
import { createAdam } from "../src/vae/adam";
import { CheckpointError, checkpointIo, loadCheckpoint, saveCheckpoint } from "../src/vae/checkpoint";
import { type ImageSet, subset } from "../src/vae/data";
import { Vae } from "../src/vae/model";
import { TrainingDivergedError, type TrainOptions, trainVae } from "../src/vae/trainer";
import { smallDigits } from "./support/digits";
import { deadPid, folderBytes, mountTmpfs, resizeTmpfs, unmount } from "./support/fs";

const SMALL = { hidden: [32], latentDim: 3 };

describe("checkpoints when things go wrong", function () {
  this.timeout(120000);
  let train: ImageSet;
  let test: ImageSet;
  let tmp: string;
  let n = 0;
  const fresh = () => path.join(tmp, `case-${++n}`);
  const base: TrainOptions = { model: SMALL, batchSize: 128, seed: 3 };
  const listing = (dir: string) => fs.readdirSync(dir).sort();
  const temporaries = (dir: string) => listing(dir).filter((f) => f.startsWith("."));
  const latest = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, "latest.json"), "utf8")).checkpoint;
  const dispose = (ck: { model: Vae; optimizerWeights: { tensor: tf.Tensor }[] }) => {
    ck.model.dispose();
    tf.dispose(ck.optimizerWeights.map((w) => w.tensor));
  };
  /** A run of `epochs` epochs in a new folder (keeps the newest two epochs). */
  async function trained(epochs: number): Promise<string> {
    const dir = fresh();
    (await trainVae(train, test, { ...base, epochs, checkpointDir: dir })).model.dispose();
    return dir;
  }

  before(async () => {
    await initBackend({ quiet: true });
    ({ train, test } = smallDigits());
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vae-checkpoint-"));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe("a fresh run never costs an earlier run its checkpoints", () => {
    it("a fresh run into a folder that holds a run is refused before any work, and the folder is left as it was", async () => {
      const dir = await trained(3);
      const before = listing(dir);
      let steps = 0;
      await assert.rejects(
        trainVae(train, test, { ...base, epochs: 1, checkpointDir: dir, onStep: () => void steps++ }),
        (e: Error) =>
          e instanceof ArgumentError &&
          e.argument === "checkpointDir" &&
          /already holds a run \(epoch-0002, epoch-0003\); continue it with resume: true/.test(e.message),
      );
      assert.equal(steps, 0, "no step was trained");
      assert.deepEqual(listing(dir), before);
      const ck = loadCheckpoint(dir);
      assert.equal(ck.epoch, 3);
      dispose(ck);
    });

    it("retention never deletes the epoch just written or what latest.json points at, nor any later epoch", async () => {
      // The old retention kept "the newest two names": saving epoch 1 beside epochs 2 and 3 deleted epoch 1 itself.
      const dir = fresh();
      const model = new Vae({ inputDim: 784, ...SMALL }, 1);
      const optimizer = createAdam(1e-3);
      const save = (epoch: number) => saveCheckpoint(dir, model, optimizer, { epoch, step: epoch, meta: {} });
      for (const epoch of [2, 3, 1]) await save(epoch);
      assert.deepEqual(listing(dir), ["epoch-0001", "epoch-0002", "epoch-0003", "latest.json"]);
      assert.equal(latest(dir), "epoch-0001");
      const ck = loadCheckpoint(dir);
      assert.equal(ck.epoch, 1);
      dispose(ck);
      // Going on from there: epoch 2 is rewritten, epoch 1 kept as the previous, epoch 3 left alone.
      await save(2);
      assert.deepEqual(listing(dir), ["epoch-0001", "epoch-0002", "epoch-0003", "latest.json"]);
      await save(3);
      await save(4);
      assert.deepEqual(listing(dir), ["epoch-0003", "epoch-0004", "latest.json"]);
      optimizer.dispose();
      model.dispose();
    });
  });

  describe("resume checks that there is a checkpoint and that the data is the same", () => {
    it("resume without a checkpoint is an error, not a silent fresh start", async () => {
      const dir = fresh();
      await assert.rejects(
        trainVae(train, test, { ...base, epochs: 1, checkpointDir: dir, resume: true }),
        (e: Error) => e instanceof ArgumentError && e.argument === "resume" && /holds no checkpoint; leave out resume: true/.test(e.message),
      );
      assert.equal(fs.existsSync(dir), false, "nothing was created");
      await assert.rejects(trainVae(train, test, { ...base, resume: true }), /resume: needs a checkpointDir/);
    });

    it("resume on other training or test images is refused, naming how the run was trained", async () => {
      const dir = fresh();
      (await trainVae(train, test, { ...base, epochs: 1, checkpointDir: dir, dataSource: { data: "mnist", testFraction: 0.2 } })).model.dispose();
      const otherTrain = subset(
        train,
        Array.from({ length: 384 }, (_, i) => 383 - i),
      );
      await assert.rejects(
        trainVae(otherTrain, test, { ...base, epochs: 2, checkpointDir: dir, resume: true }),
        (e: Error) =>
          e instanceof ArgumentError && e.argument === "train" && /trained with \(data mnist, testFraction 0.2\); use the same data/.test(e.message),
      );
      const otherTest = subset(
        test,
        Array.from({ length: 199 }, (_, i) => i),
      );
      await assert.rejects(
        trainVae(train, otherTest, { ...base, epochs: 2, checkpointDir: dir, resume: true }),
        /^ArgumentError: test: the test images differ/,
      );
      const same = await trainVae(train, test, { ...base, epochs: 2, checkpointDir: dir, resume: true });
      assert.equal(same.resumedFrom, 1);
      same.model.dispose();
    });
  });

  describe("the checkpoint folder is checked before the first epoch", () => {
    async function refusedBeforeWork(dir: string, pattern: RegExp): Promise<void> {
      let steps = 0;
      await assert.rejects(trainVae(train, test, { ...base, epochs: 1, checkpointDir: dir, onStep: () => void steps++ }), (e: Error) => {
        assert.ok(e instanceof CheckpointError, String(e));
        assert.match(e.message, pattern);
        return true;
      });
      assert.equal(steps, 0, "an epoch was trained before the folder was checked");
    }

    it("a path that is a file, or lies under a file, is named before any step", async () => {
      const file = path.join(tmp, "a-file");
      fs.writeFileSync(file, "not a folder");
      await refusedBeforeWork(file, /a-file is a file, not a folder$/);
      await refusedBeforeWork(
        path.join(file, "sub", "dir"),
        /a-file\/sub\/dir cannot create the folder: a part of the path is a file, not a folder \(ENOTDIR\)/,
      );
    });

    it("a read-only parent is named before any step", async function () {
      const ro = fresh();
      fs.mkdirSync(ro);
      // A real read-only file system when we may mount one (root ignores permission bits); else permission bits.
      const mounted = mountTmpfs(ro, 1 << 20, { readOnly: true });
      if (!mounted) {
        if (process.getuid?.() === 0) this.skip(); // root without mount rights: no way to make a folder unwritable
        fs.chmodSync(ro, 0o555);
      }
      try {
        await refusedBeforeWork(path.join(ro, "run"), mounted ? /cannot create the folder: read-only file system \(EROFS\)/ : /permission denied \(EACCES\)/);
      } finally {
        if (mounted) unmount(ro);
        else fs.chmodSync(ro, 0o755);
      }
    });
  });

  describe("a full disk during a save", () => {
    /**
     * The disk: a real tmpfs of `bytes` where the machine lets us mount one (root, as in CI);
     * otherwise checkpointIo.writeFile — the one call through which checkpoint bytes reach
     * the disk — fails with ENOSPC once the folder would exceed `bytes`, as a small disk does.
     */
    function smallDisk(dir: string, bytes: number): { grow(): void; dispose(): void } {
      fs.mkdirSync(dir, { recursive: true });
      if (mountTmpfs(dir, bytes)) return { grow: () => resizeTmpfs(dir, 64 << 20), dispose: () => unmount(dir) };
      const write = checkpointIo.writeFile;
      let limit = bytes;
      checkpointIo.writeFile = (file, data) => {
        if (file.startsWith(dir) && folderBytes(dir) + data.length > limit) {
          throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: "ENOSPC" });
        }
        write(file, data);
      };
      return { grow: () => (limit = Infinity), dispose: () => (checkpointIo.writeFile = write) };
    }

    it("the save fails naming the checkpoint and the cause, leaves no temporary folder, and a retry can succeed", async () => {
      const one = folderBytes(path.join(await trained(1), "epoch-0001"));
      const dir = fresh();
      // Room for two checkpoints (the run keeps two), not for a third beside them.
      const disk = smallDisk(dir, Math.round(2.5 * one));
      const tensorsBefore = tf.memory().numTensors;
      try {
        const full = (e: Error) =>
          e instanceof CheckpointError &&
          e.file === path.join(dir, "epoch-0003") &&
          /could not be saved \(writing \w+\.(bin|json)\): no space left on device \(ENOSPC\); the previous checkpoint .*epoch-0002 is intact$/.test(e.message);
        await assert.rejects(trainVae(train, test, { ...base, epochs: 3, checkpointDir: dir }), full);
        assert.deepEqual(temporaries(dir), [], "no temporary folder left behind");
        assert.equal(latest(dir), "epoch-0002");
        for (let retry = 0; retry < 2; retry++) {
          await assert.rejects(trainVae(train, test, { ...base, epochs: 3, checkpointDir: dir, resume: true }), full);
          assert.deepEqual(temporaries(dir), [], `retry ${retry + 1} left a temporary folder`);
        }
        assert.equal(tf.memory().numTensors, tensorsBefore, "failed saves hold no tensors");
        disk.grow();
        const resumed = await trainVae(train, test, { ...base, epochs: 3, checkpointDir: dir, resume: true });
        assert.equal(resumed.resumedFrom, 2);
        resumed.model.dispose();
        assert.deepEqual(listing(dir), ["epoch-0002", "epoch-0003", "latest.json"]);
      } finally {
        disk.dispose();
      }
    });

    it("a temporary folder left by a killed save is removed by the next save", async () => {
      const dir = await trained(1);
      const stale = path.join(dir, `.epoch-0002.tmp-${deadPid()}`);
      fs.mkdirSync(stale);
      fs.writeFileSync(path.join(stale, "weights.bin"), new Uint8Array(1000));
      fs.writeFileSync(path.join(dir, `latest.json.tmp-${deadPid()}`), "{");
      (await trainVae(train, test, { ...base, epochs: 2, checkpointDir: dir, resume: true })).model.dispose();
      assert.deepEqual(listing(dir), ["epoch-0001", "epoch-0002", "latest.json"]);
    });
  });

  describe("a damaged checkpoint is named, and the kept epoch offered", () => {
    let run: string;
    before(async () => (run = await trained(3)));
    /** A copy of the 3-epoch run (epochs 2 and 3 kept) with one file damaged. */
    function damaged(file: string, damage: (full: string) => void): string {
      const dir = fresh();
      fs.cpSync(run, dir, { recursive: true });
      damage(path.join(dir, file));
      return dir;
    }
    const truncate = (full: string) => fs.truncateSync(full, 996);
    function assertDamaged(dir: string, file: string, problem: RegExp, intact: string | null, options = {}): void {
      assert.throws(
        () => loadCheckpoint(dir, options),
        (e: Error) => {
          assert.ok(e instanceof CheckpointError, String(e));
          assert.equal(e.file, path.join(dir, file));
          assert.match(e.problem, problem);
          assert.equal(e.intact, intact && path.join(dir, intact));
          return true;
        },
      );
    }

    it("an empty latest.json: named, and the newest intact epoch offered", () => {
      const dir = damaged("latest.json", (f) => fs.writeFileSync(f, ""));
      assertDamaged(dir, "latest.json", /^is damaged: not valid JSON \(empty file\)$/, "epoch-0003");
    });

    it("a truncated weights.bin or optimizer.bin: named with its size, and the previous epoch offered", () => {
      assertDamaged(
        damaged("epoch-0003/weights.bin", truncate),
        "epoch-0003/weights.bin",
        /^is damaged: 996 bytes, model.json's manifest needs \d+ \(truncated\)$/,
        "epoch-0002",
      );
      const dir = damaged("epoch-0003/optimizer.bin", truncate);
      assertDamaged(dir, "epoch-0003/optimizer.bin", /^is damaged: 996 bytes/, "epoch-0002");
      // Evaluation does not need optimizer.bin (old code read it anyway and failed).
      const ck = loadCheckpoint(dir, { optimizer: false });
      assert.equal(ck.epoch, 3);
      assert.deepEqual(ck.optimizerWeights, []);
      dispose(ck);
    });

    it("a model.json without its manifest, or weights that are NaN: named", () => {
      const noManifest = damaged("epoch-0003/model.json", (f) => {
        const json = JSON.parse(fs.readFileSync(f, "utf8"));
        delete json.weightsManifest;
        fs.writeFileSync(f, JSON.stringify(json));
      });
      assertDamaged(noManifest, "epoch-0003/model.json", /^is damaged: no weightsManifest for weights.bin$/, "epoch-0002");
      const nan = damaged("epoch-0003/weights.bin", (f) => {
        const buf = fs.readFileSync(f);
        buf.writeFloatLE(NaN, 8);
        fs.writeFileSync(f, buf);
      });
      assertDamaged(nan, "epoch-0003/weights.bin", /^is damaged: enc0\/kernel holds NaN at index 2; it cannot be evaluated or resumed$/, "epoch-0002", {
        optimizer: false,
      });
    });

    it("with both kept epochs damaged nothing is offered; the offered epoch folder resumes, and the run goes on from it", async () => {
      const both = damaged("epoch-0003/weights.bin", truncate);
      truncate(path.join(both, "epoch-0002", "weights.bin"));
      assertDamaged(both, "epoch-0003/weights.bin", /truncated/, null);

      const dir = damaged("epoch-0003/weights.bin", truncate);
      const fromEpoch2 = await trainVae(train, test, { ...base, epochs: 3, checkpointDir: path.join(dir, "epoch-0002"), resume: true });
      assert.equal(fromEpoch2.resumedFrom, 2);
      // Written into the run folder: epoch 3 replaced by an intact one, latest.json at it.
      assert.deepEqual(listing(dir), ["epoch-0002", "epoch-0003", "latest.json"]);
      const ck = loadCheckpoint(dir);
      assert.equal(ck.epoch, 3);
      // Resume is exact, so the rewritten epoch 3 equals the one the damage destroyed.
      const original = loadCheckpoint(run);
      const a = ck.model.getWeights();
      const b = original.model.getWeights();
      for (const k of Object.keys(a)) assert.deepEqual(a[k].dataSync(), b[k].dataSync(), k);
      tf.dispose([...Object.values(a), ...Object.values(b)]);
      [ck, original].forEach(dispose);
      fromEpoch2.model.dispose();
    });
  });

  describe("divergence names the last good checkpoint only when there is one", () => {
    it("before the first save: says that no checkpoint was written", async () => {
      const dir = fresh();
      await assert.rejects(
        trainVae(train, test, { ...base, epochs: 2, checkpointDir: dir, learningRate: 1e6 }),
        (e: Error) =>
          e instanceof TrainingDivergedError &&
          /at epoch 1, step \d+\. No checkpoint was written: the run diverged before its first epoch ended\./.test(e.message),
      );
    });

    it("after a save: names that epoch's folder, which loads", async () => {
      const dir = fresh();
      // Weights made NaN after epoch 1 was saved (onEpoch hands out the model): epoch 2's first step diverges.
      const poison = (r: { epoch: number }, m: Vae) => void (r.epoch === 1 && tf.tidy(() => m.variables()[0].assign(tf.fill(m.variables()[0].shape, NaN))));
      await assert.rejects(
        trainVae(train, test, { ...base, epochs: 2, checkpointDir: dir, onEpoch: poison }),
        (e: Error) =>
          e instanceof TrainingDivergedError &&
          /at epoch 2, step 1\./.test(e.message) &&
          e.message.includes(`The last good checkpoint is ${path.join(dir, "epoch-0001")}.`),
      );
      dispose(loadCheckpoint(dir));
    });
  });
});
