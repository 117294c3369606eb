/**
 * Static charts: Vega-Lite specs compiled and rendered to SVG inside the kernel, so a
 * chart shows the same in JupyterLab, in the exported HTML and on GitHub.
 */
import * as vega from "vega";
import type { TopLevelSpec } from "vega-lite";
import * as vl from "vega-lite";

export type { TopLevelSpec as VegaLiteSpec };

/** The workbook's chart look: readable axes, CJK-capable fonts, no chart border. */
export const chartConfig = {
  font: "Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, Helvetica, Arial, sans-serif",
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e8e8e8" },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start" },
} as const;

/** Renders a Vega-Lite spec to an SVG string. */
export async function vegaLiteToSvg(spec: TopLevelSpec): Promise<string> {
  const withConfig = { ...spec, config: { ...chartConfig, ...(spec.config ?? {}) } } as TopLevelSpec;
  const compiled = vl.compile(withConfig).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
