/**
 * The browser edition for the Chromium tests (test/lite.test.ts, test/lite-kernel.test.ts,
 * test/lite-typescript.test.ts, test/lite-webgpu.test.ts): the site built from this checkout
 * once per test run (scripts/build-lite.ts), and what a reader does in it — open a notebook
 * and wait for the browser kernel, type a cell and run it.
 */
import type { Page } from "playwright-core";
import { buildLite } from "../../scripts/build-lite";
import { type CellView, notebookPanel, readCells, typeNewCell, waitForCellsDone, waitForIdleKernel } from "../../scripts/notebook-ui";

let built: ReturnType<typeof buildLite> | undefined;

/** Builds build/lite from this checkout, once for all the test files of a run. */
export function builtLite(): ReturnType<typeof buildLite> {
  built ??= buildLite({ quiet: true });
  return built;
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
