/**
 * `vae-workbook/exact`: the float64 half of the library — exact models, estimators,
 * gradient estimators, the equation ledger and the display helpers — without
 * TensorFlow.js. Notebooks 01–06 import this entry: tslab type-checks every cell against
 * the declarations it imports, and leaving out tfjs's makes each cell compile several
 * times faster. `vae-workbook` itself exports all of this too.
 */
export * from "./errors";
export * from "./random";
export * as linalg from "./linalg";
export type { Vector, VectorLike, MatrixLike } from "./linalg";
export { Matrix } from "ml-matrix";
export * from "./exact";
export * from "./estimators";
export * from "./gradients";
export * from "./ledger";
// The judge's public face: the check builders, the row, strictness. (markShown and
// enforceChecks are show.ledger's own; the registry is read through unshownChecks.)
export {
  check, checkAtLeast, checkAtMost, checkClose, checkEqual, checkEvery, checkExceeds, checkMonotone, checkRoundOff, checkWithinSE,
  CHECKS_METADATA, ClaimFailedError, ROUND_OFF_ULPS, STANDARD_ERRORS, describeFailure, setStrictChecks, strictChecks, unshownChecks,
} from "./judge";
export type {
  BoundSides, CheckRow, CheckSides, CheckSpec, ClaimContext, Comparison, EqualSides, ExceedsSides, InequalitySides, MonotoneSides,
  RoundOffSides, Rule, StandardErrorSides, VectorWithStdError, WithStdError,
} from "./judge";
export * from "./notebook";
export * from "./plots/vega";
export * from "./plots/plotly";
export * from "./figures";
