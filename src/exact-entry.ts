/**
 * `vae-workbook/exact`: the float64 half of the library — exact models, estimators,
 * gradient estimators, the equation ledger and the display helpers — without
 * TensorFlow.js. Notebooks 01–06 import this entry: tslab type-checks every cell against
 * the declarations it imports, and leaving out tfjs's makes each cell compile several
 * times faster. `vae-workbook` itself exports all of this too.
 */

export { Matrix } from "ml-matrix";
export * from "./errors";
export * from "./estimators";
export * from "./exact";
export * from "./figures";
export * from "./gradients";
export type {
  BoundSides,
  CheckRow,
  CheckSides,
  CheckSpec,
  ClaimContext,
  Comparison,
  EqualSides,
  ExceedsSides,
  InequalitySides,
  MonotoneSides,
  RoundOffSides,
  Rule,
  StandardErrorSides,
  VectorWithStdError,
  WithStdError,
} from "./judge";
// The judge's public face: the check builders, the row, strictness. (markShown and
// enforceChecks are show.ledger's own; the registry is read through unshownChecks.)
export {
  CHECKS_METADATA,
  ClaimFailedError,
  check,
  checkAtLeast,
  checkAtMost,
  checkClose,
  checkEqual,
  checkEvery,
  checkExceeds,
  checkMonotone,
  checkRoundOff,
  checkWithinSE,
  describeFailure,
  ROUND_OFF_ULPS,
  STANDARD_ERRORS,
  setStrictChecks,
  strictChecks,
  unshownChecks,
} from "./judge";
export * from "./ledger";
export type { MatrixLike, Vector, VectorLike } from "./linalg";
export * as linalg from "./linalg";
export * from "./notebook";
export * from "./plots/plotly";
export * from "./plots/vega";
export * from "./random";
