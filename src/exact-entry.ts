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
export * from "./judge";
export * from "./notebook";
export * from "./plots/vega";
export * from "./plots/plotly";
export * from "./figures";
