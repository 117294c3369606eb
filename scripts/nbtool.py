"""Keep source notebooks clean, and write them from a readable text form.

  python scripts/nbtool.py clean [NOTEBOOK ...]      strip outputs and execution counts,
                                                    fix kernelspec/metadata, give cells ids
  python scripts/nbtool.py check [NOTEBOOK ...]      exit 1 if any notebook is not clean
  python scripts/nbtool.py from-text TEXT NOTEBOOK   build a notebook from percent-format text
  python scripts/nbtool.py to-text NOTEBOOK          print a notebook as percent-format text

Percent format (as in jupytext): cells are separated by lines `// %%` (code) or
`// %% [markdown]` (markdown; its lines may start with `// `, which is removed).
Defaults: every notebook in notebooks/. `npm run nb:clean` runs `clean`.
"""
import glob
import json
import os
import re
import sys

import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The metadata every source notebook carries, so that diffs show content only.
KERNELSPEC = {"display_name": "TypeScript", "language": "typescript", "name": "tslab"}
LANGUAGE_INFO = {
    "codemirror_mode": {"mode": "typescript", "name": "javascript", "typescript": True},
    "file_extension": ".ts",
    "mimetype": "text/typescript",
    "name": "typescript",
    "version": "3.7.2",
}
KEEP_CELL_METADATA = {"tags"}


def clean(nb):
    nb.metadata = nbformat.NotebookNode({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    nb.nbformat, nb.nbformat_minor = 4, 5
    used = set()
    for index, cell in enumerate(nb.cells):
        cell.metadata = nbformat.NotebookNode({k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cid = cell.get("id")
        if not cid or cid in used or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cid):
            cid = f"cell-{index:02d}"
            while cid in used:
                cid += "x"
        cell.id = cid
        used.add(cid)
    return nb


def problems(nb):
    found = []
    if nb.metadata.get("kernelspec") != KERNELSPEC:
        found.append("kernelspec is not tslab")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            found.append(f"cell {index} has outputs or an execution count")
        if not cell.get("id"):
            found.append(f"cell {index} has no id")
    return found


def from_text(text):
    cells = []
    kind, lines = None, []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(re.sub(r"^// ?", "", line) for line in body.split("\n"))
            cells.append(nbformat.v4.new_markdown_cell(body))
        elif body.strip():
            cells.append(nbformat.v4.new_code_cell(body))

    for line in text.split("\n"):
        marker = re.fullmatch(r"//\s*%%\s*(\[markdown\])?.*", line.strip())
        if marker:
            flush()
            kind, lines = ("markdown" if marker.group(1) else "code"), []
        else:
            lines.append(line)
    flush()
    # Ids from positions, so rebuilding a notebook from the same text gives the same file.
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index:02d}"
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    return clean(nb)


def to_text(nb):
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append("// %% [markdown]\n" + "\n".join("// " + line if line else "//" for line in cell.source.split("\n")))
        else:
            parts.append("// %%\n" + cell.source)
    return "\n\n".join(parts) + "\n"


def targets(argv):
    return argv or sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "clean":
        for path in targets(rest):
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(clean(nb))
            nbformat.write(nb, path)
        return 0
    if command == "check":
        bad = 0
        for path in targets(rest):
            for problem in problems(nbformat.read(path, as_version=4)):
                print(f"{os.path.relpath(path, ROOT)}: {problem}")
                bad += 1
        return 1 if bad else 0
    if command == "from-text":
        with open(rest[0], encoding="utf-8") as f:
            nb = from_text(f.read())
        nbformat.validate(nb)
        nbformat.write(nb, rest[1])
        return 0
    if command == "to-text":
        sys.stdout.write(to_text(nbformat.read(rest[0], as_version=4)))
        return 0
    print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
