"""Execute one notebook with Jupyter's own client (nbclient) and export it.

Called by scripts/workbook.ts, one process per notebook; prints one JSON object on
its last stdout line:
  {"ok": bool, "seconds": float, "cells": int, "executed": path, "html": path|null,
   "error": {"cell": index, "id": cell id, "ename": ..., "evalue": ..., "source": first line} | null}

The source notebook is only read; the executed copy is written to --out-dir and
signed (so JupyterLab trusts its SVG and HTML outputs), the HTML page to --html-dir.
"""
import argparse
import json
import os
import re
import sys
import time

import fast_imports  # noqa: F401  (before nbformat: see the module)
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError, CellTimeoutError
from nbformat.sign import NotebookNotary


def first_error(nb):
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                source = cell.source.strip().splitlines()
                return {
                    "cell": index,
                    "id": cell.get("id"),
                    "ename": output.get("ename", ""),
                    "evalue": output.get("evalue", ""),
                    "source": source[0] if source else "",
                }
    return None


def last_executed_error(nb, exc):
    executed = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is not None]
    index = executed[-1] if executed else None
    source = nb.cells[index].source.strip().splitlines() if index is not None else []
    ename, evalue = summarize_stderr(str(exc))
    return {
        "cell": index,
        "id": nb.cells[index].get("id") if index is not None else None,
        "ename": ename,
        "evalue": evalue,
        "source": source[0] if source else "",
    }


def summarize_stderr(message):
    """The useful lines of tslab's report: the compile diagnostics, or the thrown error."""
    stderr = message.split("----- stderr -----", 1)[-1].rsplit("------------------", 1)[0].strip()
    lines = [line for line in stderr.splitlines() if line.strip()]
    diagnostics = [line for line in lines if re.match(r"^\d+:\d+ - ", line)]
    if diagnostics:
        return "TypeScript compile error", "\n".join(diagnostics)
    for line in lines:
        match = re.match(r"^(\w*(?:Error|Exception)\w*):\s*(.*)$", line)
        if match:
            return match.group(1), match.group(2)
    return "Error", "\n".join(lines[:8])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebook")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--html-dir")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args()

    name = os.path.basename(args.notebook)
    nb = nbformat.read(args.notebook, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "tslab")
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=args.timeout,
        # The kernel runs in the notebook's own folder, as in JupyterLab.
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
    )
    started = time.time()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        # tslab reports a failing cell through its execute reply (the traceback goes to
        # stderr), so the failing cell is the last one that was executed.
        error = first_error(nb) or last_executed_error(nb, exc)
    except CellTimeoutError as exc:
        error = {"cell": None, "id": None, "ename": "CellTimeoutError", "evalue": str(exc).splitlines()[0], "source": ""}
    except DeadKernelError as exc:
        error = {"cell": None, "id": None, "ename": "DeadKernelError", "evalue": str(exc), "source": ""}
    seconds = time.time() - started
    # nbclient stops at the first failing cell; a cell may also print an error output
    # without failing the execute reply, so look again.
    error = error or first_error(nb)

    os.makedirs(args.out_dir, exist_ok=True)
    executed = os.path.join(args.out_dir, name)
    nb.metadata.setdefault("workbook", {})["seconds"] = round(seconds, 2)
    NotebookNotary().sign(nb)
    nbformat.write(nb, executed)

    html = None
    if args.html_dir:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from export_html import export_notebook  # noqa: E402  (sibling module)

        html = export_notebook(nb, name, args.html_dir)

    print(json.dumps({
        "ok": error is None,
        "seconds": round(seconds, 2),
        "cells": len(nb.cells),
        "executed": executed,
        "html": html,
        "error": error,
    }))


if __name__ == "__main__":
    main()
