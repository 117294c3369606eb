/**
 * `npm run setup` when the Python package index cannot be reached: one clear message
 * naming the command to re-run, no pip traceback, and no half-made environment left
 * behind for the next run to mistake for a good one.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { paths } from "../scripts/paths";

describe("setup without the package index", function () {
  this.timeout(180 * 1000);
  const venv = path.join(os.tmpdir(), `workbook-venv-${process.pid}`);
  after(() => fs.rmSync(venv, { recursive: true, force: true }));

  it("stops with one clear message and removes the half-made environment", () => {
    const result = spawnSync(process.execPath, [require.resolve("tsx/cli"), path.join(paths.scripts, "setup.ts")], {
      cwd: paths.root,
      encoding: "utf8",
      env: {
        ...process.env,
        VAE_VENV: venv,
        // A closed loopback port as the only index, and no pip configuration files.
        PIP_CONFIG_FILE: os.devNull,
        PIP_INDEX_URL: "http://127.0.0.1:9/simple",
        PIP_EXTRA_INDEX_URL: "",
        PIP_FIND_LINKS: "",
        PIP_NO_INDEX: "",
      },
    });
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /the Python package index could not be reached/);
    assert.match(result.stderr, /npm run setup/);
    assert.doesNotMatch(result.stdout + result.stderr, /Traceback|pip\._internal/);
    assert.equal(result.stderr.trim().split("\n").length, 2, `expected a two-line message:\n${result.stderr}`);
    assert.ok(!fs.existsSync(venv), "the half-made environment was left behind");
  });
});
