/**
 * The browser edition for the Chromium tests (test/lite.test.ts, test/lite-kernel.test.ts,
 * test/lite-typescript.test.ts, test/lite-webgpu.test.ts): the site built from this checkout
 * once per test run (scripts/build-lite.ts), and what a reader does in it — open a notebook
 * and wait for the browser kernel, type a cell and run it.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildLite, liteDirs } from "../../scripts/build-lite";
import { launchChromium } from "../../scripts/chromium";
import { blockOutsideLoopback, type CellView, notebookPanel, readCells, typeNewCell, waitForCellsDone, waitForIdleKernel } from "../../scripts/notebook-ui";
import { type StaticServer, serveStatic } from "../../scripts/serve";
import { CHECKS_METADATA } from "../../src/judge";

let built: ReturnType<typeof buildLite> | undefined;

/** Builds build/lite from this checkout, once for all the test files of a run. */
export function builtLite(): ReturnType<typeof buildLite> {
  built ??= buildLite({ quiet: true });
  return built;
}

/**
 * The built site served on loopback under a blog-like sub-path, and a Chromium to read it in:
 * what each browser test file sets up once. `blocked` and `pageErrors` collect, over every
 * reader, the requests that tried to leave loopback and the errors pages threw.
 */
export class LiteSite {
  readonly blocked: string[] = [];
  readonly pageErrors: string[] = [];
  private readonly contexts = new Set<BrowserContext>();

  private constructor(
    private readonly server: StaticServer,
    private readonly browser: Browser,
  ) {}

  static async open(options: { webgpu?: boolean } = {}): Promise<LiteSite> {
    await builtLite();
    const server = await serveStatic(liteDirs.site, { prefix: "/workbook/" });
    return new LiteSite(server, await launchChromium({ loopback: true, webgpu: options.webgpu }));
  }

  get url(): string {
    return this.server.url;
  }

  /** A new reader: a fresh profile (JupyterLite's stored files start empty), nothing leaves loopback, the app exposed to the test. */
  async newReader(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await this.browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    this.contexts.add(context);
    await blockOutsideLoopback(context, this.blocked);
    const page = await context.newPage();
    await exposeJupyterApp(page);
    page.on("pageerror", (e) => this.pageErrors.push(e.message));
    return { context, page };
  }

  /** Closes a reader's profile. */
  async closeReader(context: BrowserContext | undefined): Promise<void> {
    if (!context) return;
    this.contexts.delete(context);
    await context.close();
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close();
    await this.browser.close();
    await this.server.close();
  }
}

/** Opens a notebook of the site (its path without .ipynb) and waits for the browser kernel to be idle. */
export async function openNotebook(page: Page, siteUrl: string, name: string): Promise<void> {
  await page.goto(`${siteUrl}lab/index.html?path=${name}.ipynb`);
  await page.locator(`${notebookPanel} .jp-Notebook .jp-Cell`).first().waitFor({ timeout: 60_000 });
  await page.locator(`${notebookPanel} .jp-KernelName`).filter({ hasText: "TypeScript (browser)" }).waitFor({ timeout: 60_000 });
  await waitForIdleKernel(page);
}

/**
 * Types `text` into a new code cell after the last one and runs it; returns what that cell
 * shows. (Shift-Enter on the last cell adds an empty one below, as in JupyterLab.)
 */
export async function appendAndRun(page: Page, text: string, timeout = 60_000): Promise<CellView & { index: number }> {
  const index = await typeNewCell(page, text);
  await waitForCellsDone(page, timeout);
  return { ...(await readCells(page))[index], index };
}

/** An output that shows an error: stderr text or an error traceback. */
export const isErrorOutput = (mime: string) => mime === "application/vnd.jupyter.stderr" || mime.includes("error");

/**
 * JupyterLite's page config can expose its application object as window.jupyterapp
 * (exposeAppInBrowser, as JupyterLab's own UI tests use it). The test asks for it by
 * amending the site's jupyter-lite.json on its way to the page; the site stays as built.
 */
async function exposeJupyterApp(page: Page): Promise<void> {
  await page.route("**/jupyter-lite.json", async (route) => {
    const response = await route.fetch();
    if (!response.ok()) return route.fulfill({ response });
    const json = await response.json();
    json["jupyter-config-data"] = { ...json["jupyter-config-data"], exposeAppInBrowser: "true" };
    return route.fulfill({ response, json });
  });
}

/** A row as `show.ledger` sends it in its output's metadata (src/judge.ts; non-finite numbers as strings). */
export type CheckJson = { tag: string; title: string; lhs: number | string; rhs: number | string; pass: boolean; method: string; tolerance: string };

/** The ledger rows and checked claims the notebook on screen shows, in order, from its outputs' metadata (needs exposeJupyterApp). */
export async function checkRowsInPage(page: Page): Promise<CheckJson[]> {
  const rows = await page.evaluate((key) => {
    type OutputModel = { metadata: Record<string, unknown> };
    type CellModel = { type: string; outputs?: { length: number; get(i: number): OutputModel } };
    const app = (window as unknown as { jupyterapp: { shell: { currentWidget: { content: { model: { cells: Iterable<CellModel> } } } } } }).jupyterapp;
    const found: unknown[] = [];
    for (const cell of app.shell.currentWidget.content.model.cells) {
      if (cell.type !== "code" || !cell.outputs) continue;
      for (let i = 0; i < cell.outputs.length; i++) found.push(...((cell.outputs.get(i).metadata[key] as unknown[] | undefined) ?? []));
    }
    return found;
  }, CHECKS_METADATA);
  return rows as CheckJson[];
}
