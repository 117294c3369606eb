/**
 * The series configuration and what derives from the ledger's one list: the ledger table
 * in docs/library.md is generated from src/ledger (npm run readme), the index page lists
 * parts from notebooks/series.json, and the configuration names folders that exist. And
 * the README and docs/ hold together: every relative link and anchor resolves.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { paths } from "../scripts/paths";
import { publication, renderIndex } from "../scripts/publish";
import { LEDGER_PAGE, ledgerTables, updatedLedgerPage } from "../scripts/readme";
import { loadSeries, outputStem, partNotebooks, partOf } from "../scripts/series";
import { listNotebooks } from "../scripts/workbook";
import { LEDGERS, runLedger } from "../src/ledger";

describe("the series configuration and what derives from the ledger", () => {
  const series = loadSeries();

  it("the ledger table in docs/library.md is the ledger's list (run `npm run readme` after changing it)", () => {
    const text = fs.readFileSync(LEDGER_PAGE, "utf8");
    assert.equal(text, updatedLedgerPage(text), "docs/library.md's ledger section is out of date: run npm run readme");
    for (const [, ledger] of LEDGERS) for (const e of ledger.entries) assert.ok(ledgerTables().includes(`| (${e.tag}) |`));
  });

  it("every part names a folder of notebooks; every ledger belongs to a part", () => {
    for (const part of series.parts) {
      assert.ok(fs.existsSync(path.join(paths.notebooks, part.notebooks)), `part ${part.part}: no folder notebooks/${part.notebooks}`);
      assert.ok(partNotebooks(part).length > 0, `part ${part.part} has no notebooks`);
    }
    for (const part of LEDGERS.keys())
      assert.ok(
        series.parts.some((p) => p.part === part),
        `ledger part ${part} is not in series.json`,
      );
    assert.deepEqual(listNotebooks(), series.parts.flatMap(partNotebooks));
    for (const nb of listNotebooks()) assert.equal(partOf(nb, series).part, 1);
  });

  it("outputs of a part outside notebooks/ itself are prefixed by its folder, so parts cannot collide", () => {
    const two = { ...series, parts: [...series.parts, { ...series.parts[0], part: 2, title: "第二篇", notebooks: "part2" }] };
    assert.equal(outputStem(path.join(paths.notebooks, "01-a.ipynb"), two), "01-a");
    assert.equal(outputStem(path.join(paths.notebooks, "part2", "01-a.ipynb"), two), "part2-01-a");
    assert.throws(() => partOf(path.join(paths.notebooks, "elsewhere", "01-a.ipynb"), two), /no part of .*series\.json/);
  });

  it("a notebook's publication: its output name, titles, front matter and browser link, from its part", () => {
    const two = { ...series, parts: [...series.parts, { ...series.parts[0], part: 2, title: "第二篇", tags: ["甲"], notebooks: "part2" }] };
    // A notebook that does not exist yet has its file name as its title.
    const pub = publication(path.join(paths.notebooks, "part2", "01-a b.ipynb"), two);
    assert.deepEqual(pub, {
      name: "part2-01-a b",
      source: "part2/01-a b.ipynb",
      part: 2,
      partTitle: "第二篇",
      title: "01-a b",
      runInBrowser: { href: "../lite/lab/index.html?path=part2/01-a%20b.ipynb", label: "在浏览器中运行 / Run in your browser" },
      post: { title: "第二篇 · 笔记 01-a b", categories: series.parts[0].categories, tags: ["甲", ...series.notebookTags] },
    });
    const [first] = listNotebooks();
    assert.match(publication(first).title, /^01 · /, "the title is the notebook's first heading");
    const saved = process.env.WORKBOOK_LITE_URL;
    process.env.WORKBOOK_LITE_URL = "https://example.org/workbook";
    try {
      assert.equal(publication(first).runInBrowser.href, `https://example.org/workbook/lab/index.html?path=${path.basename(first)}`);
    } finally {
      if (saved === undefined) delete process.env.WORKBOOK_LITE_URL;
      else process.env.WORKBOOK_LITE_URL = saved;
    }
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

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}_\- ]/gu, "")
    .replace(/ /g, "-");
}

/** Markdown without its fenced code blocks and, unless asked to keep it, its inline code: neither holds a link. */
function withoutCode(text: string, inline = true): string {
  const unfenced = text.replace(/^```[\s\S]*?^```/gm, "");
  return inline ? unfenced.replace(/`[^`\n]*`/g, "") : unfenced;
}

function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutCode(fs.readFileSync(file, "utf8"), false).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(m[1].replace(/`/g, ""));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

describe("the README and docs/ hold together", () => {
  const docs = fs
    .readdirSync(path.join(paths.root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => path.join(paths.root, "docs", f));
  const readme = path.join(paths.root, "README.md");
  const pages = [readme, path.join(paths.root, "CONTRIBUTING.md"), ...docs];

  it("the headings' anchors are computed as GitHub does", () => {
    assert.equal(slug("Native TensorFlow (optional): npm run setup:native"), "native-tensorflow-optional-npm-run-setupnative");
    assert.equal(slug("Where the trainer's speed comes from"), "where-the-trainers-speed-comes-from");
    assert.equal(slug("In the reader's browser: the JupyterLite edition"), "in-the-readers-browser-the-jupyterlite-edition");
  });

  for (const page of pages) {
    it(`${path.relative(paths.root, page)}: every relative link names a file that exists, and a heading there`, () => {
      const broken: string[] = [];
      for (const m of withoutCode(fs.readFileSync(page, "utf8")).matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1];
        if (/^[a-z]+:/i.test(link)) continue; // https:, mailto:
        const [file, anchor] = link.split("#");
        const target = file ? path.resolve(path.dirname(page), decodeURI(file)) : page;
        if (!fs.existsSync(target)) broken.push(`${link}: no file ${path.relative(paths.root, target)}`);
        else if (anchor !== undefined && !anchors(target).has(anchor)) broken.push(`${link}: no heading #${anchor}`);
      }
      assert.deepEqual(broken, []);
    });
  }

  it("the README keeps the two lines and links every page of docs/", () => {
    const text = fs.readFileSync(readme, "utf8");
    assert.match(text, /^npm ci && npm start +#/m);
    assert.match(text, /^npm test +#/m);
    for (const doc of docs) assert.ok(text.includes(`](docs/${path.basename(doc)})`), `README.md does not link docs/${path.basename(doc)}`);
  });
});
