/**
 * What the browser kernel's worker imports: the library's two entries, TensorFlow.js and
 * the digits preload, each loaded on first use. esbuild splits them into chunks that share
 * modules, so `vae-workbook` and `vae-workbook/exact` see one display sink, one tfjs.
 */
export const loadFull = () => import("../index");
export const loadExact = () => import("../exact-entry");
export const loadTfjs = () => import("./tfjs");
