/** Driving a Plotly slider in a browser test, with the mouse, as a reader would. */
import type { Locator, Page } from "playwright-core";

/**
 * Drags the first slider of the Plotly graph `plot` to whichever end is farther from
 * its grip, so the slider's value surely changes. False if the graph has no slider.
 */
export async function dragSlider(page: Page, plot: Locator): Promise<boolean> {
  const rail = plot.locator(".slider-rail-rect").first();
  if ((await rail.count()) === 0) return false;
  await rail.scrollIntoViewIfNeeded();
  const box = await rail.boundingBox();
  const grip = await plot.locator(".slider-grip-rect").first().boundingBox();
  if (!box || !grip) return false;
  const gripX = grip.x + grip.width / 2;
  const targetX = gripX - box.x > box.width / 2 ? box.x + 3 : box.x + box.width - 3;
  await page.mouse.move(gripX, grip.y + grip.height / 2);
  await page.mouse.down();
  await page.mouse.move(targetX, grip.y + grip.height / 2, { steps: 8 });
  await page.mouse.up();
  return true;
}
