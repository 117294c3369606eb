/**
 * Cells run by the real tslab kernel through Jupyter's own client (nbclient), as a
 * notebook of those cells in a scratch folder: what each cell printed. Errors do not stop
 * the run (each cell's error is recorded), so a test can put the same cells through tslab
 * and through the browser kernel and compare what a reader sees.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { jupyterEnv, venvPython } from "../../scripts/paths";

export interface TslabCellOutput {
  stdout: string;
  stderr: string;
  /** "ename: evalue" of an error output (tslab reports compile errors on stderr instead). */
  error: string | null;
}

const runner = `
import json, sys
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, kernel_name="tslab", timeout=300, allow_errors=True, resources={"metadata": {"path": sys.argv[2]}}).execute()
out = []
for cell in nb.cells:
    o = {"stdout": "", "stderr": "", "error": None}
    for x in cell.get("outputs", []):
        if x.output_type == "stream":
            o[x.name] += x.text
        elif x.output_type == "error":
            o["error"] = x.ename + ": " + x.evalue
        elif x.output_type == "execute_result":
            o["stdout"] += x.data.get("text/plain", "") + "\\n"
    out.append(o)
print(json.dumps(out))
`;

export function runWithTslab(cells: string[]): Promise<TslabCellOutput[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tslab-cells-"));
  const notebook = path.join(dir, "cells.ipynb");
  fs.writeFileSync(
    notebook,
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
      cells: cells.map((source, i) => ({ cell_type: "code", id: `c${i}`, metadata: {}, execution_count: null, outputs: [], source })),
    }),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(venvPython(), ["-c", runner, notebook, dir], { env: jupyterEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => {
      fs.rmSync(dir, { recursive: true, force: true });
      const last = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(last) as TslabCellOutput[]);
      } catch {
        reject(new Error(`running the cells with tslab failed (exit ${code}): ${stderr.trim().split("\n").slice(-5).join("\n")}`));
      }
    });
  });
}
