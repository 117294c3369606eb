/**
 * The series configuration, notebooks/series.json: the series' name and, per part (one
 * article of the series), its title, article file, blog front matter (categories, tags)
 * and the folder of its notebooks under notebooks/ ("." for part 1). Adding an article
 * means a folder of notebooks, its article, and one entry there (CONTRIBUTING.md).
 * The exporter (Python) is handed what it needs from here: see `publication` in ./publish.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { paths } from "./paths";

export interface SeriesPart {
  part: number;
  title: string;
  /** The article's file in the blog (its posts folder). */
  article: string;
  categories: string[];
  tags: string[];
  /** Folder of the part's notebooks, relative to notebooks/. */
  notebooks: string;
}

export interface Series {
  name: string;
  /** Tags the notebooks' blog posts add to their article's. */
  notebookTags: string[];
  parts: SeriesPart[];
}

export const seriesFile = path.join(paths.notebooks, "series.json");

/** Reads and checks the configuration; an error names the file and the field. */
export function loadSeries(file = seriesFile): Series {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
  const s = raw as Series;
  const fail = (what: string) => {
    throw new Error(`${file}: ${what}`);
  };
  if (typeof s.name !== "string" || !s.name) fail('"name" must be the series name');
  if (!Array.isArray(s.notebookTags)) fail('"notebookTags" must be a list of tags');
  if (!Array.isArray(s.parts) || s.parts.length === 0) fail('"parts" must list at least one part');
  s.parts.forEach((p, i) => {
    const at = `parts[${i}]`;
    if (!Number.isInteger(p.part) || p.part < 1) fail(`${at}.part must be a positive integer`);
    for (const key of ["title", "article", "notebooks"] as const) if (typeof p[key] !== "string" || !p[key]) fail(`${at}.${key} must be a non-empty string`);
    for (const key of ["categories", "tags"] as const) if (!Array.isArray(p[key])) fail(`${at}.${key} must be a list`);
    if (i > 0 && p.part <= s.parts[i - 1].part) fail(`${at}.part must come after part ${s.parts[i - 1].part} (reading order)`);
  });
  return s;
}

/** A part's notebooks in reading order (NN-name.ipynb in its folder). */
export function partNotebooks(part: SeriesPart): string[] {
  const dir = path.join(paths.notebooks, part.notebooks);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb"))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The part a notebook belongs to (by its folder). */
export function partOf(notebook: string, series = loadSeries()): SeriesPart {
  const folder = path.relative(paths.notebooks, path.dirname(path.resolve(notebook))) || ".";
  const part = series.parts.find((p) => path.normalize(p.notebooks) === path.normalize(folder));
  if (!part) throw new Error(`${notebook}: no part of ${seriesFile} has its notebooks in "${folder}"`);
  return part;
}

/**
 * Name of a notebook's outputs (executed copy, page, post): its file name, prefixed by its
 * part's folder for parts outside notebooks/ itself, so parts cannot collide.
 */
export function outputStem(notebook: string, series = loadSeries()): string {
  const folder = path.normalize(partOf(notebook, series).notebooks);
  const stem = path.basename(notebook, ".ipynb");
  return folder === "." ? stem : `${folder.split(path.sep).join("-")}-${stem}`;
}
