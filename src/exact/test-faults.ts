/**
 * TEST ONLY. Deliberate faults in the exact float64 code, so the tests can prove that the
 * notebooks' checks fail when the library is wrong (test/claims-can-fail.test.ts). They
 * are off unless a test turns them on; never set them otherwise.
 *
 *   VAE_TEST_KL_BIAS=<nats>   adds <nats> to every analytic Gaussian KL (klMvNormal), and
 *                             so to LinearGaussian's KL to the prior and to the posterior
 *                             and to its closed-form ELBO.
 *
 * Read once, from the host's settings (the kernel's environment on Node); a test in the
 * same process uses setTestKlBias instead. Deliberately not exported from the library's
 * entry points.
 */
import { ArgumentError } from "../errors";
import { hostSetting } from "../platform";

let klBias: number | undefined;

/** The bias added to analytic KLs: 0 unless a test set one. */
export function testKlBias(): number {
  if (klBias === undefined) {
    const setting = hostSetting("VAE_TEST_KL_BIAS");
    const value = setting === undefined ? 0 : Number(setting);
    if (!Number.isFinite(value)) throw new ArgumentError("VAE_TEST_KL_BIAS", `must be a number of nats, got "${setting}"`);
    klBias = value;
  }
  return klBias;
}

/** Sets the KL bias in this process (undefined: back to VAE_TEST_KL_BIAS, read afresh). */
export function setTestKlBias(nats: number | undefined): void {
  if (nats !== undefined && !Number.isFinite(nats)) throw new ArgumentError("nats", `must be a finite number, got ${nats}`);
  klBias = nats;
}
