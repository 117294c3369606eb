/**
 * vae-workbook: the mathematics of "生成模型系列（一）：从 VAE 出发" as a library.
 * Notebooks import it by name: `import { ... } from "vae-workbook"` for everything, or
 * `from "vae-workbook/exact"` for the float64 half alone (no TensorFlow.js; faster to load).
 */

export * from "./backend";
export * from "./distributions";
export * from "./exact-entry";
export * from "./vae";
