/**
 * vae-workbook: the mathematics of "生成模型系列（一）：从 VAE 出发" as a library.
 * Notebooks import everything from here: `import { ... } from "vae-workbook"`.
 */
export * from "./errors";
export * from "./random";
export * from "./backend";
