/**
 * Independent(base, n): reinterprets the rightmost `n` batch dims of `base` as event
 * dims (torch.distributions.Independent), so logProb sums over them. This is how a
 * diagonal Gaussian q(z|x) over a latent vector, or a Bernoulli image p(x|z), gives
 * one log-probability per example.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError, assertInteger } from "../errors";
import { sumRightmost } from "../tensors";
import { Distribution } from "./distribution";

export class Independent<D extends Distribution = Distribution> extends Distribution {
  readonly batchShape: number[];
  readonly eventShape: number[];

  constructor(
    readonly base: D,
    readonly reinterpretedBatchNdims: number,
  ) {
    super();
    assertInteger("reinterpretedBatchNdims", reinterpretedBatchNdims, 0);
    const shape = base.batchShape;
    if (reinterpretedBatchNdims > shape.length) {
      throw new ArgumentError(
        "reinterpretedBatchNdims",
        `must be at most the base batch rank ${shape.length} (batchShape [${shape}]), got ${reinterpretedBatchNdims}`,
      );
    }
    const cut = shape.length - reinterpretedBatchNdims;
    this.batchShape = shape.slice(0, cut);
    this.eventShape = [...shape.slice(cut), ...base.eventShape];
  }

  get mean(): tf.Tensor {
    return this.base.mean;
  }

  override get hasRsample(): boolean {
    return this.base.hasRsample;
  }

  sample(sampleShape: number[] = [], seed?: number): tf.Tensor {
    return this.base.sample(sampleShape, seed);
  }

  override rsample(sampleShape: number[] = [], seed?: number): tf.Tensor {
    return this.base.rsample(sampleShape, seed);
  }

  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.base.logProbSummed(value, this.reinterpretedBatchNdims));
  }

  entropy(): tf.Tensor {
    return tf.tidy(() => sumRightmost(this.base.entropy(), this.reinterpretedBatchNdims));
  }

  parameters(): tf.Tensor[] {
    return this.base.parameters();
  }
}
