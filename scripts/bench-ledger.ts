/**
 * `npm run bench:ledger`: how long one whole `runLedger()` takes (target < 2 s on the
 * build machine) and which standard errors its Monte Carlo rows reach.
 */
import { formatLedger, runLedger } from "../src/ledger";

const TARGET_SECONDS = 2;
const repeats = Number(process.argv[2] ?? 5);

function timeOnce(seed: number): { seconds: number; rows: ReturnType<typeof runLedger> } {
  const start = process.hrtime.bigint();
  const rows = runLedger({ seed });
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, rows };
}

const first = timeOnce(0);
const times = [first.seconds];
for (let i = 1; i < repeats; i++) times.push(timeOnce(0).seconds);
const sorted = times.slice().sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];

console.log(formatLedger(first.rows));
console.log("");
console.log("standard errors reached (Monte Carlo sides, n = 20000 draws each):");
for (const r of first.rows) {
  if (r.stdError !== undefined) {
    const z = r.details?.zScore ?? r.details?.maxZScore ?? r.details?.gapZScore;
    console.log(`  (${r.tag.padEnd(4)}) SE = ${r.stdError.toExponential(2)}${z !== undefined ? `   |Δ|/SE = ${z.toFixed(2)}` : ""}`);
  }
  if (r.details?.monteCarloStdError !== undefined) {
    console.log(
      `  (${r.tag.padEnd(4)}) prior-sampling MC SE = ${r.details.monteCarloStdError.toExponential(2)}   |Δ|/SE = ${r.details.monteCarloZScore.toFixed(2)}`,
    );
  }
}
console.log("");
console.log(
  `runLedger(): first call ${first.seconds.toFixed(3)} s (includes JIT warm-up), median of ${repeats} ${median.toFixed(3)} s, target < ${TARGET_SECONDS} s: ${first.seconds < TARGET_SECONDS ? "met" : "MISSED"}`,
);
