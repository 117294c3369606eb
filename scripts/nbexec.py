"""Execute one notebook with Jupyter's own client (nbclient) and export it.

Called by scripts/workbook.ts, one process per notebook; prints one JSON object on
its last stdout line:
  {"ok": bool, "seconds": float, "cells": int, "executed": path, "html": path|null,
   "rows": {"pass": checked rows shown passing, "fail": failing},
   "error": {"cell": code cell number (from 1, as a reader counts) | null, "id": cell id,
             "ename": ..., "evalue": ..., "source": the cell's first line} | null}

A notebook fails on the first of: an error output; a failing checked row (a claim or an
equation of the ledger) in an output — `show.ledger` sends its rows as JSON in the
output's metadata (src/judge.ts, CHECKS_METADATA); in strict mode, the default, the cell
has also thrown ClaimFailedError, whose error output is reported instead — this catches a
row shown after `setStrictChecks(false)`; a report by tslab of an exception thrown outside
a cell's own flow (`UncaughtException: ...`, `UnhandledPromiseRejection: ...`, e.g. from a
timer), which tslab writes to the stderr stream of the last cell that ran — read from the
kernel's messages even when it comes after that cell finished (a short settling cell after
the last one keeps listening a moment); a kernel that dies or times out (named with the
cell that was running, and the last lines the kernel wrote to its own stderr); a code cell
that did not run (e.g. tagged skip-execution); a checked row that was built but never shown
(the settling cell asks the judge's registry); a file that is not a notebook; a failed
export.

The source notebook is only read; the executed copy is written to --out-dir and
signed (so JupyterLab trusts its SVG and HTML outputs), the HTML page to --html-dir unless
the notebook failed (the last good page stays). --publication (JSON, from
scripts/publish.ts) names the outputs and says what the page and post show; the executed
copy keeps it in its metadata ("workbook") for the exporter.
"""

import argparse
import json
import os
import re
import tempfile
import time

import fast_imports  # noqa: F401  (before nbformat: see the module)
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async
from nbformat.sign import NotebookNotary

# What tslab's kernel prints to the current cell's stderr for an exception that escaped
# the cell's promise: see tslab/dist/main.js.
LATE_ERROR = re.compile(r"^(UncaughtException|UnhandledPromiseRejection):\s*(.*)$")
# Run after the last cell and removed from the executed copy: timers and rejections due
# within it report into its output instead of being lost at kernel shutdown. Then it prints
# the checked rows that were built but never shown, from the judge's registry (src/judge.ts),
# which the library publishes on a global so that nothing needs importing here.
SETTLE_ID = "workbook-settle"
CHECKS_METADATA = "vae-workbook/checks"
UNSHOWN_MARKER = "workbook-unshown-checks:"
SETTLE_SOURCE = (
    "await new Promise((resolve) => setTimeout(resolve, 50));\n"
    f'console.log("{UNSHOWN_MARKER}" + JSON.stringify((globalThis as any)[Symbol.for("{CHECKS_METADATA}")]?.unshown() ?? []));'
)


class NotebookReadError(Exception):
    pass


def read_notebook(path):
    """The notebook, or a NotebookReadError whose one-line message names the file and what is wrong."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookReadError(f"{path} cannot be read: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        what = "the file is empty" if not text.strip() else f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise NotebookReadError(f"{path} is not a notebook: not valid JSON ({what})") from exc
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds for a malformed notebook
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookReadError(f"{path} is not a valid notebook: {first}") from exc
    return nb


def code_cell_number(nb, index):
    """A cell's number among the code cells, from 1, as a reader counts them."""
    return sum(1 for c in nb.cells[: index + 1] if c.cell_type == "code")


def cell_error(nb, index, ename, evalue):
    if index is None:
        return {"cell": None, "id": None, "ename": ename, "evalue": evalue, "source": ""}
    cell = nb.cells[index]
    source = cell.source.strip().splitlines()
    return {
        "cell": code_cell_number(nb, index),
        "id": cell.get("id"),
        "ename": ename,
        "evalue": evalue,
        "source": source[0] if source else "",
    }


def late_error(text):
    """(ename, evalue) of the first exception tslab reports in `text`, or None."""
    for line in text.splitlines():
        match = LATE_ERROR.match(line)
        if match:
            return match.group(1), match.group(2).strip()
    return None


def claim_error(text):
    """The message of a ClaimFailedError in a stderr text, or None."""
    match = re.search(r"^ClaimFailedError: (.*)$", text, re.M)
    return match.group(1).strip() if match else None


def failed_claims(output):
    """The claims of the failing rows an output shows, as "(tag) claim", from the rows in its metadata."""
    rows = output.get("metadata", {}).get(CHECKS_METADATA, [])
    return [f"({row.get('tag')}) {row.get('title')}" for row in rows if row.get("pass") is not True]


def unshown_checks(cell):
    """The rows the settling cell reports as built but never shown, or None if it reported nothing."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            for line in output.get("text", "").splitlines():
                if line.startswith(UNSHOWN_MARKER):
                    return json.loads(line[len(UNSHOWN_MARKER) :])
    return None


def unshown_error(rows):
    described = [f"({row.get('tag')}) {row.get('title')} ({'passes' if row.get('pass') is True else 'fails'})" for row in rows]
    return {"cell": None, "id": None, "ename": "UnshownCheckError", "evalue": f"checked but never shown with show.ledger: {'; '.join(described)}", "source": ""}


def not_run(nb):
    """The first code cell with something to run that has no execution count, as an error."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.source.strip() and cell.get("execution_count") is None:
            tags = cell.get("metadata", {}).get("tags", [])
            why = " (it is tagged skip-execution)" if "skip-execution" in tags else ""
            return cell_error(nb, index, "CellNotRunError", f"this code cell did not run{why}")
    return None


def shown_rows(nb):
    """How many checked rows (claims, ledger rows) the outputs show, passing and failing, from the rows in their metadata."""
    counts = {"pass": 0, "fail": 0}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") in ("display_data", "execute_result"):
                for row in output.get("metadata", {}).get(CHECKS_METADATA, []):
                    counts["pass" if row.get("pass") is True else "fail"] += 1
    return counts


def first_error(nb):
    """The first error output, exception reported on a cell's stderr, or failing checked row, in reading order.

    Within a cell an error output comes first: a strict cell shows its failing rows, then
    throws ClaimFailedError with the full message."""
    for index, cell in enumerate(nb.cells):
        failed, thrown = [], None
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return cell_error(nb, index, output.get("ename", ""), output.get("evalue", ""))
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                late = late_error(output.get("text", ""))
                if late:
                    return cell_error(nb, index, *late)
                # tslab writes a thrown error's stack to stderr (the reply carries no message).
                thrown = thrown or claim_error(output.get("text", ""))
            if output.get("output_type") in ("display_data", "execute_result", "update_display_data"):
                failed += failed_claims(output)
        if thrown or failed:
            return cell_error(nb, index, "ClaimFailedError", thrown or "; ".join(f"{claim} does not hold (shown as ✘ FAIL)" for claim in failed))
    return None


def last_executed(nb):
    executed = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is not None]
    return executed[-1] if executed else None


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


def kernel_stderr_tail(text, lines=3):
    tail = [line for line in text.splitlines() if line.strip()][-lines:]
    return "; ".join(tail)


class LateErrorWatch:
    """Reads every message on the kernel's output channel for tslab's late-exception reports.

    nbclient keeps only the messages of the cell it is running; a report that tslab sends
    on behalf of a cell that has already finished is skipped there. This sees it, and the
    cell it belongs to (the execute request it answers)."""

    def __init__(self):
        self.cell_of_request = {}
        self.reports = []  # (request msg_id, ename, evalue, text)

    def on_cell_executed(self, cell, cell_index, execute_reply, **_):
        self.cell_of_request[execute_reply["parent_header"].get("msg_id")] = cell_index

    def attach(self, client):
        channel = client.kc.iopub_channel
        get_msg = channel.get_msg

        async def watched_get_msg(*args, **kwargs):
            msg = await ensure_async(get_msg(*args, **kwargs))
            content = msg.get("content", {})
            if msg.get("msg_type") == "stream" and content.get("name") == "stderr":
                late = late_error(content.get("text", ""))
                if late:
                    self.reports.append((msg["parent_header"].get("msg_id"), *late, content["text"]))
            return msg

        channel.get_msg = watched_get_msg

    def first(self, nb):
        """The earliest cell's report, after adding every report to its cell's outputs (as JupyterLab shows them)."""
        found = []
        for request, ename, evalue, text in self.reports:
            index = self.cell_of_request.get(request)
            if index is not None:
                nb.cells[index].outputs.append(nbformat.v4.new_output("stream", name="stderr", text=text))
                found.append((index, ename, evalue))
        return cell_error(nb, *min(found)) if found else None


def earliest(nb, *errors):
    """The error of the earliest cell (cell-less errors last)."""
    errors = [e for e in errors if e]
    order = {c.get("id"): i for i, c in enumerate(nb.cells)}
    return min(errors, key=lambda e: order.get(e["id"], len(nb.cells))) if errors else None


def execute(nb, notebook_path, timeout):
    """Runs every cell, then the settling cell; returns (error or None, seconds)."""
    kernel = nb.metadata.get("kernelspec", {}).get("name", "tslab")
    running = {"index": None}
    watch = LateErrorWatch()

    def on_cell_start(cell, cell_index, **_):
        running["index"] = cell_index

    settle = nbformat.v4.new_code_cell(SETTLE_SOURCE, id=SETTLE_ID)
    nb.cells.append(settle)
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        on_cell_start=on_cell_start,
        on_cell_executed=watch.on_cell_executed,
        # The kernel runs in the notebook's own folder, as in JupyterLab.
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(notebook_path))}},
    )
    client.on_notebook_start = lambda **_: watch.attach(client)
    started = time.time()
    error = None
    # The kernel's own stderr (fd 2): where a dying kernel's last words go (V8's fatal errors).
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as kernel_log:
        try:
            client.execute(stderr=kernel_log)
        except CellExecutionError as exc:
            # tslab reports a failing cell through its execute reply (the traceback goes to
            # stderr), so the failing cell is the last one that was executed.
            error = first_error(nb) or cell_error(nb, last_executed(nb), *summarize_stderr(str(exc)))
        except CellTimeoutError as exc:
            error = cell_error(nb, running["index"], "CellTimeoutError", str(exc).splitlines()[0])
        except DeadKernelError:
            kernel_log.seek(0)
            said = kernel_stderr_tail(kernel_log.read())
            error = cell_error(nb, running["index"], "DeadKernelError", "the kernel died while this cell ran" + (f" (it said: {said})" if said else ""))
    seconds = time.time() - started
    # nbclient stops at the first failing cell; a cell may also print an error output
    # without failing the execute reply, so look again, and at the reports nbclient skipped.
    error = error or earliest(nb, first_error(nb), watch.first(nb))
    unshown = unshown_checks(settle)
    nb.cells.remove(settle)
    # A run that got through every cell: each code cell ran, and every checked row was shown.
    if not error:
        error = not_run(nb) or (unshown_error(unshown) if unshown else None)
    if error and error["id"] == SETTLE_ID:
        # Due after the last cell had finished: reported with that cell.
        error = cell_error(nb, last_executed(nb), error["ename"], f"{error['evalue']} (after this last cell had finished)")
    return error, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--html-dir")
    parser.add_argument("--publication", type=json.loads, default={}, help="JSON: the notebook's output name, titles and links")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args()

    def report(ok, seconds, cells, executed, html, error, rows=None):
        rows = rows or {"pass": 0, "fail": 0}
        print(json.dumps({"ok": ok, "seconds": round(seconds, 2), "cells": cells, "executed": executed, "html": html, "rows": rows, "error": error}))

    name = args.publication.get("name") or os.path.splitext(os.path.basename(args.notebook))[0]
    try:
        nb = read_notebook(args.notebook)
    except NotebookReadError as exc:
        report(False, 0, 0, "", None, cell_error(None, None, "NotebookReadError", str(exc)))
        return

    error, seconds = execute(nb, args.notebook, args.timeout)

    os.makedirs(args.out_dir, exist_ok=True)
    executed = os.path.join(args.out_dir, name + ".ipynb")
    nb.metadata["workbook"] = {**args.publication, "seconds": round(seconds, 2)}
    NotebookNotary().sign(nb)
    nbformat.write(nb, executed)

    html = None
    if args.html_dir and error is None:
        from export_html import export_notebook  # noqa: E402  (sibling module)

        try:
            html = export_notebook(nb, name, args.html_dir)
        except Exception as exc:  # the run's result stands; the export failure is named, not a traceback
            error = cell_error(nb, None, "ExportError", f"{executed} could not be exported to HTML: {type(exc).__name__}: {exc}".splitlines()[0])

    report(error is None, seconds, len(nb.cells), executed, html, error, shown_rows(nb))


if __name__ == "__main__":
    main()
