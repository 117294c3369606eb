/** `@tensorflow/tfjs` for cells of the browser kernel: the very instance the library uses. */
export * from "@tensorflow/tfjs";
