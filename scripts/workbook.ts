/**
 * `npm start [-- NAME ...]` — runs the workbook: executes every notebook in
 * notebooks/ in reading order through Jupyter (nbclient + the tslab kernel), writes
 * executed copies to build/notebooks/ and HTML pages to build/html/, and prints one
 * line per notebook with the checked rows it showed. A failing notebook is reported in one
 * line with its code cell (counted from 1, plus the cell id) and error — also a checked claim
 * or ledger row that fails (ClaimFailedError, naming the claim), a checked row built but never
 * shown, a code cell that did not run, an exception a cell's timer throws later, a kernel that
 * dies, a file that is not a notebook; the rest still run, and the exit code is non-zero. A
 * failed notebook's page and post are not replaced. Source notebooks are only read.
 *
 * Then the equation ledger: printed as a table, written to build/ledger.json, and (with
 * the HTML export) the index page build/html/index.html. The export also writes blog
 * fragments to build/blog/ (see scripts/export_html.py). Last, the browser edition:
 * build/lite/, a JupyterLite site where readers run the notebooks (scripts/build-lite.ts),
 * rebuilt when src/ or notebooks/ changed and no notebook failed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { buildLite, liteDirs } from "./build-lite";
import { jupyterEnv, paths, venvPython } from "./paths";
import { runAsync } from "./proc";
import { computeLedger, publication, writeIndex, writeLedgerJson } from "./publish";
import { loadSeries, outputStem, partNotebooks } from "./series";

export interface NotebookResult {
  ok: boolean;
  seconds: number;
  cells: number;
  executed: string;
  html: string | null;
  /** Checked rows (claims and ledger rows) the notebook showed, passing and failing. */
  rows: { pass: number; fail: number };
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

/** A notebook of the series (under notebooks/) is published under its part's rules; any other is run as it is. */
function inSeries(notebook: string): boolean {
  const relative = path.relative(paths.notebooks, path.resolve(notebook));
  return !relative.startsWith("..") && !path.isAbsolute(relative);
}

/**
 * Executes one notebook in a fresh kernel; never throws for notebook errors. Checks are
 * strict: the kernel runs with WORKBOOK_STRICT_CHECKS=1 whatever the caller's environment
 * says, and nbexec.py fails the notebook on any failing row it shows (src/judge.ts).
 * `env` adds variables to the kernel's environment (the tests' deliberate faults); `outDir`
 * puts the executed copy elsewhere than build/notebooks/.
 */
export async function executeNotebook(
  notebook: string,
  options: { html?: boolean; env?: Record<string, string>; outDir?: string } = {},
): Promise<NotebookResult> {
  const failed = (ename: string, evalue: string): NotebookResult => ({
    ok: false,
    seconds: 0,
    cells: 0,
    executed: "",
    html: null,
    rows: { pass: 0, fail: 0 },
    error: { cell: null, id: null, ename, evalue, source: "" },
  });
  const argv = [path.join(paths.scripts, "nbexec.py"), notebook, "--out-dir", options.outDir ?? outDirs.notebooks];
  if (options.html !== false) argv.push("--html-dir", outDirs.html);
  try {
    // Output name, titles, front matter and links: decided on this side, written by the exporter.
    if (inSeries(notebook)) argv.push("--publication", JSON.stringify(publication(notebook)));
  } catch (error) {
    return failed("SeriesError", (error as Error).message);
  }
  const ran = await runAsync(venvPython(), argv, { env: jupyterEnv({ ...options.env, WORKBOOK_STRICT_CHECKS: "1" }) });
  // The exporter's warnings (e.g. math KaTeX cannot parse) are worth seeing even on success.
  for (const line of ran.stderr.split("\n")) if (line.startsWith("export_html:")) console.warn(`  warning: ${line}`);
  try {
    return JSON.parse(ran.stdout.trim().split("\n").pop() ?? "") as NotebookResult;
  } catch {
    // nbexec.py names every failure it foresees; anything else is its last stderr line.
    return failed(`runner exited with code ${ran.status}`, `${notebook}: ${ran.output.trim().split("\n").pop() ?? ""}`);
  }
}

/** "ok · 12 rows ✔" — the checked rows a notebook showed are where its claims were checked. */
export function verdict(result: NotebookResult): string {
  if (!result.ok) return "FAILED";
  const shown = result.rows?.pass ?? 0;
  return shown ? `ok · ${shown} row${shown === 1 ? "" : "s"} ✔` : "ok";
}

/**
 * What to do with the browser edition after a run. It runs the source notebooks in the
 * reader's browser, so it is built from notebooks/ and src/, not from this run's outputs:
 * rebuilt when asked (--lite) or, after a run of every notebook, when it is older than
 * them; never when something failed, so a broken notebook cannot replace the site's good
 * copy. "stale": not rebuilt, but worth a word.
 */
export function liteStep(run: { asked?: boolean; allNotebooks: boolean; current: boolean; failed: boolean }): "build" | "keep" | "stale" | "none" {
  if (run.asked === false) return "none";
  const wanted = run.asked ?? (run.allNotebooks && !run.current);
  if (wanted) return run.failed ? "keep" : "build";
  return run.current ? "none" : "stale";
}

/**
 * Whether build/lite was built after the last change to what it is built from. Its
 * jupyter-lite.json is the one file the site build writes last (the rest are copied with
 * their packages' dates).
 */
export function liteIsCurrent(): boolean {
  const built = path.join(liteDirs.site, "jupyter-lite.json");
  if (!fs.existsSync(built)) return false;
  const inputs = [paths.src, paths.notebooks, path.join(paths.scripts, "build-lite.ts"), path.join(paths.root, "package-lock.json"), paths.requirements];
  return fs.statSync(built).mtimeMs >= Math.max(...inputs.map(newestMtime));
}

function newestMtime(file: string): number {
  const stat = fs.statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...fs.readdirSync(file).map((f) => newestMtime(path.join(file, f))));
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
    .option("--lite", "rebuild the browser edition (build/lite, the JupyterLite site) even after a run of named notebooks")
    .option("--no-lite", "skip the browser edition")
    .option("--list", "list the notebooks and exit")
    .parse();
  const opts = program.opts<{ html: boolean; ledger: boolean; lite?: boolean; list?: boolean }>();

  let notebooks: string[];
  try {
    notebooks = selectNotebooks(program.args);
  } catch (error) {
    console.error(`workbook: ${(error as Error).message}`);
    process.exit(2);
  }
  if (opts.list) {
    for (const f of notebooks) console.log(path.basename(f));
    return;
  }

  console.log(
    `workbook: ${notebooks.length} notebook(s) -> ${path.relative(paths.root, outDirs.notebooks)}/` +
      (opts.html ? `, ${path.relative(paths.root, outDirs.html)}/` : ""),
  );
  const failures: string[] = [];
  const started = Date.now();
  const width = Math.max(...notebooks.map((f) => path.basename(f, ".ipynb").length));
  for (const notebook of notebooks) {
    const name = path.basename(notebook, ".ipynb");
    const result = await executeNotebook(notebook, { html: opts.html });
    console.log(`  ${name.padEnd(width)}  ${result.seconds.toFixed(1).padStart(6)} s  ${verdict(result)}`);
    if (!result.ok) failures.push(describeError(name, result));
  }
  const total = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`workbook: ${notebooks.length - failures.length} ok, ${failures.length} failed, ${total} s in all`);

  // A full run also removes pages and fragments of notebooks that no longer exist.
  if (program.args.length === 0 && opts.html) {
    const series = loadSeries();
    const names = new Set(listNotebooks().map((f) => outputStem(f, series)));
    for (const [dir, ext] of [
      [outDirs.html, ".html"],
      [outDirs.blog, ".md"],
    ] as const) {
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
    console.log(
      `workbook: wrote ${wrote.join(", ")}` +
        (opts.html ? `, pages in ${path.relative(paths.root, outDirs.html)}/, blog fragments in ${path.relative(paths.root, outDirs.blog)}/` : ""),
    );
    if (!ledger.rows.every((r) => r.pass)) {
      failures.push(
        `  ledger: ${ledger.rows
          .filter((r) => !r.pass)
          .map((r) => `(${r.tag})`)
          .join(", ")} failed`,
      );
    }
  }
  const site = path.relative(paths.root, liteDirs.site);
  const lite = liteStep({ asked: opts.lite, allNotebooks: program.args.length === 0, current: liteIsCurrent(), failed: failures.length > 0 });
  if (lite === "build") {
    try {
      const built = await buildLite({ quiet: true });
      console.log(`workbook: wrote ${site}/ (the browser edition, ${built.seconds.toFixed(1)} s); serve it with npm run lite`);
      console.log(`workbook: wrote ${path.relative(paths.root, liteDirs.wheel)} (the TypeScript kernel for any JupyterLite site)`);
    } catch (error) {
      failures.push(`  browser edition (${site}): ${(error as Error).message}`);
    }
  } else if (lite === "keep") {
    console.log(`workbook: ${site}/ not rebuilt: something failed, so the browser edition keeps its last good copy`);
  } else if (lite === "stale") {
    const state = fs.existsSync(liteDirs.site) ? "is older than src/ or notebooks/" : "is not built yet";
    console.log(`workbook: ${site}/ (the browser edition) ${state}: \`npm start\` or \`npm start -- --lite …\` builds it`);
  }
  if (failures.length) {
    console.error(`\nfailed:\n${failures.join("\n")}`);
    console.error("(a failed notebook's page and post keep their last good version; its executed copy, errors included, is in build/notebooks/)");
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
