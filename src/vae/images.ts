/**
 * Digit grids as PNG (pngjs): a rows × cols mosaic of grayscale images in [0, 1],
 * optionally scaled up, with a one-pixel gap — what notebook 08 shows for
 * reconstructions, prior samples and the decoded latent manifold.
 */
import { PNG } from "pngjs";
import { ArgumentError, assertInteger } from "../errors";

export interface DigitGridOptions {
  height?: number;
  width?: number;
  /** Pixel scale factor (nearest neighbour). */
  scale?: number;
  /** Gap between tiles, in source pixels; drawn mid-gray. */
  gap?: number;
}

/** Encodes `count = rows·cols` images (flattened, row-major, values in [0,1]) as one PNG. */
export function imageGridPng(images: ArrayLike<number>, rows: number, cols: number, options: DigitGridOptions = {}): Uint8Array {
  const h = options.height ?? 28;
  const w = options.width ?? 28;
  const scale = options.scale ?? 2;
  const gap = options.gap ?? 1;
  assertInteger("rows", rows, 1);
  assertInteger("cols", cols, 1);
  assertInteger("scale", scale, 1);
  assertInteger("gap", gap, 0);
  if (images.length < rows * cols * h * w) {
    throw new ArgumentError("images", `has ${images.length} values, a ${rows}×${cols} grid of ${h}×${w} needs ${rows * cols * h * w}`);
  }
  const W = (cols * (w + gap) + gap) * scale;
  const H = (rows * (h + gap) + gap) * scale;
  const png = new PNG({ width: W, height: H });
  png.data.fill(128);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const base = (r * cols + c) * h * w;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const v = Math.round(255 * Math.min(1, Math.max(0, images[base + y * w + x])));
          for (let dy = 0; dy < scale; dy++) {
            const py = ((r * (h + gap) + gap + y) * scale + dy) * W;
            for (let dx = 0; dx < scale; dx++) {
              const px = (py + (c * (w + gap) + gap + x) * scale + dx) * 4;
              png.data[px] = png.data[px + 1] = png.data[px + 2] = v;
              png.data[px + 3] = 255;
            }
          }
        }
      }
    }
  }
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  return new Uint8Array(PNG.sync.write(png));
}
