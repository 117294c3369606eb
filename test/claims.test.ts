/**
 * Checked claims (src/claims.ts): each helper passes on its side of the tolerance and
 * fails just beyond it, says its tolerance in words, and `show.ledger` throws
 * ClaimFailedError for a failing row unless strict checks are off. Also the test-only
 * KL bias of the exact code (src/exact/test-faults.ts).
 */
import { strict as assert } from "node:assert";
import { assertArgumentError } from "./support/assert";
import {
  ClaimFailedError, check, checkAtLeast, checkAtMost, checkClose, checkEvery, checkExceeds, checkMonotone, checkRoundOff,
  checkWithinSE, setStrictChecks, strictChecks,
} from "../src/claims";
import { MvNormal64, klMvNormal } from "../src/exact/mvnormal";
import { LinearGaussian } from "../src/exact/linear-gaussian";
import { setTestKlBias } from "../src/exact/test-faults";
import { ledgerRow } from "../src/ledger";
import { setDisplaySink, show, type RichDisplay } from "../src/notebook";

const at = { tag: "t", method: "test" };

describe("checked claims: the helpers", () => {
  it("check: the general row, in the ledger's shape; NaN never passes", () => {
    const row = check("a = b", { ...at, lhs: 1, rhs: 1.5, tolerance: "by hand", pass: true });
    assert.deepEqual(
      [row.tag, row.title, row.lhs, row.rhs, row.residual, row.tolerance, row.method, row.pass],
      ["t", "a = b", 1, 1.5, 0.5, "by hand", "test", true],
    );
    assert.equal(check("nan", { ...at, lhs: NaN, rhs: 1, tolerance: "x", pass: true }).pass, false);
    assertArgumentError(() => check("", { ...at, lhs: 1, rhs: 1, tolerance: "x", pass: true }), "claim");
    assertArgumentError(() => check("c", { ...at, tag: "", lhs: 1, rhs: 1, tolerance: "x", pass: true }), "tag");
    assertArgumentError(() => check("c", { ...at, lhs: 1, rhs: 1, tolerance: "x", pass: "yes" as never }), "pass");
  });

  it("checkClose: |Δ| ≤ within, with the reason in the tolerance", () => {
    const ok = checkClose("close", { ...at, lhs: 1, rhs: 1 + 9e-11, within: 1e-10, why: "quadrature" });
    assert.ok(ok.pass);
    assert.match(ok.tolerance, /\|Δ\| ≤ 1\.0e-10 \(quadrature\)/);
    assert.ok(!checkClose("close", { ...at, lhs: 1, rhs: 1 + 2e-10, within: 1e-10, why: "quadrature" }).pass);
    assertArgumentError(() => checkClose("c", { ...at, lhs: 1, rhs: 1, within: 1e-10, why: "" }), "why");
  });

  it("checkRoundOff: a few ε of the scale", () => {
    assert.ok(checkRoundOff("r", { ...at, lhs: 5, rhs: 5 + 4 * Number.EPSILON * 5 }).pass);
    assert.ok(!checkRoundOff("r", { ...at, lhs: 5, rhs: 5 + 1e-13 }).pass);
    // A residual of terms of size 100 may be 100× larger than one of terms of size 1.
    assert.ok(checkRoundOff("r", { ...at, lhs: 1e-13, rhs: 0, scale: 100 }).pass);
    assert.match(checkRoundOff("r", { ...at, lhs: 0, rhs: 0, scale: 100 }).tolerance, /8 ε·100 = 1\.8e-13 \(float64 round-off\)/);
  });

  it("checkWithinSE: 4 SE by default; an SE of 0 needs the stated floor", () => {
    const estimate = { value: 1.039, stdError: 0.01 };
    assert.ok(checkWithinSE("mc", { ...at, estimate, reference: 1 }).pass);
    assert.ok(!checkWithinSE("mc", { ...at, estimate: { value: 1.041, stdError: 0.01 }, reference: 1 }).pass);
    assert.ok(!checkWithinSE("mc", { ...at, estimate, reference: 1, standardErrors: 2 }).pass);
    const constant = { value: 1 + 1e-15, stdError: 0 };
    assert.ok(!checkWithinSE("mc", { ...at, estimate: constant, reference: 1 }).pass);
    const floored = checkWithinSE("mc", { ...at, estimate: constant, reference: 1, floor: 1e-12 });
    assert.ok(floored.pass);
    assert.match(floored.tolerance, /4 SE \+ 1\.0e-12 \(round-off/);
  });

  it("checkAtMost / checkAtLeast: the margin is the residual; slack needs a reason", () => {
    const below = checkAtMost("elbo ≤ log p", { ...at, lhs: -2, rhs: -1.5 });
    assert.deepEqual([below.pass, below.residual, below.tolerance], [true, 0.5, "lhs ≤ rhs"]);
    assert.ok(!checkAtMost("elbo ≤ log p", { ...at, lhs: -1.5 + 1e-15, rhs: -1.5 }).pass);
    assert.ok(checkAtMost("elbo ≤ log p", { ...at, lhs: -1.5 + 1e-15, rhs: -1.5, slack: 1e-14, why: "round-off" }).pass);
    assertArgumentError(() => checkAtMost("x", { ...at, lhs: 0, rhs: 0, slack: 1 }), "why");
    const above = checkAtLeast("kl ≥ 0", { ...at, lhs: 0.2, rhs: 0 });
    assert.deepEqual([above.pass, above.residual, above.tolerance], [true, 0.2, "lhs ≥ rhs"]);
    assert.ok(!checkAtLeast("kl ≥ 0", { ...at, lhs: -1e-3, rhs: 0 }).pass);
    assert.match(checkAtLeast("kl ≥ 0", { ...at, lhs: -1e-3, rhs: 0, slack: 1e-2, why: "noise" }).tolerance, /^lhs ≥ rhs − 0\.01 \(noise\)$/);
  });

  it("checkExceeds: a gap of more than 4 SE", () => {
    assert.ok(checkExceeds("gap", { ...at, lhs: 1.5, rhs: 1, stdError: 0.1 }).pass);
    assert.ok(!checkExceeds("gap", { ...at, lhs: 1.3, rhs: 1, stdError: 0.1 }).pass);
  });

  it("checkMonotone: strict steps without SEs; wiggles within k SE of the step with them", () => {
    assert.ok(checkMonotone("up", { ...at, values: [1, 2, 3], direction: "increasing" }).pass);
    const flat = checkMonotone("up", { ...at, values: [1, 2, 2, 3], direction: "increasing", labels: ["a", "b", "c", "d"] });
    assert.ok(!flat.pass);
    assert.match(flat.tolerance, /worst: b → c/);
    assert.ok(checkMonotone("down", { ...at, values: [3, 2, 1], direction: "decreasing" }).pass);
    assert.ok(!checkMonotone("down", { ...at, values: [3, 2, 2.5], direction: "decreasing" }).pass);
    // A drop of 0.05 against step SEs of √2·0.01 is 3.5 SE: passes at 4, fails at 3.
    const wiggle = { ...at, values: [1, 1.2, 1.15, 1.3], stdErrors: [0.01, 0.01, 0.01, 0.01], direction: "increasing" as const };
    const row = checkMonotone("up", wiggle);
    assert.deepEqual([row.pass, row.lhs, row.rhs], [true, 1.15, 1.2]);
    assert.ok(!checkMonotone("up", { ...wiggle, standardErrors: 3 }).pass);
    assertArgumentError(() => checkMonotone("up", { ...at, values: [1], direction: "increasing" }), "values");
    assertArgumentError(() => checkMonotone("up", { ...at, values: [1, 2], stdErrors: [1], direction: "increasing" }), "stdErrors");
  });

  it("checkEvery: passes only if every case does; shows the closest case, or the first failing one", () => {
    const cases = [0.5, 2, 3.5].map((z) => ({ label: `z = ${z}`, row: checkWithinSE("mc", { ...at, estimate: { value: 1 + z * 0.01, stdError: 0.01 }, reference: 1 }) }));
    const all = checkEvery("every estimate agrees", cases);
    assert.ok(all.pass);
    assert.equal(all.title, "every estimate agrees");
    assert.match(all.method, /^closest case: z = 3\.5; /);
    assert.match(all.tolerance, /^each of 3: /);
    const bad = checkEvery("every estimate agrees", [...cases, { label: "z = 9", row: checkWithinSE("mc", { ...at, estimate: { value: 1.09, stdError: 0.01 }, reference: 1 }) }]);
    assert.ok(!bad.pass);
    assert.match(bad.method, /^failing case: z = 9; /);
    assertArgumentError(() => checkEvery("x", []), "cases");
  });
});

describe("checked claims: strict by default", () => {
  const shown: string[] = [];
  const capture: RichDisplay = { html: (s) => void shown.push(s), svg: () => undefined, png: () => undefined, markdown: () => undefined, text: () => undefined };
  const failing = checkClose("one equals two", { ...at, tag: "9.9", lhs: 1, rhs: 2, within: 0.1, why: "test" });
  const saved = process.env.WORKBOOK_STRICT_CHECKS;

  beforeEach(() => {
    shown.length = 0;
    setDisplaySink(capture);
    setStrictChecks(undefined);
    delete process.env.WORKBOOK_STRICT_CHECKS;
  });
  afterEach(() => {
    setDisplaySink(undefined);
    setStrictChecks(undefined);
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
    assert.match(shown[0], /<tr class="fail" data-tag="9\.9"/);
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

describe("test-only fault: a biased analytic KL", () => {
  afterEach(() => setTestKlBias(undefined));

  it("adds its nats to klMvNormal and to what is built on it; off by default", () => {
    const q = MvNormal64.diag([0.3, -0.2], [0.5, 1.4]);
    const p = MvNormal64.standard(2);
    const model = LinearGaussian.random(0, { latentDim: 2, dataDim: 3 });
    const x = [0.1, 0.2, 0.3];
    const before = { kl: klMvNormal(q, p), elbo: model.elbo(x, q), post: model.klToPosterior(x, q) };
    assert.equal(klMvNormal(p, p), 0);
    setTestKlBias(0.05);
    assert.ok(Math.abs(klMvNormal(q, p) - before.kl - 0.05) < 1e-12);
    assert.ok(Math.abs(model.elbo(x, q) - (before.elbo - 0.05)) < 1e-12);
    assert.ok(Math.abs(model.klToPosterior(x, q) - before.post - 0.05) < 1e-12);
    setTestKlBias(undefined);
    assert.equal(klMvNormal(q, p), before.kl);
    assertArgumentError(() => setTestKlBias(NaN), "nats");
  });
});
