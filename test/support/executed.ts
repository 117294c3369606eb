/**
 * Each notebook executed once per test run by real Jupyter with the real tslab kernel
 * (scripts/workbook.ts executeNotebook), shared by the tests that need it: the notebooks
 * test checks the run itself, the browser edition's test compares its numbers with it.
 */
import { executeNotebook, type NotebookResult } from "../../scripts/workbook";

const runs = new Map<string, Promise<NotebookResult>>();

export function executedByTslab(notebook: string): Promise<NotebookResult> {
  let run = runs.get(notebook);
  if (!run) {
    run = executeNotebook(notebook);
    runs.set(notebook, run);
  }
  return run;
}
