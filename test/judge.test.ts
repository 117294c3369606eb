/**
 * The judge (src/judge.ts): each rule passes on its side of the tolerance and fails just
 * beyond it, says its tolerance in words, and fails a side, estimate or standard error that
 * is not finite; every row registers when built and counts until it is shown; `show.ledger`
 * sends the rows as JSON in its output's metadata and throws ClaimFailedError for a failing
 * row unless strict checks are off.
 */
import { strict as assert } from "node:assert";
import {
  CHECKS_METADATA,
  type CheckRow,
  ClaimFailedError,
  check,
  checkAtLeast,
  checkAtMost,
  checkClose,
  checkEqual,
  checkEvery,
  checkExceeds,
  checkMonotone,
  checkRoundOff,
  checkWithinSE,
  markShown,
  ROUND_OFF_ULPS,
  STANDARD_ERRORS,
  setStrictChecks,
  strictChecks,
  unshownChecks,
} from "../src/judge";
import { ledgerRow } from "../src/ledger";
import { type RichDisplay, setDisplaySink, show } from "../src/notebook";
import { assertArgumentError } from "./support/assert";

const at = { tag: "t", method: "test" };

describe("the judge: its rules", () => {
  afterEach(() => markShown(unshownChecks()));

  it("round-off: |Δ| ≤ 8 ε of the scale, the larger side by default", () => {
    assert.equal(ROUND_OFF_ULPS, 8);
    assert.ok(checkRoundOff("r", { ...at, lhs: 5, rhs: 5 + 4 * Number.EPSILON * 5 }).pass);
    assert.ok(!checkRoundOff("r", { ...at, lhs: 5, rhs: 5 + 1e-13 }).pass);
    // A residual of terms of size 100 may be 100× larger than one of terms of size 1.
    assert.ok(checkRoundOff("r", { ...at, lhs: 1e-13, rhs: 0, scale: 100 }).pass);
    const row = checkRoundOff("r", { ...at, lhs: 0, rhs: 0, scale: 100 });
    assert.match(row.tolerance, /8 ε·100 = 1\.8e-13 \(float64 round-off\)/);
    assert.equal(row.rule, "round-off");
    assertArgumentError(() => checkRoundOff("r", { ...at, lhs: 0, rhs: 0, scale: 0 }), "scale");
  });

  it("bound: |Δ| ≤ within, with the reason in the tolerance; relative when asked", () => {
    const ok = checkClose("close", { ...at, lhs: 1, rhs: 1 + 9e-11, within: 1e-10, why: "quadrature" });
    assert.ok(ok.pass);
    assert.match(ok.tolerance, /^\|Δ\| ≤ 1\.0e-10 \(quadrature\)$/);
    assert.ok(!checkClose("close", { ...at, lhs: 1, rhs: 1 + 2e-10, within: 1e-10, why: "quadrature" }).pass);
    // Relative: |Δ| / max(|lhs|, |rhs|, 1), so a large pair may differ by more in absolute terms.
    const relative = checkClose("rel", { ...at, lhs: 1000, rhs: 1000 + 5e-8, within: 1e-10, why: "float64 identity", relative: true });
    assert.ok(relative.pass);
    assert.ok(Math.abs(relative.residual - 5e-11) < 1e-15);
    assert.match(relative.tolerance, /^relative \|Δ\| ≤ 1\.0e-10 /);
    assertArgumentError(() => checkClose("c", { ...at, lhs: 1, rhs: 1, within: 1e-10, why: "" }), "why");
    assertArgumentError(() => checkClose("c", { ...at, lhs: 1, rhs: 1, within: -1, why: "w" }), "within");
  });

  it("standard errors: within 4 SE; an SE of 0 needs the stated floor", () => {
    assert.equal(STANDARD_ERRORS, 4);
    const estimate = { value: 1.039, stdError: 0.01 };
    const row = checkWithinSE("mc", { ...at, estimate, reference: 1 });
    assert.deepEqual([row.pass, row.stdError, row.rule], [true, 0.01, "standard-errors"]);
    assert.match(row.tolerance, /^\|Δ\| ≤ 4 SE \(SE = 0\.01; \|Δ\| = 3\.9 SE\)$/);
    assert.ok(!checkWithinSE("mc", { ...at, estimate: { value: 1.041, stdError: 0.01 }, reference: 1 }).pass);
    const constant = { value: 1 + 1e-15, stdError: 0 };
    assert.ok(!checkWithinSE("mc", { ...at, estimate: constant, reference: 1 }).pass);
    const floored = checkWithinSE("mc", { ...at, estimate: constant, reference: 1, floor: 1e-12 });
    assert.ok(floored.pass);
    assert.match(floored.tolerance, /4 SE \+ 1\.0e-12 \(round-off/);
    assertArgumentError(() => checkWithinSE("mc", { ...at, estimate: { value: 1, stdError: -1 }, reference: 1 }), "estimate.stdError");
  });

  it("standard errors of a vector: every coordinate within 4 SE; the row shows the norms and the largest |Δ|", () => {
    const estimate = { value: [3, 4.2], stdError: [0.1, 0.1] };
    const row = checkWithinSE("gradient", { ...at, estimate, reference: [3.1, 4] });
    assert.deepEqual([row.pass, row.lhs, row.rhs], [true, Math.hypot(3, 4.2), Math.hypot(3.1, 4)]);
    assert.ok(Math.abs(row.residual - 0.2) < 1e-12);
    assert.match(row.tolerance, /every coordinate within 4 SE \(max SE = 1\.0e-1\); max z = 2\.00/);
    assert.ok(!checkWithinSE("gradient", { ...at, estimate, reference: [3.5, 4.2] }).pass);
    assertArgumentError(() => checkWithinSE("gradient", { ...at, estimate, reference: [1] }), "reference");
  });

  it("at-most / at-least: the margin is the residual; a slack needs a reason, or is 4 SE of a noisy side", () => {
    const below = checkAtMost("elbo ≤ log p", { ...at, lhs: -2, rhs: -1.5 });
    assert.deepEqual([below.pass, below.residual, below.tolerance], [true, 0.5, "lhs ≤ rhs"]);
    assert.ok(!checkAtMost("elbo ≤ log p", { ...at, lhs: -1.5 + 1e-15, rhs: -1.5 }).pass);
    assert.ok(checkAtMost("elbo ≤ log p", { ...at, lhs: -1.5 + 1e-15, rhs: -1.5, slack: 1e-14, why: "round-off" }).pass);
    assertArgumentError(() => checkAtMost("x", { ...at, lhs: 0, rhs: 0, slack: 1 }), "why");
    const above = checkAtLeast("kl ≥ 0", { ...at, lhs: 0.2, rhs: 0 });
    assert.deepEqual([above.pass, above.residual, above.tolerance], [true, 0.2, "lhs ≥ rhs"]);
    assert.ok(!checkAtLeast("kl ≥ 0", { ...at, lhs: -1e-3, rhs: 0 }).pass);
    assert.match(checkAtLeast("kl ≥ 0", { ...at, lhs: -1e-3, rhs: 0, slack: 1e-2, why: "noise" }).tolerance, /^lhs ≥ rhs − 0\.01 \(noise\)$/);
    // An estimate above a bound by 3.9 SE is still "at most" it; by 4.1 SE it is not.
    const noisy = checkAtMost("iwae ≤ log p", { ...at, lhs: 1.039, rhs: 1, stdError: 0.01 });
    assert.ok(noisy.pass);
    assert.match(noisy.tolerance, /^lhs ≤ rhs \+ 0\.04 \(4 SE, SE = 0\.01\)$/);
    assert.ok(!checkAtMost("iwae ≤ log p", { ...at, lhs: 1.041, rhs: 1, stdError: 0.01 }).pass);
    assertArgumentError(() => checkAtMost("x", { ...at, lhs: 0, rhs: 0, slack: 1, why: "w", stdError: 1 }), "slack");
  });

  it("exceeds: a gap of more than 4 SE; without an SE, strictly greater", () => {
    const gap = checkExceeds("gap", { ...at, lhs: 1.5, rhs: 1, stdError: 0.1 });
    assert.deepEqual([gap.pass, gap.residual], [true, 0.5]);
    assert.match(gap.tolerance, /^lhs − rhs > 4 SE \(SE = 0\.1; gap = 5 SE\)$/);
    assert.ok(!checkExceeds("gap", { ...at, lhs: 1.3, rhs: 1, stdError: 0.1 }).pass);
    assert.ok(checkExceeds("more", { ...at, lhs: 2, rhs: 1 }).pass);
    assert.ok(!checkExceeds("more", { ...at, lhs: 1, rhs: 1 }).pass);
  });

  it("monotone: strict steps without SEs; wiggles within 4 SE of the step with them", () => {
    assert.ok(checkMonotone("up", { ...at, values: [1, 2, 3], direction: "increasing" }).pass);
    const flat = checkMonotone("up", { ...at, values: [1, 2, 2, 3], direction: "increasing", labels: ["a", "b", "c", "d"] });
    assert.ok(!flat.pass);
    assert.match(flat.tolerance, /worst: b → c/);
    assert.ok(checkMonotone("down", { ...at, values: [3, 2, 1], direction: "decreasing" }).pass);
    assert.ok(!checkMonotone("down", { ...at, values: [3, 2, 2.5], direction: "decreasing" }).pass);
    // A drop of 0.05 against step SEs of √2·0.01 is 3.5 SE: passes; a drop of 0.06 is 4.2 SE: fails.
    const wiggle = { ...at, values: [1, 1.2, 1.15, 1.3], stdErrors: [0.01, 0.01, 0.01, 0.01], direction: "increasing" as const };
    const row = checkMonotone("up", wiggle);
    assert.deepEqual([row.pass, row.lhs, row.rhs], [true, 1.15, 1.2]);
    assert.ok(!checkMonotone("up", { ...wiggle, values: [1, 1.2, 1.14, 1.3] }).pass);
    assertArgumentError(() => checkMonotone("up", { ...at, values: [1], direction: "increasing" }), "values");
    assertArgumentError(() => checkMonotone("up", { ...at, values: [1, 2], stdErrors: [1], direction: "increasing" }), "stdErrors");
    assertArgumentError(() => checkMonotone("up", { ...at, values: [1, 2], direction: "sideways" as never }), "direction");
  });

  it("equal: bit for bit", () => {
    assert.deepEqual([checkEqual("same", { ...at, lhs: 0, rhs: 0 }).pass, checkEqual("same", { ...at, lhs: 0, rhs: 0 }).tolerance], [true, "exactly equal"]);
    assert.ok(!checkEqual("same", { ...at, lhs: 0.1 + 0.2, rhs: 0.3 }).pass);
  });

  it("a side, estimate or standard error that is not finite fails, and the tolerance says which", () => {
    // log p(x) of an estimator whose every weight underflowed: −∞ ± ∞ used to pass "within 4 SE".
    const underflow = checkWithinSE("mc", { ...at, estimate: { value: -Infinity, stdError: Infinity }, reference: -5 });
    assert.equal(underflow.pass, false);
    assert.match(underflow.tolerance, /fails: estimate = -Infinity, SE = Infinity is not finite$/);
    assert.ok(!checkWithinSE("mc", { ...at, estimate: { value: -5, stdError: Infinity }, reference: -5 }).pass);
    assert.ok(!checkWithinSE("mc", { ...at, estimate: { value: NaN, stdError: 0.1 }, reference: -5 }).pass);
    assert.ok(!checkWithinSE("g", { ...at, estimate: { value: [1, 2], stdError: [0.1, NaN] }, reference: [1, 2] }).pass);
    assert.ok(!checkRoundOff("r", { ...at, lhs: NaN, rhs: NaN }).pass);
    assert.ok(!checkClose("c", { ...at, lhs: Infinity, rhs: Infinity, within: Infinity, why: "w" }).pass);
    assert.ok(!checkAtMost("elbo ≤ log p", { ...at, lhs: -Infinity, rhs: -1 }).pass);
    assert.ok(!checkAtLeast("x", { ...at, lhs: 1, rhs: NaN }).pass);
    assert.ok(!checkExceeds("gap", { ...at, lhs: Infinity, rhs: 1, stdError: 0.1 }).pass);
    assert.ok(!checkMonotone("up", { ...at, values: [1, NaN, 3], direction: "increasing" }).pass);
    assert.ok(!checkMonotone("up", { ...at, values: [1, 2, 3], stdErrors: [0.1, Infinity, 0.1], direction: "increasing" }).pass);
    assert.ok(!checkEqual("same", { ...at, lhs: Infinity, rhs: Infinity }).pass);
  });

  it("check: the general form; `also` comparisons must hold too and are named in the tolerance", () => {
    const row = check("gap and KL", {
      ...at,
      rule: "exceeds",
      lhs: 2,
      rhs: 1,
      stdError: 0.1,
      also: [{ label: "gap = KL", rule: "standard-errors", estimate: { value: 1, stdError: 0.1 }, reference: 1.05 }],
      details: { exactGap: 1.05 },
    });
    assert.deepEqual([row.pass, row.lhs, row.rhs, row.residual, row.rule, row.details], [true, 2, 1, 1, "exceeds", { exactGap: 1.05 }]);
    assert.match(row.tolerance, /^lhs − rhs > 4 SE \(SE = 0\.1; gap = 10 SE\); and gap = KL: \|Δ\| ≤ 4 SE /);
    const bad = check("gap and KL", { ...at, rule: "exceeds", lhs: 2, rhs: 1, stdError: 0.1, also: [{ label: "gap = KL", rule: "equal", lhs: 1, rhs: 2 }] });
    assert.equal(bad.pass, false);
    assertArgumentError(() => check("", { ...at, rule: "equal", lhs: 1, rhs: 1 }), "claim");
    assertArgumentError(() => check("c", { ...at, tag: "", rule: "equal", lhs: 1, rhs: 1 }), "tag");
    assertArgumentError(() => check("c", { ...at, method: "", rule: "equal", lhs: 1, rhs: 1 }), "method");
    assertArgumentError(() => check("c", { ...at, rule: "eyeballed", lhs: 1, rhs: 1 } as never), "rule");
    assertArgumentError(() => check("c", { ...at, rule: "equal", lhs: "1", rhs: 1 } as never), "lhs");
  });

  it("every: passes only if every case does; shows the closest case, or the first failing one", () => {
    const cases = [0.5, 2, 3.5].map((z) => ({
      label: `z = ${z}`,
      row: checkWithinSE("mc", { ...at, estimate: { value: 1 + z * 0.01, stdError: 0.01 }, reference: 1 }),
    }));
    const all = checkEvery("every estimate agrees", cases);
    assert.deepEqual([all.pass, all.title, all.rule, all.lhs], [true, "every estimate agrees", "every", 1.035]);
    assert.match(all.method, /^closest case: z = 3\.5; /);
    assert.match(all.tolerance, /^each of 3: /);
    const nine = checkWithinSE("mc", { ...at, estimate: { value: 1.09, stdError: 0.01 }, reference: 1 });
    const bad = checkEvery("every estimate agrees", [...cases, { label: "z = 9", row: nine }]);
    assert.ok(!bad.pass);
    assert.match(bad.method, /^failing case: z = 9; /);
    assertArgumentError(() => checkEvery("x", []), "cases");
    assertArgumentError(() => checkEvery("x", [{ label: "by hand", row: { ...nine } }]), "cases[0].row");
  });
});

describe("the judge: every row counts until it is shown", () => {
  const shown: { html: string; metadata?: Record<string, unknown> }[] = [];
  const capture: RichDisplay = {
    html: (html, metadata) => void shown.push({ html, metadata }),
    svg: () => undefined,
    png: () => undefined,
    markdown: () => undefined,
    text: () => undefined,
  };
  beforeEach(() => {
    markShown(unshownChecks());
    shown.length = 0;
    setDisplaySink(capture);
  });
  afterEach(() => setDisplaySink(undefined));

  it("a row built and not shown is listed by unshownChecks, also through the runner's global; showing it clears it", () => {
    const row = checkAtLeast("kl ≥ 0", { ...at, lhs: 0.2, rhs: 0 });
    assert.deepEqual(unshownChecks(), [row]);
    const runnerView = (globalThis as Record<symbol, { unshown(): Record<string, unknown>[] }>)[Symbol.for(CHECKS_METADATA)];
    assert.deepEqual(
      runnerView.unshown().map((r) => [r.tag, r.title, r.pass]),
      [["t", "kl ≥ 0", true]],
    );
    show.ledger([row]);
    assert.deepEqual(unshownChecks(), []);
  });

  it("checkEvery takes its cases: only the combined row is left to show", () => {
    const cases = [1, 2].map((v) => ({ label: `${v}`, row: checkAtLeast(`${v} ≥ 0`, { ...at, lhs: v, rhs: 0 }) }));
    const all = checkEvery("all ≥ 0", cases);
    assert.deepEqual(unshownChecks(), [all]);
  });

  it("show.ledger sends the rows as JSON in its output's metadata, non-finite numbers as strings", () => {
    const rows = [ledgerRow("5.10"), checkWithinSE("underflow", { ...at, estimate: { value: -Infinity, stdError: Infinity }, reference: -5 })];
    setStrictChecks(false);
    try {
      show.ledger(rows);
    } finally {
      setStrictChecks(undefined);
    }
    const sent = shown[0].metadata![CHECKS_METADATA] as Record<string, unknown>[];
    assert.equal(JSON.stringify(sent), JSON.stringify(JSON.parse(JSON.stringify(sent))), "plain JSON");
    assert.deepEqual(
      sent.map((r) => [r.tag, r.pass, r.rule, r.kind, r.part]),
      [
        ["5.10", true, "bound", "identity", 1],
        ["t", false, "standard-errors", undefined, undefined],
      ],
    );
    assert.deepEqual([sent[0].lhs, sent[0].rhs], [rows[0].lhs, rows[0].rhs]);
    assert.deepEqual([sent[1].lhs, sent[1].stdError], ["-Infinity", "Infinity"]);
    assert.match(shown[0].html, /<tr class="fail">/);
  });
});

describe("the judge: strict by default", () => {
  const shown: string[] = [];
  const capture: RichDisplay = {
    html: (s) => void shown.push(s),
    svg: () => undefined,
    png: () => undefined,
    markdown: () => undefined,
    text: () => undefined,
  };
  let failing: CheckRow;
  const saved = process.env.WORKBOOK_STRICT_CHECKS;

  beforeEach(() => {
    shown.length = 0;
    setDisplaySink(capture);
    setStrictChecks(undefined);
    delete process.env.WORKBOOK_STRICT_CHECKS;
    failing = checkClose("one equals two", { ...at, tag: "9.9", lhs: 1, rhs: 2, within: 0.1, why: "test" });
  });
  afterEach(() => {
    setDisplaySink(undefined);
    setStrictChecks(undefined);
    markShown(unshownChecks());
    if (saved === undefined) delete process.env.WORKBOOK_STRICT_CHECKS;
    else process.env.WORKBOOK_STRICT_CHECKS = saved;
  });

  it("show.ledger shows a failing row, then throws ClaimFailedError naming the claim", () => {
    assert.ok(strictChecks());
    assert.throws(
      () => show.ledger([ledgerRow("5.10"), failing]),
      (e: unknown) => {
        assert.ok(e instanceof ClaimFailedError);
        assert.equal(e.name, "ClaimFailedError");
        assert.match(e.message, /^\(9\.9\) one equals two does not hold: lhs 1, rhs 2, residual 1; tolerance: \|Δ\| ≤ 0\.1 \(test\)$/);
        assert.deepEqual(e.rows, [failing]);
        return true;
      },
    );
    assert.equal(shown.length, 1, "the table was shown before the error");
    assert.match(shown[0], /✘ FAIL/);
  });

  it("passing rows do not throw", () => {
    show.ledger([ledgerRow("5.10"), checkClose("one is one", { ...at, lhs: 1, rhs: 1, within: 0, why: "exact" })]);
    assert.equal(shown.length, 1);
  });

  it("setStrictChecks(false) shows ✘ without throwing; undefined returns to the default", () => {
    setStrictChecks(false);
    show.ledger([failing]);
    assert.match(shown[0], /✘ FAIL/);
    setStrictChecks(undefined);
    assert.throws(() => show.ledger([failing]), ClaimFailedError);
    assertArgumentError(() => setStrictChecks("no" as never), "strict");
  });

  it("WORKBOOK_STRICT_CHECKS=0 turns strictness off for the process; setStrictChecks wins over it", () => {
    process.env.WORKBOOK_STRICT_CHECKS = "0";
    assert.equal(strictChecks(), false);
    show.ledger([failing]);
    setStrictChecks(true);
    assert.throws(() => show.ledger([failing]), ClaimFailedError);
    setStrictChecks(undefined);
    process.env.WORKBOOK_STRICT_CHECKS = "1";
    assert.equal(strictChecks(), true);
    process.env.WORKBOOK_STRICT_CHECKS = "maybe";
    assertArgumentError(() => strictChecks(), "WORKBOOK_STRICT_CHECKS");
  });
});
