/**
 * `npm run setup:native` — native TensorFlow for tfjs-node without its blocked download.
 *
 * tfjs-node's own install script fetches libtensorflow and a prebuilt addon from a cloud
 * storage host that many networks cannot reach; when it fails, npm drops the optional
 * package and the workbook runs on wasm. This script instead takes TensorFlow's shared
 * libraries and C headers out of a TensorFlow wheel from the Python package index and
 * builds the addon from the package's own sources with node-gyp:
 *
 *   a. apply the upstream fix for Node ≥ 23 to the package's files when they are there
 *      (patchForNode23); if @tensorflow/tfjs-node then loads, say so and stop (--force rebuilds);
 *   b. if a tfjs-node mirror is configured (TFJS_NODE_CDN_STORAGE and friends), run the
 *      package's own install script against it first;
 *   c. otherwise: `pip download` a pinned tensorflow-cpu wheel into .venv-native/
 *      (git-ignored, reused next time), extract the libraries and headers, install the
 *      package files with `npm install --no-save --ignore-scripts`, stage deps/, pick the
 *      library that exports every TF_* / TFE_* symbol the addon uses (checked with nm),
 *      and build the addon with node-gyp;
 *   d. verify: a matmul, a gradient and one training step of a tiny dense VAE agree with
 *      the wasm backend within float32 tolerance, and one graph step (the trainer's
 *      step as one TensorFlow graph) agrees with the eager step; print training
 *      throughput of both backends;
 *   e. on any failure: name the step and the reason, remove the half-built addon so wasm
 *      stays the backend, exit non-zero.
 *
 * Flags: --force (rebuild even if tfjs-node loads), --remove (undo: delete the addon, the
 * package files and the .venv-native cache), --no-bench (skip the throughput measurement).
 * Env: VAE_TF_WHEEL=2.9.1 picks one wheel version from WHEELS below.
 * Node: 20, 22 and 24 (the addon uses N-API, so one build serves every version).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compareProbes, projectRoot, runProbe } from "./native-parity-probe";
import { lastLines, type RunOptions, run as runProcess } from "./proc";

const TFJS_NODE_VERSION = "4.22.0";
const root = projectRoot;
const cacheDir = path.join(root, ".venv-native");
const logDir = path.join(cacheDir, "logs");
const pkgDir = path.join(root, "node_modules", "@tensorflow", "tfjs-node");

/**
 * Wheels to try, in order. 2.21.0 first: its graph step is 7–10% faster than 2.9.1's on the
 * build machine (alternating processes, docs/benchmarks.md), and its `libtensorflow_cc.so.2`
 * exports the C API directly. 2.9.1, the release tfjs-node 4.22 was built against, is the
 * fallback for systems older than glibc 2.27; its C API lives in the Python extension
 * `_pywrap_tensorflow_internal.so`. Pinning version, Python tag and platform makes pip pick
 * the same file whatever Python runs it.
 */
const WHEELS = [
  { version: "2.21.0", python: "3.11", glibc: "2.27", platforms: ["manylinux_2_27_x86_64", "manylinux_2_17_x86_64"] },
  { version: "2.9.1", python: "3.10", glibc: "2.17", platforms: ["manylinux2014_x86_64", "manylinux_2_17_x86_64"] },
];

/** Where, inside a wheel, a library with TensorFlow's C API may live (first match wins). */
const C_API_CANDIDATES = ["tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow.so.2", "tensorflow/python/_pywrap_tensorflow_internal.so"];
const FRAMEWORK = "tensorflow/libtensorflow_framework.so.2";
/** Header folders the addon's includes reach (tensorflow/c and the TF_TString helpers). */
const HEADER_PREFIXES = [
  "tensorflow/include/tensorflow/c/",
  "tensorflow/include/tensorflow/core/platform/",
  "tensorflow/include/tensorflow/tsl/platform/", // 2.12-2.13
  "tensorflow/include/tsl/", // 2.14+
  "tensorflow/include/xla/tsl/", // 2.17+: tf_status.h includes xla/tsl/c/tsl_status.h
];

/** Environment variables tfjs-node's scripts/install.js and node-pre-gyp read for mirrors. */
const MIRROR_VARS = [
  "TFJS_NODE_CDN_STORAGE",
  "npm_config_TFJS_NODE_CDN_STORAGE",
  "npm_config_tfjs_node_cdn_storage",
  "CDN_STORAGE",
  "TFJS_NODE_BASE_URI",
  "npm_config_TFJS_NODE_BASE_URI",
  "npm_config_tfjs_node_base_uri",
  "npm_config_tfjs_binding_binary_host_mirror",
];

class StepError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

const args = new Set(process.argv.slice(2));
const timings: Array<[string, number]> = [];

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function log(line: string): void {
  console.log(`setup:native: ${line}`);
}

async function step<T>(name: string, body: () => T | Promise<T>): Promise<T> {
  const started = Date.now();
  log(`[${name}] …`);
  try {
    const value = await body();
    const seconds = (Date.now() - started) / 1000;
    timings.push([name, seconds]);
    log(`[${name}] done in ${seconds.toFixed(1)} s`);
    return value;
  } catch (error) {
    if (error instanceof StepError) throw error;
    throw new StepError(name, error instanceof Error ? error.message : String(error));
  }
}

/** Runs a command in the project's root; `logName` keeps what it printed in .venv-native/logs/. */
function run(cmd: string, argv: string[], options: Omit<RunOptions, "log"> & { logName?: string } = {}) {
  const { logName, ...rest } = options;
  return runProcess(cmd, argv, { cwd: root, ...rest, log: logName ? path.join(logDir, logName) : undefined });
}

function tail(text: string, lines = 12): string {
  return lastLines(text, lines)
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

function dirSize(p: string): number {
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  return fs.readdirSync(p).reduce((sum, name) => sum + dirSize(path.join(p, name)), 0);
}

/** Does tfjs-node load and register its backend? Checked in a fresh process. */
function nativeLoads(): { ok: boolean; reason: string } {
  const probe = run(
    process.execPath,
    [
      "-e",
      "const tf=require('@tensorflow/tfjs-node');" +
        "if(tf.getBackend()!=='tensorflow')throw new Error('backend is '+tf.getBackend());" +
        "const s=tf.tensor1d([1,2,3]).square().sum().dataSync()[0];" +
        "if(s!==14)throw new Error('1+4+9 gave '+s);",
    ],
    { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" } },
  );
  const reason = probe.output.split("\n").find((l) => /Error|error:/.test(l)) ?? probe.output.trim().split("\n")[0] ?? "";
  return { ok: probe.ok, reason: reason.trim().slice(0, 300) };
}

/** The addon path tfjs-node's loader (node-pre-gyp's `find`) looks at. */
function addonPath(): string {
  const preGyp = require(require.resolve("@mapbox/node-pre-gyp", { paths: [pkgDir] }));
  return preGyp.find(path.join(pkgDir, "package.json")) as string;
}

function python(): string {
  for (const candidate of ["python3", path.join(root, ".venv", "bin", "python"), "python"]) {
    if (run(candidate, ["-m", "pip", "--version"]).ok) return candidate;
  }
  throw new Error("no Python with pip found (tried python3, .venv/bin/python, python): pip is needed to download the TensorFlow wheel");
}

// ---------------------------------------------------------------- the steps

/**
 * tfjs-node 4.22.0 still calls util.isNullOrUndefined and util.isArray, which Node 23
 * removed: there its first op fails with "(0 , util_1.isNullOrUndefined) is not a
 * function". The fix is merged upstream (tensorflow/tfjs#8425) but not released; this
 * makes the same change to the package's compiled files: `x == null` and Array.isArray(x).
 * Idempotent; returns how many calls it changed.
 */
function patchForNode23(): number {
  const fixes: [RegExp, string][] = [
    [/\(0, util_1\.isNullOrUndefined\)\((\w+)\)/g, "($1 == null)"],
    [/\(0, util_1\.isArray\)\((\w+)\)/g, "Array.isArray($1)"],
  ];
  const walk = (d: string): string[] =>
    fs
      .readdirSync(d, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith(".js") ? [path.join(d, e.name)] : []));
  const files = walk(path.join(pkgDir, "dist"));
  let changed = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    let out = text;
    for (const [pattern, replacement] of fixes) {
      out = out.replace(pattern, (...m) => {
        changed++;
        return replacement.replace("$1", m[1]);
      });
    }
    if (out !== text) fs.writeFileSync(file, out);
  }
  const left = files.filter((f) => /util_\d+\.is(NullOrUndefined|Array)\b/.test(fs.readFileSync(f, "utf8")));
  if (left.length) throw new Error(`calls to util.isNullOrUndefined/isArray remain in ${left.map((f) => path.relative(pkgDir, f)).join(", ")}`);
  return changed;
}

function patchStep(): void {
  const changed = patchForNode23();
  log(
    changed
      ? `  applied tensorflow/tfjs#8425 (Node ≥ 23 removed util.isNullOrUndefined): ${changed} calls in dist/`
      : "  tensorflow/tfjs#8425 already applied to dist/ (Node ≥ 23)",
  );
}

function removeAddon(): void {
  for (const dir of ["lib", "build", "deps"]) fs.rmSync(path.join(pkgDir, dir), { recursive: true, force: true });
}

function installPackage(): boolean {
  const pkgJson = path.join(pkgDir, "package.json");
  const preGyp = path.join(root, "node_modules", "@mapbox", "node-pre-gyp");
  if (fs.existsSync(pkgJson) && fs.existsSync(preGyp)) {
    const version = JSON.parse(fs.readFileSync(pkgJson, "utf8")).version;
    if (version !== TFJS_NODE_VERSION) throw new Error(`node_modules has @tensorflow/tfjs-node ${version}, expected ${TFJS_NODE_VERSION}`);
    log(`  @tensorflow/tfjs-node ${version} files already in node_modules`);
    return false;
  }
  // npm would run the package's install script, which downloads from the blocked host:
  // --ignore-scripts installs only the files. --no-save keeps package.json and the
  // lockfile as they are; they are compared byte for byte afterwards all the same.
  const guarded = ["package.json", "package-lock.json"].map((f) => path.join(root, f)).filter((f) => fs.existsSync(f));
  const before = guarded.map((f) => fs.readFileSync(f));
  const npmCli = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? process.env.npm_execpath : null;
  const [cmd, pre] = npmCli ? [process.execPath, [npmCli]] : ["npm", []];
  const spec = `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`;
  log(`  npm install --no-save --ignore-scripts ${spec}`);
  const npm = run(cmd, [...pre, "install", "--no-save", "--ignore-scripts", "--no-audit", "--no-fund", spec], { logName: "npm-install.log" });
  guarded.forEach((file, i) => {
    if (!fs.readFileSync(file).equals(before[i])) {
      fs.writeFileSync(file, before[i]);
      log(`  warning: npm changed ${path.basename(file)}; restored it byte for byte`);
    }
  });
  if (!npm.ok) throw new Error(`npm install failed:\n${tail(npm.output)}`);
  // The addon registers its backend with the @tensorflow/tfjs it resolves: it must be
  // the project's own copy, or tf.setBackend("tensorflow") would not see it.
  const theirs = require.resolve("@tensorflow/tfjs", { paths: [pkgDir] });
  const ours = require.resolve("@tensorflow/tfjs", { paths: [root] });
  if (theirs !== ours) throw new Error(`tfjs-node resolved its own @tensorflow/tfjs (${theirs}), not the project's (${ours})`);
  return true;
}

function mirrorConfigured(): string[] {
  return MIRROR_VARS.filter((name) => process.env[name]);
}

/** Runs tfjs-node's own installer (download from the configured mirror, then build). */
function installFromMirror(): void {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const nodedir = localNodeHeaders();
  if (nodedir && !env.npm_config_nodedir) env.npm_config_nodedir = nodedir;
  const gyp = nodeGypCli();
  if (gyp && !env.npm_config_node_gyp) env.npm_config_node_gyp = gyp;
  // node-pre-gyp is started through the shell by install.js: put its bin on PATH.
  env.PATH = `${path.join(root, "node_modules", ".bin")}${path.delimiter}${env.PATH ?? ""}`;
  const result = run(process.execPath, ["scripts/install.js"], { cwd: pkgDir, env, logName: "mirror-install.log", timeout: 15 * 60_000 });
  if (!result.ok) throw new Error(`tfjs-node's install script failed:\n${tail(result.output)}`);
}

/** Node's own headers next to the running binary (Debian/NodeSource/official tarballs). */
function localNodeHeaders(): string | null {
  const prefix = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(prefix, "include", "node", "common.gypi")) ? prefix : null;
}

/** node-gyp as bundled with npm (no extra dependency), else whatever npx finds. */
function nodeGypCli(): string | null {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && path.join(path.dirname(process.env.npm_execpath), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    path.join(path.dirname(path.dirname(process.execPath)), "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  return candidates.find((c): c is string => !!c && fs.existsSync(c)) ?? null;
}

interface Wheel {
  version: string;
  file: string;
}

/** The wheels to try, in order: VAE_TF_WHEEL's alone, else every one this system's C library can load. */
function wheelChoices(): (typeof WHEELS)[number][] {
  const wanted = process.env.VAE_TF_WHEEL;
  if (wanted) {
    const chosen = WHEELS.filter((w) => w.version === wanted);
    if (!chosen.length) throw new Error(`VAE_TF_WHEEL=${wanted} is not one of ${WHEELS.map((w) => w.version).join(", ")}`);
    return chosen;
  }
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  const below = (have: string, need: string) => {
    const [a, b] = [have, need].map((v) => v.split(".").map(Number));
    for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
    return false;
  };
  const usable = glibc ? WHEELS.filter((w) => !below(glibc, w.glibc)) : WHEELS;
  for (const w of WHEELS.filter((x) => !usable.includes(x))) log(`  skipping tensorflow-cpu ${w.version}: it needs glibc ${w.glibc}, this system has ${glibc}`);
  return usable;
}

function downloadWheel(w: (typeof WHEELS)[number]): Wheel {
  const wheelDir = path.join(cacheDir, "wheels");
  fs.mkdirSync(wheelDir, { recursive: true });
  const cached = fs.readdirSync(wheelDir).find((f) => f.startsWith(`tensorflow_cpu-${w.version}-`) && f.endsWith(".whl"));
  if (cached) {
    log(`  cached wheel ${cached} (${mib(fs.statSync(path.join(wheelDir, cached)).size)})`);
    return { version: w.version, file: path.join(wheelDir, cached) };
  }
  const argv = [
    "-m",
    "pip",
    "download",
    `tensorflow-cpu==${w.version}`,
    "--no-deps",
    "--only-binary=:all:",
    "--implementation",
    "cp",
    "--python-version",
    w.python,
    ...w.platforms.flatMap((p) => ["--platform", p]),
    "--disable-pip-version-check",
    "--retries",
    "2",
    "--timeout",
    "60",
    "-d",
    wheelDir,
  ];
  log(`  pip download tensorflow-cpu==${w.version} (Python ${w.python}, ${w.platforms[0]}) into ${path.relative(root, wheelDir)}/ …`);
  const started = Date.now();
  const pip = run(python(), argv, { logName: `pip-download-${w.version}.log` });
  const got = fs.readdirSync(wheelDir).find((f) => f.startsWith(`tensorflow_cpu-${w.version}-`) && f.endsWith(".whl"));
  if (pip.ok && got) {
    const size = fs.statSync(path.join(wheelDir, got)).size;
    const seconds = (Date.now() - started) / 1000;
    log(`  downloaded ${got}: ${mib(size)} in ${seconds.toFixed(1)} s (${mib(size / seconds)}/s)`);
    return { version: w.version, file: path.join(wheelDir, got) };
  }
  const reason =
    pip.output
      .split("\n")
      .filter((l) => /ERROR|error/.test(l))
      .join(" | ") || tail(pip.output, 3);
  throw new Error(`could not download tensorflow-cpu==${w.version}: ${reason}`);
}

interface Extracted {
  dir: string;
  /** Wheel-relative paths of the libraries found, e.g. tensorflow/libtensorflow_framework.so.2. */
  libs: string[];
}

/** Unpacks the shared libraries and C headers (not the Python code) into the cache. */
function extractWheel(wheel: Wheel): Extracted {
  const dir = path.join(cacheDir, `tensorflow-${wheel.version}`);
  const stamp = path.join(dir, "extracted.json");
  if (fs.existsSync(stamp)) {
    const saved = JSON.parse(fs.readFileSync(stamp, "utf8"));
    if (saved.wheel === path.basename(wheel.file) && JSON.stringify(saved.headers) === JSON.stringify(HEADER_PREFIXES)) {
      log(`  already extracted in ${path.relative(root, dir)}/ (${mib(dirSize(dir))})`);
      return { dir, libs: saved.libs };
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  // A wheel is a zip archive; Python's zipfile reads it without any unzip tool.
  const script = [
    "import json, sys, zipfile",
    "wheel, dest, libs, heads = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])",
    "z = zipfile.ZipFile(wheel)",
    "names = [n for n in z.namelist() if n in libs or any(n.startswith(h) for h in heads)]",
    "z.extractall(dest, [n for n in names if not n.endswith('/')])",
    "print(json.dumps([n for n in names if n in libs]))",
  ].join("\n");
  const py = python();
  const out = run(py, ["-c", script, wheel.file, dir, JSON.stringify([...C_API_CANDIDATES, FRAMEWORK]), JSON.stringify(HEADER_PREFIXES)]);
  if (!out.ok) throw new Error(`could not unpack ${path.basename(wheel.file)}:\n${tail(out.output)}`);
  const libs = JSON.parse(out.output.trim().split("\n").pop() ?? "[]") as string[];
  for (const lib of libs) fs.chmodSync(path.join(dir, lib), 0o755);
  fs.writeFileSync(stamp, JSON.stringify({ wheel: path.basename(wheel.file), libs, headers: HEADER_PREFIXES }, null, 2));
  log(`  extracted ${libs.length} libraries and the C headers: ${mib(dirSize(dir))} in ${path.relative(root, dir)}/`);
  return { dir, libs };
}

/** nm over a 0.5 GB library takes seconds: remember answers by inode (deps/lib holds hard links). */
const symbolCache = new Map<string, Map<string, string>>();

function dynamicSymbols(file: string, which: "--defined-only" | "--undefined-only"): Map<string, string> {
  const st = fs.statSync(file);
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${which}`;
  const known = symbolCache.get(key);
  if (known) return known;
  const nm = run("nm", ["-D", which, file]);
  if (!nm.ok) throw new Error(`nm -D ${path.basename(file)} failed (binutils installed?):\n${tail(nm.output, 4)}`);
  const out = new Map<string, string>();
  for (const line of nm.output.split("\n")) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 2) continue;
    const [type, name] = parts.slice(-2);
    out.set(name.replace(/@.*$/, ""), type);
  }
  symbolCache.set(key, out);
  return out;
}

/** The TF_* / TFE_* functions the addon's sources call, minus inline helpers and its own classes. */
function neededSymbols(includeDir: string): string[] {
  const sources = fs
    .readdirSync(path.join(pkgDir, "binding"))
    .map((f) => fs.readFileSync(path.join(pkgDir, "binding", f), "utf8"))
    .join("\n");
  const used = new Set([...sources.matchAll(/\b(TFE?_[A-Z]\w*)\s*\(/g)].map((m) => m[1]));
  const notLinked = new Set([...sources.matchAll(/\b(?:class|struct)\s+(TFE?_\w+)/g)].map((m) => m[1]));
  const walk = (d: string): string[] =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  for (const header of walk(includeDir)) {
    const text = fs.readFileSync(header, "utf8");
    for (const m of text.matchAll(/\binline\b[^;{(]*?\b(TFE?_\w+)\s*\(/g)) notLinked.add(m[1]);
  }
  return [...used].filter((s) => !notLinked.has(s)).sort();
}

interface Choice {
  library: string; // wheel-relative path
  exported: number;
  pythonSymbols: string[];
}

/** Picks the first candidate library that, with the framework library, exports every needed symbol. */
function chooseLibrary(ex: Extracted, needed: string[]): Choice {
  const framework = path.join(ex.dir, FRAMEWORK);
  if (!fs.existsSync(framework)) throw new Error(`${FRAMEWORK} is not in the wheel`);
  const fromFramework = dynamicSymbols(framework, "--defined-only");
  const report: string[] = [];
  for (const candidate of C_API_CANDIDATES.filter((c) => ex.libs.includes(c))) {
    const file = path.join(ex.dir, candidate);
    const defined = dynamicSymbols(file, "--defined-only");
    const missing = needed.filter((s) => !defined.has(s) && !fromFramework.has(s));
    const inLib = needed.filter((s) => defined.has(s)).length;
    report.push(
      `${path.basename(candidate)} (${mib(fs.statSync(file).size)}): exports ${inLib}/${needed.length}` +
        `${missing.length ? `, missing ${missing.slice(0, 6).join(", ")}${missing.length > 6 ? " …" : ""}` : ""}`,
    );
    log(`  nm -D: ${report[report.length - 1]}${inLib < needed.length && !missing.length ? "; libtensorflow_framework.so.2 exports the rest" : ""}`);
    if (missing.length === 0) {
      // A Python extension leaves the CPython API undefined (python provides it when it
      // imports the module). Node has none, so those references need a stand-in.
      const undefinedSyms = dynamicSymbols(file, "--undefined-only");
      const pythonSymbols = [...undefinedSyms]
        .filter(([name, type]) => type === "U" && /^_?Py/.test(name))
        .map(([n]) => n)
        .sort();
      return { library: candidate, exported: needed.length, pythonSymbols };
    }
  }
  throw new Error(`no library in the wheel exports the C API the addon needs:\n  ${report.join("\n  ") || "(no candidate library found)"}`);
}

/** Data objects of the CPython API (types, exception objects, singletons); the rest are functions. */
const PY_DATA = /^(PyExc_\w+|Py\w*_Type|_Py_\w+Struct|_Py_\w+Object|_PyRuntime|Py_\w+Flag)$/;

/**
 * A tiny shared library that defines the CPython symbols TensorFlow's Python extension
 * refers to, so the dynamic linker can load it inside Node. None of them is reached by
 * the C API: the functions abort loudly if that ever changes, the data objects are
 * zero-filled placeholders that are only compared by address.
 */
function buildPythonStub(symbols: string[], libDir: string): string {
  const file = path.join(libDir, "libtfjs_pystub.so");
  const source = [
    "/* Generated by scripts/setup-native.ts: CPython API stand-ins for loading TensorFlow's",
    " * Python extension library outside Python. Never called by TensorFlow's C API. */",
    "#include <stdio.h>",
    "#include <stdlib.h>",
    'static void die(const char* name) { fprintf(stderr, "tfjs-node: CPython function %s called outside Python\\n", name); abort(); }',
    ...symbols.map((s) => (PY_DATA.test(s) ? `char ${s}[512] __attribute__((aligned(64)));` : `void ${s}(void) { die("${s}"); }`)),
    "",
  ].join("\n");
  const src = path.join(libDir, "tfjs_pystub.c");
  fs.mkdirSync(libDir, { recursive: true });
  fs.writeFileSync(src, source);
  const cc = process.env.CC ?? "cc";
  const out = run(cc, ["-shared", "-fPIC", "-O1", "-o", file, src]);
  if (!out.ok) throw new Error(`compiling the CPython stub with ${cc} failed:\n${tail(out.output)}`);
  return file;
}

function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to); // same disk: no second copy of a 0.5 GB library
  } catch {
    fs.copyFileSync(from, to);
  }
}

/** Lays out deps/ the way binding.gyp and scripts/install.js expect it. */
function stageDeps(ex: Extracted, choice: Choice, stub: string | null): void {
  const deps = path.join(pkgDir, "deps");
  const lib = path.join(deps, "lib");
  fs.rmSync(deps, { recursive: true, force: true });
  fs.mkdirSync(lib, { recursive: true });
  // The file names must be the SONAMEs the addon will record (the basenames here).
  const cApi = path.basename(choice.library);
  linkOrCopy(path.join(ex.dir, choice.library), path.join(lib, cApi));
  linkOrCopy(path.join(ex.dir, FRAMEWORK), path.join(lib, path.basename(FRAMEWORK)));
  if (stub) linkOrCopy(stub, path.join(lib, path.basename(stub)));
  // binding.gyp links -ltensorflow -ltensorflow_framework; install.js skips its download
  // when deps/lib/libtensorflow.so.2.9.1 exists.
  if (cApi !== "libtensorflow.so") fs.symlinkSync(cApi, path.join(lib, "libtensorflow.so"));
  fs.symlinkSync(path.basename(FRAMEWORK), path.join(lib, "libtensorflow_framework.so"));
  fs.symlinkSync(cApi, path.join(lib, "libtensorflow.so.2.9.1"));
  fs.cpSync(path.join(ex.dir, "tensorflow", "include"), path.join(deps, "include"), { recursive: true });
  log(`  deps/lib: ${fs.readdirSync(lib).join(", ")}`);
}

function buildAddon(stub: string | null): string {
  const gyp = nodeGypCli();
  const [cmd, pre] = gyp ? [process.execPath, [gyp]] : ["npx", ["--yes", "node-gyp"]];
  const target = addonPath();
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  const napi = Math.max(...(pkg.binary.napi_versions as number[]).filter((v) => v <= Number(process.versions.napi)));
  const nodedir = localNodeHeaders();
  const argv = [
    ...pre,
    "rebuild",
    "-j",
    "2",
    `--module_name=${pkg.binary.module_name}`,
    `--module_path=${path.dirname(target)}`,
    `--napi_build_version=${napi}`,
    ...(nodedir ? [`--nodedir=${nodedir}`] : []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (stub) {
    // Record the stub as a dependency of the addon, so it is loaded before TensorFlow's
    // library needs its symbols (gyp's Makefile appends $LDFLAGS to the link line).
    env.LDFLAGS = `${env.LDFLAGS ?? ""} -Wl,--no-as-needed -L${path.dirname(stub)} -l${path.basename(stub, ".so").replace(/^lib/, "")}`.trim();
  }
  log(
    `  node-gyp rebuild (N-API ${napi}${nodedir ? `, headers from ${nodedir}/include/node` : ""}); log: ${path.relative(root, path.join(logDir, "node-gyp.log"))}`,
  );
  const out = run(cmd, argv, { cwd: pkgDir, env, logName: "node-gyp.log", timeout: 15 * 60_000 });
  if (!out.ok) throw new Error(`node-gyp failed:\n${tail(out.output)}`);
  if (!fs.existsSync(target)) throw new Error(`node-gyp finished but ${target} is missing`);
  log(`  built ${path.relative(root, target)} (${mib(fs.statSync(target).size)})`);
  return target;
}

/** Every TF_* / TFE_* symbol the built addon imports must be exported by the staged libraries. */
function checkAddonSymbols(addon: string): number {
  const imported = [...dynamicSymbols(addon, "--undefined-only").keys()].filter((s) => /^TFE?_/.test(s));
  const lib = path.join(pkgDir, "deps", "lib");
  const exported = new Set<string>();
  for (const f of fs.readdirSync(lib)) {
    const p = path.join(lib, f);
    if (!fs.lstatSync(p).isSymbolicLink() && /\.so/.test(f)) for (const s of dynamicSymbols(p, "--defined-only").keys()) exported.add(s);
  }
  const missing = imported.filter((s) => !exported.has(s));
  if (missing.length) throw new Error(`the addon imports symbols no staged library exports: ${missing.join(", ")}`);
  log(`  the addon imports ${imported.length} TF_/TFE_ symbols; all exported by deps/lib`);
  return imported.length;
}

function verifyParity(bench: boolean): void {
  const seconds = bench ? 3 : 0;
  const native = runProbe("tensorflow", { benchSeconds: seconds });
  if (!native.result) throw new Error(`the probe could not load tfjs-node: ${native.reason}`);
  const wasm = runProbe("wasm", { benchSeconds: seconds });
  if (!wasm.result) throw new Error(`the probe could not load wasm: ${wasm.reason}`);
  const rows = compareProbes(native.result.values, wasm.result.values);
  const show = rows.filter((r) => !r.name.startsWith("vae.") || !r.ok);
  const vae = rows.filter((r) => r.name.startsWith("vae."));
  for (const r of show) {
    log(
      `  ${r.ok ? "ok  " : "FAIL"} ${r.name.padEnd(14)} n=${String(r.size).padStart(4)}  max|Δ| ${r.maxAbsDiff.toExponential(2)}  ≤ ${r.bound.toExponential(2)} (scale ${r.scale.toPrecision(3)})`,
    );
  }
  const worstVae = vae.reduce((w, r) => (r.maxAbsDiff / r.bound > w.maxAbsDiff / w.bound ? r : w), vae[0]);
  log(
    `  ${vae.every((r) => r.ok) ? "ok  " : "FAIL"} vae params after one SGD step: ${vae.length} tensors, worst ${worstVae.name} max|Δ| ${worstVae.maxAbsDiff.toExponential(2)} ≤ ${worstVae.bound.toExponential(2)}`,
  );
  const failed = rows.filter((r) => !r.ok);
  if (failed.length) throw new Error(`native and wasm disagree beyond float32 tolerance on ${failed.map((r) => r.name).join(", ")}`);
  // The trainer's graph step (one TensorFlow graph per step) against its eager step.
  const graph = native.result.graph;
  if (!graph || "unavailable" in graph) throw new Error(`no graph step on tfjs-node: ${graph ? graph.unavailable : "the probe did not try one"}`);
  const worst = graph.rows.reduce((w, r) => (r.maxAbsDiff / (r.bound || 1) > w.maxAbsDiff / (w.bound || 1) ? r : w), graph.rows[0]);
  const graphOk = graph.rows.every((r) => r.ok);
  log(
    `  ${graphOk ? "ok  " : "FAIL"} graph step vs eager step, 3 steps: losses, ${graph.rows.length - 1} weight and Adam tensors, worst ${worst.name} max|Δ| ${worst.maxAbsDiff.toExponential(2)} ≤ ${worst.bound.toExponential(2)}`,
  );
  if (!graphOk)
    throw new Error(
      `the graph step and the eager step disagree beyond float32 round-off on ${graph.rows
        .filter((r) => !r.ok)
        .map((r) => r.name)
        .join(", ")}`,
    );
  if (bench && native.result.bench && wasm.result.bench) {
    const n = native.result.bench,
      w = wasm.result.bench;
    log(
      `  training throughput (dense VAE 784-256-16, batch ${n.batch}, Adam): tensorflow ${n.examplesPerSecond.toFixed(0)} examples/s, wasm ${w.examplesPerSecond.toFixed(0)} examples/s (×${(n.examplesPerSecond / w.examplesPerSecond).toFixed(1)})`,
    );
  }
}

/** From one wheel to a tfjs-node that loads and agrees with wasm (and its graph step with its eager step). */
async function buildFromWheel(w: (typeof WHEELS)[number]): Promise<void> {
  const wheel = await step("wheel", () => downloadWheel(w));
  const ex = await step("extract", () => extractWheel(wheel));
  const choice = await step("symbols", () => {
    const needed = neededSymbols(path.join(ex.dir, "tensorflow", "include"));
    log(`  the addon's sources call ${needed.length} TF_/TFE_ C API functions`);
    return chooseLibrary(ex, needed);
  });
  const stub = await step("python-stub", () => {
    if (!choice.pythonSymbols.length) {
      log(`  ${path.basename(choice.library)} needs no CPython symbols`);
      return null;
    }
    const file = buildPythonStub(choice.pythonSymbols, path.join(ex.dir, "stub"));
    log(`  ${path.basename(choice.library)} refers to ${choice.pythonSymbols.length} CPython symbols: stand-ins in ${path.relative(root, file)}`);
    return file;
  });
  await step("stage", () => stageDeps(ex, choice, stub));
  const addon = await step("build", () => buildAddon(stub));
  await step("link-check", () => checkAddonSymbols(addon));
  await step("load", () => {
    const check = nativeLoads();
    if (!check.ok) throw new Error(`the addon was built but does not load: ${check.reason}`);
    log(`  require("@tensorflow/tfjs-node") works; backend "tensorflow" registered`);
  });
  await step("parity", () => verifyParity(!args.has("--no-bench")));
}

function removeEverything(): void {
  const size = fs.existsSync(cacheDir) ? dirSize(cacheDir) : 0;
  fs.rmSync(pkgDir, { recursive: true, force: true });
  fs.rmSync(cacheDir, { recursive: true, force: true });
  log(`removed node_modules/@tensorflow/tfjs-node and .venv-native/ (${mib(size)}); the wasm backend is used again`);
}

async function main(): Promise<number> {
  const started = Date.now();
  if (args.has("--remove")) {
    removeEverything();
    return 0;
  }
  if (os.platform() !== "linux" || os.arch() !== "x64") {
    log(`the wheel route is for Linux x86-64 only (this is ${os.platform()}-${os.arch()}); on other systems tfjs-node's own install usually works`);
    return 1;
  }
  let installedNow = false;
  try {
    if (fs.existsSync(path.join(pkgDir, "dist"))) await step("patch", patchStep);
    const loads = await step("check", () => nativeLoads());
    if (loads.ok && !args.has("--force")) {
      log(`@tensorflow/tfjs-node already loads (${path.relative(root, addonPath())}); nothing to do (--force rebuilds)`);
      return 0;
    }
    if (!loads.ok) log(`  tfjs-node does not load yet: ${loads.reason || "not installed"}`);

    installedNow = await step("package", () => installPackage());
    if (installedNow) await step("patch", patchStep);

    const mirrors = mirrorConfigured();
    let done = false;
    if (mirrors.length) {
      try {
        await step("mirror", () => {
          log(`  mirror configured (${mirrors.join(", ")}): running tfjs-node's own install script`);
          removeAddon(); // install.js skips its download when deps/ is already staged
          installFromMirror();
          const check = nativeLoads();
          if (!check.ok) throw new Error(`installed, but tfjs-node does not load: ${check.reason}`);
        });
        done = true;
      } catch (error) {
        log(`  the mirror route failed (${error instanceof Error ? error.message.split("\n")[0] : error}); building from a TensorFlow wheel instead`);
        removeAddon();
      }
    }

    if (!done) {
      // Each wheel in turn, until one builds, loads and passes the parity checks.
      const choices = await step("wheels", () => wheelChoices());
      const failures: string[] = [];
      for (const [i, w] of choices.entries()) {
        try {
          await buildFromWheel(w);
          done = true;
          break;
        } catch (error) {
          const at = error instanceof StepError ? error.step : "unexpected";
          const message = error instanceof Error ? error.message : String(error);
          failures.push(`tensorflow-cpu ${w.version}, step "${at}": ${message}`);
          removeAddon();
          if (i + 1 < choices.length) log(`  tensorflow-cpu ${w.version} failed at step "${at}" (${message.split("\n")[0]}); trying ${choices[i + 1].version}`);
        }
      }
      if (!done)
        throw new StepError(
          "wheels",
          choices.length ? `no wheel gave a working tfjs-node:\n  ${failures.join("\n  ")}` : "no wheel can be used on this system",
        );
    } else {
      await step("parity", () => verifyParity(!args.has("--no-bench")));
    }
    const total = (Date.now() - started) / 1000;
    log(
      `finished in ${total.toFixed(1)} s (${timings.map(([n, s]) => `${n} ${s.toFixed(1)}`).join(", ")}); cache .venv-native/ holds ${mib(dirSize(cacheDir))}`,
    );
    log(`tfjs-node now loads: initBackend() picks "tensorflow" (VAE_BACKEND=wasm forces wasm)`);
    return 0;
  } catch (error) {
    const stepName = error instanceof StepError ? error.step : "unexpected";
    const message = error instanceof Error ? error.message : String(error);
    console.error(`setup:native: FAILED at step "${stepName}": ${message}`);
    // Leave the project as `npm ci` leaves it: no half-built addon that could be picked.
    if (fs.existsSync(pkgDir)) {
      removeAddon();
      if (installedNow) fs.rmSync(pkgDir, { recursive: true, force: true });
    }
    console.error(`setup:native: the wasm backend stays in use; logs in ${path.relative(root, logDir)}/`);
    return 1;
  }
}

main().then((code) => process.exit(code));
