/**
 * Source notebooks are committed clean: valid nbformat, no outputs or execution
 * counts, the tslab kernelspec, and cell ids. Checked by nbformat itself (Python),
 * and independently here by reading the JSON. And CONTRIBUTING.md's text round trip
 * (jupytext) gives a notebook back as it was, with an edit landing in its cell only.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { paths, venvBin, venvPython } from "../scripts/paths";
import { listNotebooks } from "../scripts/workbook";

describe("source notebooks are clean", () => {
  const notebooks = listNotebooks();

  it("there are notebooks, numbered in reading order", () => {
    assert.ok(notebooks.length > 0, "no notebooks in notebooks/");
    for (const file of notebooks) assert.match(path.basename(file), /^\d\d-[a-z0-9-]+\.ipynb$/);
  });

  it("validate against the nbformat schema", () => {
    const script = "import sys, nbformat\nfor f in sys.argv[1:]: nbformat.validate(nbformat.read(f, as_version=4))";
    const result = spawnSync(venvPython(), ["-c", script, ...notebooks], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
  });

  for (const file of notebooks) {
    it(`${path.basename(file)}: no outputs, tslab kernel, unique cell ids`, () => {
      const nb = JSON.parse(fs.readFileSync(file, "utf8"));
      assert.equal(nb.nbformat, 4);
      assert.ok(nb.nbformat_minor >= 5, "cell ids need nbformat 4.5");
      assert.deepEqual(nb.metadata.kernelspec, { display_name: "TypeScript", language: "typescript", name: "tslab" });
      const ids = new Set<string>();
      nb.cells.forEach(
        (
          cell: {
            id: unknown;
            cell_type: string;
            outputs?: unknown[];
            execution_count?: unknown;
            metadata?: Record<string, unknown>;
            source: string | string[];
          },
          i: number,
        ) => {
          assert.ok(typeof cell.id === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(cell.id), `cell ${i}: bad id`);
          assert.ok(!ids.has(cell.id), `cell ${i}: duplicate id ${cell.id}`);
          ids.add(cell.id);
          if (cell.cell_type === "code") {
            assert.deepEqual(cell.outputs, [], `cell ${i} has outputs`);
            assert.equal(cell.execution_count, null, `cell ${i} has an execution count`);
          }
        },
      );
      const text = fs.readFileSync(file, "utf8");
      assert.ok(!text.includes(paths.root), "notebook mentions this machine's absolute path");
    });
  }

  it("the project's cleaner agrees (scripts/nbtool.py check)", () => {
    const result = spawnSync(venvPython(), [path.join(paths.scripts, "nbtool.py"), "check"], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it("jupytext's text round trip gives each notebook back unchanged and clean; an edit lands in its own cell", function () {
    this.timeout(60_000);
    // Under the project, as CONTRIBUTING.md's recipe works (in build/), so pyproject.toml's settings apply.
    fs.mkdirSync(paths.build, { recursive: true });
    const dir = fs.mkdtempSync(path.join(paths.build, "round-trip-"));
    try {
      const copies = notebooks.map((f) => path.join(dir, path.basename(f)));
      for (const [i, f] of notebooks.entries()) fs.copyFileSync(f, copies[i]);
      const jupytext = (...argv: string[]) => {
        const result = spawnSync(venvBin("jupytext"), argv, { cwd: paths.root, encoding: "utf8" });
        assert.equal(result.status, 0, result.stderr);
      };
      jupytext("--to", "ts:percent", ...copies);
      const texts = copies.map((f) => f.replace(/\.ipynb$/, ".ts"));
      // An edit to the first notebook's first Markdown cell, as an author makes it in the text.
      const first = fs.readFileSync(texts[0], "utf8");
      const heading = /^\/\/ # (.+)$/m.exec(first)!;
      fs.writeFileSync(texts[0], first.replace(heading[0], `${heading[0]} (edited)`));
      jupytext("--update", "--to", "ipynb", ...texts);
      for (const [i, f] of notebooks.entries()) {
        if (i > 0) assert.equal(fs.readFileSync(copies[i], "utf8"), fs.readFileSync(f, "utf8"), `${path.basename(f)} changed in the round trip`);
      }
      const before = JSON.parse(fs.readFileSync(notebooks[0], "utf8"));
      const after = JSON.parse(fs.readFileSync(copies[0], "utf8"));
      const edited = before.cells.findIndex((c: { source: string[] }) => c.source.join("").includes(heading[1]));
      before.cells[edited].source[0] = before.cells[edited].source[0].replace(heading[1], `${heading[1]} (edited)`);
      assert.deepEqual(after, before, "the edit did not land in its cell alone");
      const check = spawnSync(venvPython(), [path.join(paths.scripts, "nbtool.py"), "check", ...copies], { encoding: "utf8" });
      assert.equal(check.status, 0, check.stdout);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
