/**
 * vae-workbook: the mathematics of "生成模型系列（一）：从 VAE 出发" as a library.
 * Notebooks import everything from here: `import { ... } from "vae-workbook"`.
 */
export * from "./errors";
export * from "./random";
export * from "./backend";
export * from "./distributions";
export * from "./vae";
export * as linalg from "./linalg";
export type { Vector, VectorLike, MatrixLike } from "./linalg";
export { Matrix } from "ml-matrix";
export * from "./exact";
export * from "./estimators";
export * from "./gradients";
export * from "./ledger";
export * from "./notebook";
export * from "./plots/vega";
export * from "./figures";
export * from "./plots/plotly";
