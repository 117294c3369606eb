/**
 * The shape conventions of torch.distributions, on tfjs tensors (float32):
 *
 *   sample(sampleShape).shape = [...sampleShape, ...batchShape, ...eventShape]
 *   logProb(x).shape          = broadcast(x, batch+event).shape minus the event dims
 *
 * `batchShape` indexes independent, differently parameterized distributions;
 * `eventShape` is the shape of one draw (empty for the scalar distributions here,
 * `Independent` moves batch dims into the event).
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError, assertInteger } from "../errors";
import { customGrad, sumRightmost } from "../tensors";

export type TensorLike = tf.Tensor | number | number[] | number[][] | number[][][];

export interface DistributionOptions {
  /**
   * Check parameters (finite; scale > 0). Reads the values back, so it costs a sync:
   * on by default, off in training loops that build thousands of distributions.
   */
  validateArgs?: boolean;
}

export abstract class Distribution {
  abstract readonly batchShape: number[];
  abstract readonly eventShape: number[];

  /** A draw with no gradient path back to the parameters. */
  abstract sample(sampleShape?: number[], seed?: number): tf.Tensor;
  /** log density (or mass) of `value`, summed over the event dims. */
  abstract logProb(value: tf.Tensor): tf.Tensor;
  abstract entropy(): tf.Tensor;
  abstract get mean(): tf.Tensor;

  /**
   * logProb(value) summed over its rightmost `ndims` dims: what Independent asks for.
   * Subclasses may fuse the two (one pass, and a backward pass without the broadcast
   * tf.sum's gradient makes); the default just sums.
   */
  logProbSummed(value: tf.Tensor, ndims: number): tf.Tensor {
    return tf.tidy(() => sumRightmost(this.logProb(value), ndims));
  }

  /** Reparameterized draw; only distributions with `hasRsample` implement it. */
  rsample(_sampleShape: number[] = [], _seed?: number): tf.Tensor {
    throw new Error(`${this.constructor.name} has no reparameterized sampler (rsample)`);
  }

  get hasRsample(): boolean {
    return false;
  }

  /** The tensors this distribution holds, so callers can dispose them. */
  abstract parameters(): tf.Tensor[];

  dispose(): void {
    tf.dispose(this.parameters());
  }

  toString(): string {
    return `${this.constructor.name}(batchShape=[${this.batchShape}], eventShape=[${this.eventShape}])`;
  }
}

/** Converts numbers / nested arrays to a float32 tensor; leaves tensors as they are. */
export function asTensor(name: string, value: TensorLike): tf.Tensor {
  if (value instanceof tf.Tensor) {
    if (value.dtype !== "float32") throw new ArgumentError(name, `must be a float32 tensor, got ${value.dtype}`);
    return value;
  }
  if (typeof value !== "number" && !Array.isArray(value)) {
    throw new ArgumentError(name, `must be a tensor, a number or a nested array, got ${typeof value}`);
  }
  return tf.tensor(value as number | number[], undefined, "float32");
}

/** numpy/torch broadcasting of two shapes, or an ArgumentError naming both arguments. */
export function broadcastShapes(nameA: string, a: number[], nameB: string, b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ArgumentError(`${nameA}, ${nameB}`, `shape mismatch: [${a}] and [${b}] do not broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

export function checkSampleShape(sampleShape: number[]): void {
  if (!Array.isArray(sampleShape)) throw new ArgumentError("sampleShape", "must be an array of integers");
  sampleShape.forEach((d, i) => {
    assertInteger(`sampleShape[${i}]`, d, 1);
  });
}

/** Throws unless every entry of `t` is finite (and positive when asked). Syncs to read the values. */
export function validateTensor(name: string, t: tf.Tensor, positive: boolean): void {
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) throw new ArgumentError(name, `must contain only finite numbers, got ${v} at flat index ${i}`);
    if (positive && !(v > 0)) throw new ArgumentError(name, `must be positive, got ${v} at flat index ${i}`);
  }
}

/** Identity forward, zero gradient backward (tfjs has no public stopGradient op). */
export const stopGradient = customGrad<[tf.Tensor], tf.Tensor>((x) => ({
  value: tf.clone(x),
  gradFunc: (dy) => tf.zerosLike(dy),
}));
