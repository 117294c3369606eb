"""Keep source notebooks clean: no outputs, no execution counts, the same metadata in every one.

  python scripts/nbtool.py clean [NOTEBOOK ...]   clean them in place (`npm run nb:clean`)
  python scripts/nbtool.py check [NOTEBOOK ...]   exit 1 and name each notebook that is not clean

Default: every notebook of notebooks/. Text to and from notebooks is jupytext's job
(`.venv/bin/jupytext`, percent format, configured in pyproject.toml; CONTRIBUTING.md).
"""

import argparse
import glob
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
# What an author may set and the cleaner keeps: a blog post's own front matter, cell tags.
KEEP_NOTEBOOK_METADATA = {"blog"}
KEEP_CELL_METADATA = {"tags"}


def clean(nb):
    kept = {k: v for k, v in nb.metadata.items() if k in KEEP_NOTEBOOK_METADATA}
    nb.metadata = nbformat.NotebookNode({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO, **kept})
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nbtool.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for command, what in (("clean", "clean notebooks in place"), ("check", "exit 1 if any notebook is not clean")):
        sub = commands.add_parser(command, help=what, description=what)
        sub.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="default: every notebook of notebooks/")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(glob.glob(os.path.join(ROOT, "notebooks", "**", "*.ipynb"), recursive=True))

    if args.command == "clean":
        for path in notebooks:
            nb = clean(nbformat.read(path, as_version=4))
            nbformat.validate(nb)
            nbformat.write(nb, path)
        return 0
    bad = 0
    for path in notebooks:
        for problem in problems(nbformat.read(path, as_version=4)):
            print(f"{os.path.relpath(path, ROOT)}: {problem}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
