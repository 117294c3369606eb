/**
 * The equation ledger: every row passes on the default seed and on several others, and
 * every row can fail — perturbing its left-hand side turns it red.
 */
import { strict as assert } from "node:assert";
import { assertArgumentError } from "./support/assert";
import { LEDGERS, LEDGER_TAGS, formatLedger, ledgerRow, ledgerTags, runLedger } from "../src/ledger";


describe("equation ledger", () => {
  const rows = runLedger();

  it("covers (3.1)–(3.4), (4.1), (5.1)–(5.10) and §6 of part 1, in article order", () => {
    // The article's numbered equations, written out here independently of the ledger's list.
    assert.deepEqual(
      rows.map((r) => r.tag),
      ["3.1", "3.2", "3.3", "3.4", "4.1", "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.9", "5.10", "6"],
    );
    assert.deepEqual(LEDGER_TAGS, rows.map((r) => r.tag));
    assert.ok(rows.every((r) => r.part === 1));
  });

  it("each part's tags are unique within it; rows carry their part, so parts cannot collide", () => {
    for (const [part, ledger] of LEDGERS) {
      const tags = ledgerTags(part);
      assert.equal(new Set(tags).size, tags.length, `part ${part} declares a tag twice`);
      assert.equal(ledger.part, part);
      for (const e of ledger.entries) assert.ok(e.title && e.kind, `part ${part} (${e.tag}) needs a title and a kind`);
    }
    assert.equal(ledgerRow("5.10", { part: 1 }).part, 1);
    assertArgumentError(() => runLedger({ part: 99 }), "part");
  });

  it("every row passes on the default seed", () => {
    for (const r of rows) assert.ok(r.pass, `${r.tag} failed: lhs ${r.lhs}, rhs ${r.rhs}, residual ${r.residual}, ${r.tolerance}`);
  });

  it("exact identities are at float64 precision, Monte Carlo rows state their SE, inequalities show a positive gap", () => {
    for (const r of rows) {
      if (r.kind === "identity") assert.ok(r.residual <= 1e-10, r.tag);
      if (r.kind === "monte-carlo") {
        assert.ok(r.stdError! > 0 && /SE/.test(r.tolerance), r.tag);
      }
      if (r.kind === "inequality") assert.ok(r.residual > 0 && Math.abs(r.residual - (r.lhs - r.rhs)) < 1e-12, r.tag);
    }
    assert.deepEqual(rows.filter((r) => r.kind === "inequality").map((r) => r.tag), ["5.4", "5.5"]);
  });

  it("every row passes on other seeds too", () => {
    for (const seed of [1, 2, 3]) {
      for (const r of runLedger({ seed })) assert.ok(r.pass, `seed ${seed}, ${r.tag}: residual ${r.residual}, ${r.tolerance}`);
    }
  });

  for (const tag of LEDGER_TAGS) {
    it(`(${tag}) turns red when one side is perturbed`, () => {
      const row = ledgerRow(tag);
      // Identities: a 1e-8 relative change is 100× their tolerance. Others: 50% moves a side far outside its SEs or flips the gap.
      const relative = row.kind === "identity" ? 1e-8 : 0.5;
      const bad = ledgerRow(tag, { perturb: { tag, relative } });
      assert.ok(row.pass, `${tag} should pass unperturbed`);
      assert.ok(!bad.pass, `${tag} should fail when perturbed by ${relative}: residual ${bad.residual}, ${bad.tolerance}`);
    });
  }

  it("a perturbation of one tag leaves the other rows alone", () => {
    const perturbed = runLedger({ perturb: { tag: "5.10", relative: 1e-6 } });
    perturbed.forEach((r, i) => {
      if (r.tag === "5.10") assert.ok(!r.pass);
      else assert.equal(r.lhs, rows[i].lhs);
    });
  });

  it("ledgerRow reproduces the row of runLedger; same seed, same numbers", () => {
    const one = ledgerRow("5.3");
    const again = rows.find((r) => r.tag === "5.3")!;
    assert.equal(one.lhs, again.lhs);
    assert.equal(one.rhs, again.rhs);
  });

  it("formatLedger prints every tag, PASS/FAIL and the count", () => {
    const text = formatLedger(rows);
    for (const t of LEDGER_TAGS) assert.match(text, new RegExp(`^${t.replace(".", "\\.")}\\s`, "m"));
    assert.match(text, new RegExp(`^${rows.length}/${rows.length} rows pass$`, "m"));
    const red = formatLedger(runLedger({ tags: ["5.6"], perturb: { tag: "5.6", relative: 1e-6 } }));
    assert.match(red, /FAIL/);
    assert.match(red, /0\/1 rows pass/);
  });

  it("rejects bad input with an ArgumentError naming the argument", () => {
    assertArgumentError(() => ledgerRow("9.9"), "tag");
    assertArgumentError(() => runLedger({ tags: ["3.1", "nope"] }), "tags");
    assertArgumentError(() => runLedger({ perturb: { tag: "nope", relative: 1 } }), "perturb.tag");
    assertArgumentError(() => runLedger({ perturb: { tag: "3.1", relative: NaN } }), "perturb.relative");
    assertArgumentError(() => runLedger({ seed: NaN }), "seed");
    assertArgumentError(() => runLedger({ samples: 10 }), "samples");
    // null used to fail as a TypeError deep inside (issue #16, item 8).
    assertArgumentError(() => runLedger(null as never), "options");
    assertArgumentError(() => runLedger(7 as never), "options");
    assertArgumentError(() => ledgerRow("3.1", null as never), "options");
  });
});
