/** Driving a Plotly slider in a browser test, with the mouse, as a reader would. */
import type { Locator, Page } from "playwright-core";
import type { PlotlyFigure } from "../../src/plots/plotly";

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

/** A figure whose y values follow a slider through inline JS only (no kernel). */
export function sliderFigure(): { figure: PlotlyFigure; script: string; table: number[][] } {
  const x = [0, 1, 2, 3, 4, 5, 6, 7];
  // Precomputed "kernel" values: step k plots y = sin(x + k) (a shift, so the drawn path moves even
  // under autorange, which a pure rescaling would hide).
  const table = [0, 1, 2, 3, 4].map((k) => x.map((v) => Math.sin(v + k)));
  const figure: PlotlyFigure = {
    data: [{ type: "scatter", mode: "lines+markers", x, y: table[0], name: "curve" }],
    layout: {
      title: { text: "step 0" },
      width: 600,
      height: 400,
      sliders: [{ active: 0, currentvalue: { prefix: "k = " }, steps: table.map((_, k) => ({ label: String(k), method: "skip", args: [] })) }],
    },
  };
  const script = `
    var table = ${JSON.stringify(table)};
    gd.on("plotly_sliderchange", function () {
      var k = gd.layout.sliders[0].active;
      Plotly.update(gd, { y: [table[k]] }, { "title.text": "step " + k });
    });`;
  return { figure, script, table };
}
