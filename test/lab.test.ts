/**
 * `npm run lab` serves JupyterLab with the project's tslab kernel: start it on a free
 * loopback port with a token, ask its REST API for kernelspecs, and stop it whatever
 * happens.
 */
import { strict as assert } from "node:assert";
import { startLab } from "../scripts/lab-server";
import { paths } from "../scripts/paths";

describe("npm run lab", function () {
  this.timeout(120 * 1000);
  let lab: Awaited<ReturnType<typeof startLab>> | undefined;
  after(async () => lab?.stop());

  it("serves JupyterLab on loopback with the project's tslab kernel", async () => {
    lab = await startLab();
    const res = await fetch(`${lab.url}/api/kernelspecs?token=${lab.token}`);
    assert.equal(res.status, 200);
    const specs = (await res.json()) as { default: string; kernelspecs: Record<string, { spec: { argv: string[]; language: string } }> };
    assert.ok(specs.kernelspecs.tslab, `kernelspecs: ${Object.keys(specs.kernelspecs).join(", ")}`);
    assert.equal(specs.kernelspecs.tslab.spec.language, "typescript");
    assert.ok(specs.kernelspecs.tslab.spec.argv[0].startsWith(paths.root), "tslab kernel is not the project's own");
    assert.equal(specs.default, "tslab");
    const page = await fetch(`${lab.url}/lab?token=${lab.token}`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /JupyterLab/);
  });

  it("refuses requests without the token", async () => {
    const res = await fetch(`${lab!.url}/api/kernelspecs`);
    assert.equal(res.status, 403);
  });
});
