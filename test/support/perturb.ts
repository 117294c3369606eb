/**
 * The ledger's mutation seam, outside the formulas: an entry's sides are plain data (a
 * comparison and its method, src/judge.ts), so a test can move one side before the judge
 * sees it and prove that the row then fails.
 */
import type { CheckSides } from "../../src/judge";

/** The same sides with the left one (the estimate, for a Monte Carlo comparison) multiplied by 1 + relative. */
export function perturbLeft(sides: CheckSides, relative: number): CheckSides {
  const move = (v: number) => v * (1 + relative);
  switch (sides.rule) {
    case "standard-errors": {
      const e = sides.estimate;
      const estimate =
        typeof e.value === "number"
          ? { value: move(e.value), stdError: e.stdError as number }
          : { value: Array.from(e.value, move), stdError: e.stdError as ArrayLike<number> };
      return { ...sides, estimate };
    }
    case "monotone":
      return { ...sides, values: [move(sides.values[0]), ...sides.values.slice(1)] };
    default:
      return { ...sides, lhs: move(sides.lhs) };
  }
}
