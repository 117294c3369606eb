/**
 * Normal(loc, scale): independent univariate normals, one per entry of the
 * broadcast of `loc` and `scale` (torch.distributions.Normal). A diagonal
 * Gaussian over a vector is `new Independent(new Normal(loc, scale), 1)`, or
 * `Normal.diagonal(loc, scale)`.
 */
import * as tf from "@tensorflow/tfjs";
import { assertInteger } from "../errors";
import { tfjsSeed } from "../random";
import {
  asTensor,
  broadcastShapes,
  checkSampleShape,
  Distribution,
  type DistributionOptions,
  stopGradient,
  type TensorLike,
  validateTensor,
} from "./distribution";
import { Independent } from "./independent";

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ε ~ N(0, I) of this shape, seeded: the noise rsample draws (the graph step feeds the same). */
export function standardNormalNoise(shape: number[], seed?: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, "float32", tfjsSeed(seed));
}

export class Normal extends Distribution {
  readonly loc: tf.Tensor;
  readonly scale: tf.Tensor;
  readonly batchShape: number[];
  readonly eventShape: number[] = [];
  /** True when built by Normal.standard (loc 0, scale 1): KL to it is one fused op (src/fast/standard-normal-kl.ts). */
  readonly isStandard: boolean = false;

  constructor(loc: TensorLike, scale: TensorLike, options: DistributionOptions = {}) {
    super();
    this.loc = asTensor("loc", loc);
    this.scale = asTensor("scale", scale);
    this.batchShape = broadcastShapes("loc", this.loc.shape, "scale", this.scale.shape);
    if (options.validateArgs ?? true) {
      validateTensor("loc", this.loc, false);
      validateTensor("scale", this.scale, true);
    }
  }

  /** N(0, I) with the given batch shape: the prior p(z) of the article. */
  static standard(shape: number[] = []): Normal {
    shape.forEach((d, i) => {
      assertInteger(`shape[${i}]`, d, 1);
    });
    const n = new Normal(tf.zeros(shape), tf.ones(shape), { validateArgs: false });
    (n as { isStandard: boolean }).isStandard = true;
    return n;
  }

  /** A diagonal Gaussian whose last `eventDims` dims form one event. */
  static diagonal(loc: TensorLike, scale: TensorLike, eventDims = 1, options: DistributionOptions = {}): Independent<Normal> {
    return new Independent(new Normal(loc, scale, options), eventDims);
  }

  get mean(): tf.Tensor {
    return tf.broadcastTo(this.loc, this.batchShape);
  }

  get stddev(): tf.Tensor {
    return tf.broadcastTo(this.scale, this.batchShape);
  }

  get variance(): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(tf.square(this.scale), this.batchShape));
  }

  override get hasRsample(): boolean {
    return true;
  }

  /** Section 6: z = μ + σ ⊙ ε with ε ~ N(0, I), differentiable in μ and σ. */
  override rsample(sampleShape: number[] = [], seed?: number): tf.Tensor {
    checkSampleShape(sampleShape);
    return tf.tidy(() => {
      const eps = standardNormalNoise([...sampleShape, ...this.batchShape], seed);
      return tf.add(this.loc, tf.mul(this.scale, eps));
    });
  }

  sample(sampleShape: number[] = [], seed?: number): tf.Tensor {
    return tf.tidy(() => stopGradient(this.rsample(sampleShape, seed)));
  }

  /** log N(x; μ, σ²) = −(x−μ)²/(2σ²) − log σ − ½ log 2π, elementwise. */
  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const z = tf.div(tf.sub(value, this.loc), this.scale);
      return tf.sub(tf.sub(tf.mul(-0.5, tf.square(z)), tf.log(this.scale)), HALF_LOG_2PI);
    });
  }

  /** ½ + ½ log 2π + log σ, elementwise. */
  entropy(): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(tf.add(tf.log(this.scale), 0.5 + HALF_LOG_2PI), this.batchShape));
  }

  parameters(): tf.Tensor[] {
    return [this.loc, this.scale];
  }
}
