/**
 * Driving a JupyterLab notebook in Chromium the way a reader does — the same for
 * `npm run lab` (tslab) and the browser edition (JupyterLite): wait for the kernel, Run ▸
 * Run All Cells with the mouse, read back what every code cell shows.
 */
import type { BrowserContext, Page } from "playwright-core";

const PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)";

/** Per code cell: prompt, outputs by MIME type, figures and their drawn sizes. */
export interface CellView {
  prompt: string;
  source: string;
  outputs: string[];
  /** The text of each output, in the order of `outputs`. */
  texts: string[];
  text: string;
  images: { mime: string; natural: number; width: number; height: number }[];
}

export async function readCells(page: Page): Promise<CellView[]> {
  return page.evaluate(
    (panel) =>
      Array.from(document.querySelectorAll(`${panel} .jp-Notebook .jp-CodeCell`)).map((cell) => ({
        prompt: (cell.querySelector(".jp-InputArea-prompt")?.textContent ?? "").trim(),
        source: (cell.querySelector(".cm-content")?.textContent ?? "").slice(0, 80),
        outputs: Array.from(cell.querySelectorAll(".jp-OutputArea-output")).map((o) => o.getAttribute("data-mime-type") ?? o.className),
        texts: Array.from(cell.querySelectorAll(".jp-OutputArea-output")).map((o) => o.textContent ?? ""),
        text: Array.from(cell.querySelectorAll(".jp-OutputArea-output"))
          .map((o) => o.textContent ?? "")
          .join("\n"),
        images: Array.from(cell.querySelectorAll(".jp-OutputArea-output img")).map((img) => {
          const i = img as HTMLImageElement;
          const r = i.getBoundingClientRect();
          const mime = i.closest(".jp-OutputArea-output")?.getAttribute("data-mime-type") ?? "";
          return { mime, natural: i.naturalWidth, width: r.width, height: r.height };
        }),
      })),
    PANEL,
  );
}

/** Resolves when the open notebook's kernel is idle (started and not running anything). */
export async function waitForIdleKernel(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForFunction((panel) => document.querySelector(`${panel} .jp-Notebook-ExecutionIndicator`)?.getAttribute("data-status") === "idle", PANEL, {
    timeout,
  });
}

/** Waits until no cell is queued or running and the kernel is idle. */
export async function waitForCellsDone(page: Page, timeout: number): Promise<void> {
  await page.waitForFunction(
    (panel) => {
      const root = document.querySelector(panel);
      if (!root) return false;
      const status = root.querySelector(".jp-Notebook-ExecutionIndicator")?.getAttribute("data-status");
      const prompts = Array.from(root.querySelectorAll(".jp-CodeCell .jp-InputArea-prompt")).map((p) => p.textContent ?? "");
      return status === "idle" && prompts.every((p) => !p.includes("*"));
    },
    PANEL,
    { timeout, polling: 250 },
  );
}

/** Run ▸ Run All Cells from the menu bar; resolves when every cell has run. Returns seconds. */
export async function runAllCells(page: Page, timeout = 5 * 60_000): Promise<number> {
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Run$/ }).click();
  await page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel", { hasText: /^Run All Cells$/ }).click();
  const started = Date.now();
  // Busy first (or already done for a very fast notebook), then idle with no cell waiting.
  await page
    .waitForFunction((panel) => document.querySelector(`${panel} .jp-Notebook-ExecutionIndicator`)?.getAttribute("data-status") === "busy", PANEL, {
      timeout: 10_000,
    })
    .catch(() => undefined);
  await waitForCellsDone(page, timeout);
  return (Date.now() - started) / 1000;
}

/**
 * Adds a code cell after the last one, types `text` into it and submits it (Shift-Enter,
 * which on the last cell also adds an empty one below, as in JupyterLab); returns the new
 * cell's index among the code cells. The caller waits for it as it needs.
 */
export async function typeNewCell(page: Page, text: string): Promise<number> {
  const index = await addCell(page, text);
  await page.keyboard.press("Shift+Enter");
  return index;
}

/** Adds a code cell after the last one and types `text` into it, the cursor left at its end; returns its index. */
export async function addCell(page: Page, text: string): Promise<number> {
  const index = await page.locator(`${PANEL} .jp-CodeCell`).count();
  await page.locator(`${PANEL} .jp-Cell`).last().click();
  await page.keyboard.press("Escape");
  await page.keyboard.press("b");
  await page.locator(`${PANEL} .jp-CodeCell .cm-content`).nth(index).click();
  await page.keyboard.insertText(text);
  return index;
}

/** A fingerprint of Plotly figure `index` (its data and drawn paths): changes when the figure does. */
export async function plotlyState(page: Page, index: number): Promise<string> {
  return page.evaluate(
    ([panel, i]) => {
      const gd = document.querySelectorAll(`${panel} .js-plotly-plot`)[i] as HTMLElement & { data?: Record<string, unknown>[] };
      const values = (gd.data ?? []).map((t) => [t.x, t.y, t.z, t.visible]);
      const drawn = Array.from(gd.querySelectorAll(".plot path, .plot .point"))
        .map((el) => el.getAttribute("d") ?? el.getAttribute("transform") ?? "")
        .join("|");
      return JSON.stringify(values) + drawn;
    },
    [PANEL, index] as const,
  );
}

/** Lets requests to loopback (and data:, blob:) through; aborts and records anything else. */
export async function blockOutsideLoopback(context: BrowserContext, blocked: string[]): Promise<void> {
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || /^(data|blob|about):/.test(url.protocol)) return route.continue();
    blocked.push(url.href);
    return route.abort("blockedbyclient");
  });
}

export const notebookPanel = PANEL;
