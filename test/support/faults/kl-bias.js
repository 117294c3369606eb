/**
 * A deliberate fault for test/claims-can-fail.test.ts, kept outside the library: preloaded
 * into a tslab kernel with NODE_OPTIONS=--require=<this file>, it adds VAE_TEST_KL_BIAS nats
 * to every analytic Gaussian KL of the compiled library (klMvNormal in dist/exact/mvnormal.js,
 * which LinearGaussian's KL to the prior and to the posterior, its closed-form ELBO and
 * elboSplit all call through the module's exports), so the notebooks run against a wrong
 * library and their checks must say so.
 */

const path = require("node:path");

const setting = process.env.VAE_TEST_KL_BIAS;
const bias = Number(setting);
if (setting === undefined || !Number.isFinite(bias)) {
  throw new Error(`kl-bias fault: VAE_TEST_KL_BIAS must be a number of nats, got ${JSON.stringify(setting)}`);
}
const mvnormal = require(path.join(__dirname, "..", "..", "..", "dist", "exact", "mvnormal.js"));
const exact = mvnormal.klMvNormal;
mvnormal.klMvNormal = function klMvNormalBiased(q, p) {
  return exact(q, p) + bias;
};
