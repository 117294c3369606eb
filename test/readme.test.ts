/**
 * The series configuration and what derives from the ledger's one list: the README's
 * ledger table is generated from src/ledger (npm run readme), the index page lists parts
 * from notebooks/series.json, and the configuration names folders that exist.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { LEDGERS, runLedger } from "../src/ledger";
import { paths } from "../scripts/paths";
import { renderIndex } from "../scripts/publish";
import { README, ledgerTables, updatedReadme } from "../scripts/readme";
import { loadSeries, outputStem, partNotebooks, partOf } from "../scripts/series";
import { listNotebooks } from "../scripts/workbook";

describe("the series configuration and what derives from the ledger", () => {
  const series = loadSeries();

  it("the README's ledger table is the ledger's list (run `npm run readme` after changing it)", () => {
    const text = fs.readFileSync(README, "utf8");
    assert.equal(text, updatedReadme(text), "README.md's ledger section is out of date: run npm run readme");
    for (const [, ledger] of LEDGERS) for (const e of ledger.entries) assert.ok(ledgerTables().includes(`| (${e.tag}) |`));
  });

  it("every part names a folder of notebooks; every ledger belongs to a part", () => {
    for (const part of series.parts) {
      assert.ok(fs.existsSync(path.join(paths.notebooks, part.notebooks)), `part ${part.part}: no folder notebooks/${part.notebooks}`);
      assert.ok(partNotebooks(part).length > 0, `part ${part.part} has no notebooks`);
    }
    for (const part of LEDGERS.keys()) assert.ok(series.parts.some((p) => p.part === part), `ledger part ${part} is not in series.json`);
    assert.deepEqual(listNotebooks(), series.parts.flatMap(partNotebooks));
    for (const nb of listNotebooks()) assert.equal(partOf(nb, series).part, 1);
  });

  it("outputs of a part outside notebooks/ itself are prefixed by its folder, so parts cannot collide", () => {
    const two = { ...series, parts: [...series.parts, { ...series.parts[0], part: 2, title: "第二篇", notebooks: "part2" }] };
    assert.equal(outputStem(path.join(paths.notebooks, "01-a.ipynb"), two), "01-a");
    assert.equal(outputStem(path.join(paths.notebooks, "part2", "01-a.ipynb"), two), "part2-01-a");
    assert.throws(() => partOf(path.join(paths.notebooks, "elsewhere", "01-a.ipynb"), two), /no part of .*series\.json/);
  });

  it("the index page lists each part in order, with its notebooks and its ledger", () => {
    const rows = runLedger({ tags: ["5.10"] });
    const parts = [series.parts[0], { ...series.parts[0], part: 2, title: "生成模型系列（二）：下一篇", notebooks: "part2" }];
    const html = renderIndex(
      [
        { part: parts[0], entries: [{ name: "01-x", title: "笔记一", href: "01-x.html" }], rows },
        { part: parts[1], entries: [{ name: "part2-01-y", title: "笔记二", href: null }], rows: [] },
      ],
      series.name,
    );
    const first = html.indexOf(parts[0].title);
    const second = html.indexOf("生成模型系列（二）：下一篇");
    assert.ok(first > 0 && second > first, "parts are not listed in order");
    assert.equal((html.match(/<table class="ledger">/g) ?? []).length, 1, "a part without a ledger shows none");
    assert.match(html, /<td class="tag">\(5\.10\)<\/td>/);
  });

  it("rejects a broken configuration with a message naming the field", () => {
    const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "series-"));
    try {
      const file = path.join(dir, "series.json");
      fs.writeFileSync(file, JSON.stringify({ ...series, parts: [{ ...series.parts[0], title: "" }] }));
      assert.throws(() => loadSeries(file), /parts\[0\]\.title must be a non-empty string/);
      fs.writeFileSync(file, "{");
      assert.throws(() => loadSeries(file), /series\.json: /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
