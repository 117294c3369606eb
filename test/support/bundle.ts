/**
 * Loads a module of the browser side (src/browser) into the test process the way the site
 * ships it: bundled by esbuild (its dependencies periscopic, estree-walker … are ES modules
 * that plain `require` cannot load).
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as esbuild from "esbuild";

export function loadBundled<T>(entry: string): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vae-bundle-"));
  const outfile = path.join(dir, `${path.basename(entry, ".ts")}.cjs`);
  esbuild.buildSync({ entryPoints: [entry], outfile, bundle: true, platform: "node", format: "cjs", target: "node20", logLevel: "error" });
  try {
    return require(outfile) as T;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
