/**
 * `npm run setup` — makes this checkout ready to run, and is cheap to repeat:
 *   1. the Python side: a project-local virtual environment `.venv` filled from the
 *      pinned requirements.txt (JupyterLab, nbclient, nbconvert);
 *   2. the tslab kernelspec, installed into that environment only (never into the
 *      user's own Jupyter kernels);
 *   3. the library: `node_modules/vae-workbook` links to this folder, so notebooks
 *      import it by name, and `src/` is compiled to `dist/` when it changed.
 * Each step first checks what is there and says what it found or did.
 *
 * Flags: --quiet (print only what changed), --torch (also install requirements-torch.txt,
 * the optional PyTorch reference for `npm run bench`), --browser (make sure Debian's
 * Chromium and CJK fonts are there for the browser tests; `npm test` passes it).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { paths, venvPython } from "./paths";
import { run } from "./proc";

const args = new Set(process.argv.slice(2));
const quiet = args.has("--quiet");
const withTorch = args.has("--torch") || process.env.VAE_WITH_TORCH === "1";
const withBrowser = args.has("--browser");

class SetupError extends Error {}

function say(found: boolean, line: string): void {
  if (!quiet || !found) console.log(`setup: ${line}`);
}

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex").slice(0, 16);

function checkNode(): void {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 20) throw new SetupError(`Node ${process.versions.node} is too old: this project needs Node 20 or newer.`);
}

/** Looks like a network failure rather than a broken requirement? */
function networkTrouble(log: string): boolean {
  return /NewConnectionError|Temporary failure in name resolution|Name or service not known|Network is unreachable|ConnectTimeout|ReadTimeout|Connection refused|ProxyError|SSLError|No matching distribution found/i.test(
    log,
  );
}

/**
 * Installs a requirements file into .venv unless its stamp says it is already there.
 * The stamp is written last, so an interrupted install is redone next time.
 */
function pipInstall(requirements: string, label: string): void {
  const stamp = path.join(paths.venv, `.stamp-${path.basename(requirements)}`);
  const want = sha256(requirements);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === want) {
    say(true, `${label}: up to date (${path.relative(paths.root, requirements)})`);
    return;
  }
  const log = path.join(paths.build, "logs", `pip-${path.basename(requirements, ".txt")}.log`);
  console.log(`setup: ${label}: installing ${path.relative(paths.root, requirements)} into .venv (log: ${path.relative(paths.root, log)}) …`);
  const started = Date.now();
  const pip = run(venvPython(), ["-m", "pip", "install", "--disable-pip-version-check", "--retries", "2", "--timeout", "30", "-r", requirements], { log });
  if (!pip.ok) {
    const reason = networkTrouble(pip.output) ? "the Python package index could not be reached" : "pip could not install the pinned packages";
    throw new SetupError(
      `${label}: ${reason} (details in ${path.relative(paths.root, log)}).\n` +
        `  Check the network or your pip index settings (PIP_INDEX_URL), then run:  npm run setup`,
    );
  }
  fs.writeFileSync(stamp, want);
  console.log(`setup: ${label}: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function ensureVenv(): void {
  const complete = fs.existsSync(venvPython()) && fs.existsSync(path.join(paths.venv, ".stamp-requirements.txt"));
  if (!complete && fs.existsSync(paths.venv)) {
    // A half-made environment from an interrupted or failed run: start over.
    fs.rmSync(paths.venv, { recursive: true, force: true });
  }
  if (!fs.existsSync(venvPython())) {
    const python = process.env.PYTHON ?? "python3";
    const made = run(python, ["-m", "venv", paths.venv]);
    if (!made.ok) {
      fs.rmSync(paths.venv, { recursive: true, force: true });
      throw new SetupError(
        `could not create the Python virtual environment with "${python} -m venv" ` +
          `(on Debian/Ubuntu: apt-get install python3-venv):\n  ${made.output.trim().split("\n").pop()}`,
      );
    }
    console.log(`setup: python env: created .venv with ${run(venvPython(), ["--version"]).output.trim()}`);
  }
  try {
    pipInstall(paths.requirements, "python env");
    if (withTorch) pipInstall(paths.requirementsTorch, "torch (optional)");
  } catch (error) {
    // Never leave an environment that the next run could mistake for a good one.
    if (!fs.existsSync(path.join(paths.venv, ".stamp-requirements.txt"))) {
      fs.rmSync(paths.venv, { recursive: true, force: true });
    }
    throw error;
  }
}

function ensureKernel(): void {
  const spec = path.join(paths.venv, "share", "jupyter", "kernels", "tslab", "kernel.json");
  const tslab = path.join(paths.root, "node_modules", ".bin", "tslab");
  if (fs.existsSync(spec) && JSON.parse(fs.readFileSync(spec, "utf8")).argv?.[0] === tslab) {
    say(true, `kernel: tslab kernelspec in .venv points at ${path.relative(paths.root, tslab)}`);
    return;
  }
  const installed = run(tslab, ["install", "--sys-prefix", "--python", venvPython(), "--binary", tslab]);
  if (!installed.ok) throw new SetupError(`could not install the tslab kernelspec:\n${installed.output}`);
  console.log("setup: kernel: installed the tslab kernelspec into .venv/share/jupyter/kernels");
}

/** node_modules/vae-workbook -> .. so that notebooks `import ... from "vae-workbook"`. */
function ensurePackageLink(): void {
  const link = path.join(paths.root, "node_modules", "vae-workbook");
  let target: string | null = null;
  try {
    target = fs.readlinkSync(link);
  } catch {
    /* missing */
  }
  if (target === "..") {
    say(true, "package: node_modules/vae-workbook links to this project");
    return;
  }
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync("..", link, "dir");
  console.log("setup: package: linked node_modules/vae-workbook -> this project");
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

function ensureBuild(): void {
  const buildInfo = path.join(paths.dist, ".tsbuildinfo");
  const sources = Math.max(newestMtime(paths.src), fs.statSync(path.join(paths.root, "tsconfig.json")).mtimeMs);
  if (fs.existsSync(buildInfo) && fs.existsSync(path.join(paths.dist, "index.js")) && fs.statSync(buildInfo).mtimeMs >= sources) {
    say(true, "library: dist/ is up to date with src/");
    return;
  }
  const started = Date.now();
  const tsc = run(process.execPath, [path.join(paths.root, "node_modules", "typescript", "bin", "tsc"), "-p", paths.root]);
  if (!tsc.ok) throw new SetupError(`the library does not compile:\n${tsc.output}`);
  fs.utimesSync(buildInfo, new Date(), new Date());
  console.log(`setup: library: compiled src/ -> dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * The browser tests drive Debian's Chromium (playwright-core downloads no browser here).
 * Installed with apt-get where setup runs as root; elsewhere it names the command, and
 * the browser tests skip with that reason.
 */
function ensureBrowser(): void {
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (fs.existsSync(chromium)) {
    say(true, `browser: ${chromium} (for the browser tests)`);
    return;
  }
  const hint = "apt-get install chromium fonts-noto-cjk";
  if (process.getuid?.() !== 0 || !fs.existsSync("/usr/bin/apt-get")) {
    console.log(`setup: browser: no Chromium at ${chromium}; the browser tests will be skipped (to run them: sudo ${hint})`);
    return;
  }
  const log = path.join(paths.build, "logs", "apt.log");
  console.log(`setup: browser: installing Debian's chromium and fonts-noto-cjk with apt-get (log: ${path.relative(paths.root, log)}) …`);
  process.env.DEBIAN_FRONTEND = "noninteractive";
  const ok =
    run("apt-get", ["update", "-qq"], { log }).ok &&
    run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "chromium", "fonts-noto-cjk"], { log }).ok;
  if (ok && fs.existsSync(chromium)) console.log(`setup: browser: installed ${chromium}`);
  else console.log(`setup: browser: no Chromium at ${chromium} after apt-get (see ${path.relative(paths.root, log)}); the browser tests will be skipped`);
}

function main(): void {
  try {
    checkNode();
    ensureVenv();
    ensureKernel();
    ensurePackageLink();
    ensureBuild();
    if (withBrowser) ensureBrowser();
    say(true, "ready — `npm start` runs the workbook, `npm run lab` opens it in JupyterLab");
  } catch (error) {
    if (error instanceof SetupError) {
      console.error(`setup failed: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

main();
