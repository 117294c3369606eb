/**
 * Figure helpers: heatmap cells must tile the plane around the grid, and level
 * crossings must lie on the level set. For a function linear along grid lines the
 * interpolated crossings are exact, so they are compared to the analytic line to
 * float64 round-off (1e-12 absolute on O(1) coordinates).
 */
import { strict as assert } from "node:assert";
import { ArgumentError } from "../src/errors";
import { heatmapCells, levelCrossings } from "../src/figures";

const linspace = (a: number, b: number, n: number) => Float64Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

function gridValues(xs: Float64Array, ys: Float64Array, f: (x: number, y: number) => number): Float64Array {
  const v = new Float64Array(xs.length * ys.length);
  for (let i = 0; i < xs.length; i++) for (let j = 0; j < ys.length; j++) v[i * ys.length + j] = f(xs[i], ys[j]);
  return v;
}

describe("figures", () => {
  describe("heatmapCells", () => {
    it("centres one cell per grid point on its coordinates, row-major, and tiles the range without gaps", () => {
      const xs = linspace(-1, 1, 5);
      const ys = Float64Array.of(0, 0.5, 2); // uneven spacing
      const values = gridValues(xs, ys, (x, y) => 10 * x + y);
      const cells = heatmapCells(xs, ys, values, { overlap: 0 });
      assert.equal(cells.length, 15);
      cells.forEach((c, k) => {
        const i = Math.floor(k / ys.length);
        const j = k % ys.length;
        assert.equal(c.value, 10 * xs[i] + ys[j]);
        assert.ok(c.x < xs[i] && xs[i] < c.x2 && c.y < ys[j] && ys[j] < c.y2);
      });
      // Neighbouring cells share their edge exactly when overlap = 0.
      for (let j = 0; j + 1 < ys.length; j++) assert.ok(Math.abs(cells[j].y2 - cells[j + 1].y) < 1e-15);
      for (let i = 0; i + 1 < xs.length; i++) assert.ok(Math.abs(cells[i * 3].x2 - cells[(i + 1) * 3].x) < 1e-15);
      // The total area equals the area of the padded box.
      const area = cells.reduce((a, c) => a + (c.x2 - c.x) * (c.y2 - c.y), 0);
      assert.ok(Math.abs(area - (2 + 0.5) * (2 + 0.25 + 0.75)) < 1e-12, `area ${area}`);
    });

    it("widens cells by the overlap fraction", () => {
      const xs = linspace(0, 1, 3);
      const cells = heatmapCells(xs, xs, new Float64Array(9), { overlap: 0.1 });
      assert.ok(Math.abs(cells[4].x2 - cells[4].x - 0.5 * 1.2) < 1e-15);
    });

    it("rejects bad grids", () => {
      assert.throws(() => heatmapCells([0, 1], [0, 1], [1, 2, 3]), ArgumentError);
      assert.throws(() => heatmapCells([1, 0], [0, 1], [1, 2, 3, 4]), ArgumentError);
      assert.throws(() => heatmapCells([0], [0, 1], [1, 2]), ArgumentError);
      assert.throws(() => heatmapCells([0, NaN], [0, 1], [1, 2, 3, 4]), ArgumentError);
      assert.throws(() => heatmapCells([0, 1], [0, 1], [1, 2, 3, 4], { overlap: 0.7 }), ArgumentError);
    });
  });

  describe("levelCrossings", () => {
    it("finds points exactly on a straight level line", () => {
      const xs = linspace(-2, 2, 21);
      const ys = linspace(-2, 2, 17);
      const f = (x: number, y: number) => 0.7 * x - 1.3 * y + 0.2;
      const pts = levelCrossings(xs, ys, gridValues(xs, ys, f), 0.5);
      assert.ok(pts.length > 20, `only ${pts.length} crossings`);
      for (const p of pts) assert.ok(Math.abs(f(p.x, p.y) - 0.5) < 1e-12, `f(${p.x}, ${p.y}) = ${f(p.x, p.y)}`);
    });

    it("finds a circle to within the interpolation error of the grid", () => {
      const xs = linspace(-2, 2, 201);
      const pts = levelCrossings(
        xs,
        xs,
        gridValues(xs, xs, (x, y) => x * x + y * y),
        1,
      );
      // Linear interpolation of r² between points h = 0.02 apart errs by at most h²/4 in r².
      for (const p of pts) assert.ok(Math.abs(p.x * p.x + p.y * p.y - 1) <= 0.02 ** 2 / 4 + 1e-12);
      // Every quadrant is covered.
      for (const [sx, sy] of [
        [1, 1],
        [1, -1],
        [-1, 1],
        [-1, -1],
      ])
        assert.ok(pts.some((p) => p.x * sx > 0.5 && p.y * sy > 0.5));
    });

    it("returns nothing when the level is not crossed", () => {
      const xs = linspace(0, 1, 5);
      assert.deepEqual(levelCrossings(xs, xs, new Float64Array(25).fill(2), 1), []);
    });
  });
});
