/**
 * Requests through the real tslab kernel (test/support/tslab_session.py, Jupyter's own
 * client), to compare the browser kernel's answers with tslab's for the same cells.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { jupyterEnv, paths, venvPython } from "../../scripts/paths";

export type TslabRequest =
  | { op: "execute"; code: string }
  | { op: "complete" | "inspect"; code: string; cursor?: number }
  | { op: "is_complete"; code: string };

export interface TslabAnswer {
  // biome-ignore lint/suspicious/noExplicitAny: a Jupyter reply, read field by field as the test needs
  reply: Record<string, any>;
  outputs: { type: string; name?: string; text?: string; [key: string]: unknown }[];
}

/** Runs the requests, in order, in one new tslab kernel started in the notebooks folder. */
export function tslabSession(requests: TslabRequest[]): Promise<TslabAnswer[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tslab-session-"));
  const answers = path.join(dir, "answers.json");
  return new Promise<TslabAnswer[]>((resolve, reject) => {
    const child = spawn(venvPython(), [path.join(__dirname, "tslab_session.py"), paths.notebooks, answers], {
      env: jupyterEnv(),
      stdio: ["pipe", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`tslab session failed (exit ${code}):\n${err.slice(-2000)}`));
      resolve(JSON.parse(fs.readFileSync(answers, "utf8")) as TslabAnswer[]);
    });
    child.stdin.end(JSON.stringify(requests));
  }).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

/** What tslab printed on stderr for an execution, line by line (type errors: `L:C - message`). */
export const stderrLines = (answer: TslabAnswer) =>
  answer.outputs
    .filter((o) => o.type === "stream" && o.name === "stderr")
    .flatMap((o) => String(o.text).split("\n"))
    .filter((l) => l !== "");
