/**
 * KL(N(μ, σ²) ‖ N(0, 1)) = ½(σ² + μ²) − ½ − log σ, elementwise, with its gradient written
 * out: ∂/∂μ = μ, ∂/∂σ = σ − 1/σ. The VAE's KL term in a handful of kernels, where autodiff
 * of the general Normal–Normal form makes a dozen (./backends.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { customGrad, reduceTo } from "../tensors";

export const standardNormalKl = customGrad<[loc: tf.Tensor, scale: tf.Tensor], tf.Tensor>((loc, scale, save) => {
  save([loc, scale]);
  const value = tf.tidy(() => tf.sub(tf.mul(0.5, tf.add(tf.square(scale), tf.square(loc))), tf.add(tf.log(scale), 0.5)));
  return {
    value,
    gradFunc: (dy, [mu, sigma]) => {
      const dMu = tf.mul(dy, mu);
      const dSigma = tf.mul(dy, tf.sub(sigma, tf.reciprocal(sigma)));
      return [reduceTo(dMu, mu.shape), reduceTo(dSigma, sigma.shape)];
    },
  };
});
