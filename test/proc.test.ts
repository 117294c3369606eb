/**
 * scripts/proc.ts, the one way the scripts run a child process: what it captures, what it
 * logs, and how a failure reads.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run, runAsync, runOrThrow } from "../scripts/proc";

const node = process.execPath;
const script =
  'process.stdout.write("out\\n"); process.stderr.write("err " + process.cwd() + " " + process.env.PROC_TEST + "\\n"); process.exit(Number(process.argv[1]));';

describe("scripts/proc: child processes", () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "proc-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, go] of [
    ["run", run],
    ["runAsync", runAsync],
  ] as const) {
    it(`${name}: stdout, stderr and the exit status, in the given folder and environment; a log of it all`, async () => {
      const log = path.join(dir, "logs", `${name}.log`);
      const ok = await go(node, ["-e", script, "0"], { cwd: dir, env: { ...process.env, PROC_TEST: "x" }, log });
      assert.deepEqual([ok.ok, ok.status, ok.stdout, ok.stderr], [true, 0, "out\n", `err ${fs.realpathSync(dir)} x\n`]);
      assert.equal(fs.readFileSync(log, "utf8"), `$ ${node} -e ${script} 0\n${ok.output}`);
      const failed = await go(node, ["-e", script, "3"], { cwd: dir });
      assert.deepEqual([failed.ok, failed.status], [false, 3]);
      const missing = await go(path.join(dir, "no-such-program"), []);
      assert.equal(missing.ok, false);
      assert.match(missing.output, /ENOENT/);
    });
  }

  it("runOrThrow names the command and shows its last lines", () => {
    assert.equal(runOrThrow(node, ["-e", script, "0"]).stdout, "out\n");
    const many = 'for (let i = 1; i <= 40; i++) console.error("line " + i); process.exit(1);';
    assert.throws(
      () => runOrThrow(node, ["-e", many]),
      (error: Error) => {
        const lines = error.message.split("\n");
        assert.equal(lines[0], `node -e ${many} failed:`);
        assert.deepEqual(
          lines.slice(1),
          Array.from({ length: 25 }, (_, i) => `line ${i + 16}`),
        );
        return true;
      },
    );
  });
});
