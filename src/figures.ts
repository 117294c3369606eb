/**
 * Small data helpers for the notebooks' Vega-Lite figures: heatmap cells from a
 * grid of values, and the points where a gridded function crosses a level (a
 * contour line drawn as dots). Grids are row-major, as {@link probabilityGrid} and
 * {@link gridPosterior} return them: values[i·ny + j] is the value at (xs[i], ys[j]).
 */
import { ArgumentError, assertFinite } from "./errors";

/** One heatmap rectangle: [x, x2] × [y, y2] coloured by `value`. */
export interface HeatmapCell {
  x: number;
  x2: number;
  y: number;
  y2: number;
  value: number;
}

/** A point on a level set. */
export interface LevelPoint {
  x: number;
  y: number;
}

function checkGrid(xs: ArrayLike<number>, ys: ArrayLike<number>, values: ArrayLike<number>): void {
  if (!xs || xs.length < 2) throw new ArgumentError("xs", `need at least 2 grid coordinates, got ${xs?.length}`);
  if (!ys || ys.length < 2) throw new ArgumentError("ys", `need at least 2 grid coordinates, got ${ys?.length}`);
  assertFinite("xs", xs);
  assertFinite("ys", ys);
  for (let i = 1; i < xs.length; i++) if (!(xs[i] > xs[i - 1])) throw new ArgumentError("xs", "must be strictly increasing");
  for (let j = 1; j < ys.length; j++) if (!(ys[j] > ys[j - 1])) throw new ArgumentError("ys", "must be strictly increasing");
  if (!values || values.length !== xs.length * ys.length) {
    throw new ArgumentError("values", `shape mismatch: expected ${xs.length}×${ys.length} = ${xs.length * ys.length} values, got ${values?.length}`);
  }
}

/**
 * Rectangles centred on the grid points, each reaching halfway to its neighbours
 * (the outer cells extend as far as the inner ones). `overlap` (default 0.02) widens
 * every cell by that fraction on each side so the SVG shows no hairline seams.
 */
export function heatmapCells(xs: ArrayLike<number>, ys: ArrayLike<number>, values: ArrayLike<number>, options: { overlap?: number } = {}): HeatmapCell[] {
  checkGrid(xs, ys, values);
  const overlap = options.overlap ?? 0.02;
  if (!(overlap >= 0 && overlap < 0.5)) throw new ArgumentError("overlap", `must be in [0, 0.5), got ${overlap}`);
  const edges = (c: ArrayLike<number>, k: number): [number, number] => {
    const left = k > 0 ? (c[k] - c[k - 1]) / 2 : (c[1] - c[0]) / 2;
    const right = k < c.length - 1 ? (c[k + 1] - c[k]) / 2 : (c[k] - c[k - 1]) / 2;
    return [c[k] - left * (1 + 2 * overlap), c[k] + right * (1 + 2 * overlap)];
  };
  const cells: HeatmapCell[] = [];
  for (let i = 0; i < xs.length; i++) {
    const [x, x2] = edges(xs, i);
    for (let j = 0; j < ys.length; j++) {
      const [y, y2] = edges(ys, j);
      cells.push({ x, x2, y, y2, value: values[i * ys.length + j] });
    }
  }
  return cells;
}

/**
 * Where the gridded function crosses `level`: along every grid line (both
 * directions), each sign change of value − level between neighbours gives one point,
 * placed by linear interpolation. Exact for functions linear along grid lines.
 */
export function levelCrossings(xs: ArrayLike<number>, ys: ArrayLike<number>, values: ArrayLike<number>, level: number): LevelPoint[] {
  checkGrid(xs, ys, values);
  assertFinite("level", level);
  const nx = xs.length;
  const ny = ys.length;
  const v = (i: number, j: number) => values[i * ny + j] - level;
  const out: LevelPoint[] = [];
  const crossing = (a: number, b: number) => (a === 0 ? 0 : a / (a - b));
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j + 1 < ny; j++) {
      const a = v(i, j);
      const b = v(i, j + 1);
      if ((a <= 0 && b > 0) || (a > 0 && b <= 0)) out.push({ x: xs[i], y: ys[j] + crossing(a, b) * (ys[j + 1] - ys[j]) });
    }
  }
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i + 1 < nx; i++) {
      const a = v(i, j);
      const b = v(i + 1, j);
      if ((a <= 0 && b > 0) || (a > 0 && b <= 0)) out.push({ x: xs[i] + crossing(a, b) * (xs[i + 1] - xs[i]), y: ys[j] });
    }
  }
  return out;
}
