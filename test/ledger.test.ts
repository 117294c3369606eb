/**
 * The equation ledger: every row passes on the default seed and on several others, and
 * every row can fail — moving its left-hand side before the judge sees it turns it red.
 */
import { strict as assert } from "node:assert";
import { check, markShown, unshownChecks } from "../src/judge";
import { formatLedger, LEDGER_TAGS, LEDGERS, type LedgerRow, ledgerRow, ledgerTags, runLedger } from "../src/ledger";
import { PART1_LEDGER } from "../src/ledger/part1";
import { assertArgumentError } from "./support/assert";
import { perturbLeft } from "./support/perturb";

/** Entry `tag` of part 1 judged with its left-hand side moved by `relative`. */
function perturbedRow(tag: string, relative: number): LedgerRow {
  const entry = PART1_LEDGER.entries.find((e) => e.tag === tag)!;
  const sides = perturbLeft(entry.sides(PART1_LEDGER.makeContext({})), relative);
  return Object.assign(check(entry.title, { ...sides, tag }), { kind: entry.kind, part: 1 });
}

describe("equation ledger", () => {
  const rows = runLedger();
  after(() => markShown(unshownChecks()));

  it("covers (3.1)–(3.4), (4.1), (5.1)–(5.10) and §6 of part 1, in article order", () => {
    // The article's numbered equations, written out here independently of the ledger's list.
    assert.deepEqual(
      rows.map((r) => r.tag),
      ["3.1", "3.2", "3.3", "3.4", "4.1", "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.9", "5.10", "6"],
    );
    assert.deepEqual(
      LEDGER_TAGS,
      rows.map((r) => r.tag),
    );
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

  it("identities agree to 1e-10 relative, Monte Carlo rows carry their SE, inequalities show a gap of more than 4 SE", () => {
    for (const r of rows) {
      if (r.kind === "identity") assert.ok(r.rule === "bound" && r.residual <= 1e-10, r.tag);
      if (r.kind === "monte-carlo") assert.ok(r.rule === "standard-errors" && r.stdError! > 0 && /SE/.test(r.tolerance), r.tag);
      if (r.kind === "inequality") assert.ok(r.rule === "exceeds" && r.residual > 4 * r.stdError! && r.residual === r.lhs - r.rhs, r.tag);
    }
    assert.deepEqual(
      rows.filter((r) => r.kind === "inequality").map((r) => r.tag),
      ["5.4", "5.5"],
    );
  });

  it("every row passes on other seeds too", () => {
    for (const seed of [1, 2, 3]) {
      for (const r of runLedger({ seed })) assert.ok(r.pass, `seed ${seed}, ${r.tag}: residual ${r.residual}, ${r.tolerance}`);
    }
  });

  for (const tag of LEDGER_TAGS) {
    it(`(${tag}) turns red when its left-hand side moves`, () => {
      const row = ledgerRow(tag);
      // Identities: a 1e-8 relative change is 100× their tolerance. Others: 50% moves a side far outside its SEs or flips the gap.
      const relative = row.kind === "identity" ? 1e-8 : 0.5;
      const unmoved = perturbedRow(tag, 0);
      assert.deepEqual([unmoved.lhs, unmoved.rhs, unmoved.pass], [row.lhs, row.rhs, true], `${tag}: the seam itself changes nothing`);
      const bad = perturbedRow(tag, relative);
      assert.ok(!bad.pass, `${tag} should fail when its left side moves by ${relative}: residual ${bad.residual}, ${bad.tolerance}`);
    });
  }

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
    const red = formatLedger([perturbedRow("5.6", 1e-6)]);
    assert.match(red, /FAIL/);
    assert.match(red, /0\/1 rows pass/);
  });

  it("rejects bad input with an ArgumentError naming the argument", () => {
    assertArgumentError(() => ledgerRow("9.9"), "tag");
    assertArgumentError(() => runLedger({ tags: ["3.1", "nope"] }), "tags");
    assertArgumentError(() => runLedger({ seed: NaN }), "seed");
    assertArgumentError(() => runLedger({ samples: 10 }), "samples");
    assertArgumentError(() => runLedger({ perturb: { tag: "3.1", relative: 1 } } as never), "options.perturb");
    assertArgumentError(() => runLedger(null as never), "options");
    assertArgumentError(() => runLedger(7 as never), "options");
    assertArgumentError(() => ledgerRow("3.1", null as never), "options");
  });
});
