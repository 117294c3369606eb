/**
 * `npm start [-- NAME ...]` — runs the workbook: executes every notebook in
 * notebooks/ in reading order through Jupyter (nbclient + the tslab kernel), writes
 * executed copies to build/notebooks/ and HTML pages to build/html/, and prints one
 * line per notebook. A failing notebook is reported in one line with its code cell
 * (counted from 1, plus the cell id) and error — also a checked claim or ledger row that
 * fails (ClaimFailedError, naming the claim), a checked row built but never shown, a code
 * cell that did not run, an exception a cell's timer throws later, a kernel that dies, a
 * file that is not a notebook; the rest still run, and the exit code is non-zero. Source notebooks are only read.
 *
 * Then the equation ledger: printed as a table, written to build/ledger.json, and (with
 * the HTML export) the index page build/html/index.html. The export also writes blog
 * fragments to build/blog/ (see scripts/export_html.py). Last, the browser edition:
 * build/lite/, a JupyterLite site where readers run the notebooks (scripts/build-lite.ts).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { jupyterEnv, paths, venvPython } from "./paths";
import { computeLedger, writeIndex, writeLedgerJson } from "./publish";
import { buildLite, liteDirs } from "./build-lite";
import { loadSeries, outputStem, partNotebooks } from "./series";

export interface NotebookResult {
  ok: boolean;
  seconds: number;
  cells: number;
  executed: string;
  html: string | null;
  /** cell: the code cell's number counted from 1, as a reader counts them; id: its cell id. */
  error: { cell: number | null; id: string | null; ename: string; evalue: string; source: string } | null;
}

export const outDirs = {
  notebooks: path.join(paths.build, "notebooks"),
  html: path.join(paths.build, "html"),
  blog: path.join(paths.build, "blog"),
};

/** Every notebook of the series, part by part, each part's in reading order (notebooks/series.json). */
export function listNotebooks(): string[] {
  return loadSeries().parts.flatMap(partNotebooks);
}

/** Resolves "02", "02-latent", a file name or an output name ("part2-01") to notebooks, in reading order. */
export function selectNotebooks(names: string[]): string[] {
  const all = listNotebooks();
  if (names.length === 0) return all;
  const series = loadSeries();
  const stems = all.map((f) => outputStem(f, series));
  return names.map((name) => {
    const base = path.basename(name).replace(/\.ipynb$/, "");
    const hits = all.filter((f, i) => stems[i].startsWith(base) || (stems[i] === path.basename(f, ".ipynb") && path.basename(f).startsWith(base)));
    if (hits.length !== 1) {
      const known = stems.join(", ");
      throw new Error(`"${name}" ${hits.length ? "matches several notebooks" : "matches no notebook"}; known: ${known}`);
    }
    return hits[0];
  });
}

/**
 * Executes one notebook in a fresh kernel; never throws for notebook errors. Checks are
 * strict: the kernel runs with WORKBOOK_STRICT_CHECKS=1 whatever the caller's environment
 * says, and nbexec.py fails the notebook on any failing row it shows (src/judge.ts).
 * `env` adds variables to the kernel's environment (the tests' deliberate faults); `outDir`
 * puts the executed copy elsewhere than build/notebooks/.
 */
export function executeNotebook(notebook: string, options: { html?: boolean; env?: Record<string, string>; outDir?: string } = {}): Promise<NotebookResult> {
  const argv = [path.join(paths.scripts, "nbexec.py"), notebook, "--out-dir", options.outDir ?? outDirs.notebooks];
  if (options.html !== false) argv.push("--html-dir", outDirs.html);
  const env = jupyterEnv({ ...options.env, WORKBOOK_STRICT_CHECKS: "1" });
  return new Promise((resolve) => {
    const child = spawn(venvPython(), argv, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      // The exporter's warnings (e.g. math KaTeX cannot parse) are worth seeing even on success.
      for (const line of stderr.split("\n")) if (line.startsWith("export_html:")) console.warn(`  warning: ${line}`);
      try {
        resolve(JSON.parse(last) as NotebookResult);
      } catch {
        // nbexec.py names every failure it foresees; anything else is its last stderr line.
        const detail = stderr.trim().split("\n").pop() ?? "";
        resolve({
          ok: false,
          seconds: 0,
          cells: 0,
          executed: "",
          html: null,
          error: { cell: null, id: null, ename: `runner exited with code ${code}`, evalue: `${notebook}: ${detail}`, source: "" },
        });
      }
    });
  });
}

/** `  NAME, code cell 3 (id abc, "first line"): Error: message` — one line (compile diagnostics follow, indented). */
export function describeError(name: string, result: NotebookResult): string {
  const e = result.error!;
  const detail = [e.id && `id ${e.id}`, e.source && JSON.stringify(e.source.length > 60 ? `${e.source.slice(0, 57)}...` : e.source)].filter(Boolean).join(", ");
  const where = e.cell === null ? "" : `, code cell ${e.cell}${detail ? ` (${detail})` : ""}`;
  return `  ${name}${where}: ${e.ename}: ${e.evalue.split("\n").join("\n    ")}`;
}

async function main(): Promise<void> {
  const program = new Command()
    .name("npm start --")
    .description("Execute the notebooks through Jupyter (tslab kernel) and export HTML.")
    .argument("[notebooks...]", 'notebooks to run, by number or name prefix (e.g. "02"); default: all')
    .option("--no-html", "skip the HTML export")
    .option("--no-ledger", "skip the equation ledger (and the index page)")
    .option("--no-lite", "skip the browser edition (build/lite, the JupyterLite site)")
    .option("--list", "list the notebooks and exit")
    .parse();
  const opts = program.opts<{ html: boolean; ledger: boolean; lite: boolean; list?: boolean }>();

  let notebooks: string[];
  try {
    notebooks = selectNotebooks(program.args);
  } catch (error) {
    console.error(`workbook: ${(error as Error).message}`);
    process.exit(2);
  }
  if (opts.list) {
    notebooks.forEach((f) => console.log(path.basename(f)));
    return;
  }

  console.log(`workbook: ${notebooks.length} notebook(s) -> ${path.relative(paths.root, outDirs.notebooks)}/` +
    (opts.html ? `, ${path.relative(paths.root, outDirs.html)}/` : ""));
  const failures: string[] = [];
  const started = Date.now();
  const width = Math.max(...notebooks.map((f) => path.basename(f, ".ipynb").length));
  for (const notebook of notebooks) {
    const name = path.basename(notebook, ".ipynb");
    const result = await executeNotebook(notebook, { html: opts.html });
    console.log(`  ${name.padEnd(width)}  ${result.seconds.toFixed(1).padStart(6)} s  ${result.ok ? "ok" : "FAILED"}`);
    if (!result.ok) failures.push(describeError(name, result));
  }
  const total = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`workbook: ${notebooks.length - failures.length} ok, ${failures.length} failed, ${total} s in all`);

  // A full run also removes pages and fragments of notebooks that no longer exist.
  if (program.args.length === 0 && opts.html) {
    const series = loadSeries();
    const names = new Set(listNotebooks().map((f) => outputStem(f, series)));
    for (const [dir, ext] of [[outDirs.html, ".html"], [outDirs.blog, ".md"]] as const) {
      if (!fs.existsSync(dir)) continue;
      for (const file of fs.readdirSync(dir)) {
        if (file.endsWith(ext) && file !== "index.html" && !names.has(path.basename(file, ext))) fs.rmSync(path.join(dir, file));
      }
    }
  }

  if (opts.ledger) {
    const ledger = computeLedger();
    console.log(`\nequation ledger (${ledger.seconds.toFixed(1)} s):\n${ledger.text}`);
    const json = writeLedgerJson(ledger.rows);
    const wrote = [path.relative(paths.root, json)];
    // The index lists every notebook in reading order, linking those with a page.
    if (opts.html) wrote.push(path.relative(paths.root, writeIndex(listNotebooks(), ledger.rows)));
    console.log(`workbook: wrote ${wrote.join(", ")}` + (opts.html ? `, pages in ${path.relative(paths.root, outDirs.html)}/, blog fragments in ${path.relative(paths.root, outDirs.blog)}/` : ""));
    if (!ledger.rows.every((r) => r.pass)) {
      failures.push(`  ledger: ${ledger.rows.filter((r) => !r.pass).map((r) => `(${r.tag})`).join(", ")} failed`);
    }
  }
  if (opts.lite) {
    // The browser edition runs the source notebooks in the reader's browser: built from
    // notebooks/ and src/, not from this run's outputs.
    try {
      const lite = await buildLite({ quiet: true });
      console.log(`workbook: wrote ${path.relative(paths.root, liteDirs.site)}/ (the browser edition, ${lite.seconds.toFixed(1)} s); serve it with npm run lite`);
    } catch (error) {
      failures.push(`  browser edition (build/lite): ${(error as Error).message}`);
    }
  }
  if (failures.length) {
    console.error(`\nfailed:\n${failures.join("\n")}`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
