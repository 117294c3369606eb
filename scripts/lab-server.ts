/** Starting `npm run lab`'s server for tests and the bench: a free loopback port, a token, a clean stop. */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { paths } from "./paths";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/**
 * A JupyterLab profile of its own in a temporary folder, so a scripted session leaves the
 * reader's alone and never writes to notebooks/: user settings with autosave off, no news,
 * every cell attached to the page; workspaces there; checkpoints there (JupyterLab writes
 * one beside a notebook it opens). Returns the environment for the server and the folder.
 */
function isolatedProfile(): { env: NodeJS.ProcessEnv; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workbook-lab-"));
  const put = (plugin: string, value: object) => {
    const [pkg, name] = plugin.split(":");
    const file = path.join(dir, "settings", pkg, `${name}.jupyterlab-settings`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(value));
  };
  put("@jupyterlab/docmanager-extension:plugin", { autosave: false });
  put("@jupyterlab/apputils-extension:notification", { checkForUpdates: false, fetchNews: "false" });
  put("@jupyterlab/notebook-extension:tracker", { windowingMode: "none" });
  fs.mkdirSync(path.join(dir, "config"));
  fs.writeFileSync(
    path.join(dir, "config", "jupyter_server_config.json"),
    JSON.stringify({ FileCheckpoints: { checkpoint_dir: path.join(dir, "checkpoints") } }),
  );
  return {
    dir,
    env: {
      ...process.env,
      JUPYTERLAB_SETTINGS_DIR: path.join(dir, "settings"),
      JUPYTERLAB_WORKSPACES_DIR: path.join(dir, "workspaces"),
      JUPYTER_CONFIG_DIR: path.join(dir, "config"),
    },
  };
}

/**
 * Starts `npm run lab` in its own process group, with a profile of its own (see
 * isolatedProfile); resolves once the API answers. `stop` ends it and removes the profile.
 */
export async function startLab(): Promise<{ url: string; token: string; child: ChildProcess; stop: () => Promise<void> }> {
  const port = await freePort();
  const token = randomBytes(12).toString("hex");
  const profile = isolatedProfile();
  const child = spawn("npm", ["run", "--silent", "lab", "--", "--no-browser", `--port=${port}`, `--IdentityProvider.token=${token}`], {
    cwd: paths.root,
    env: profile.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const stop = async () => {
    await stopServer();
    fs.rmSync(profile.dir, { recursive: true, force: true });
  };
  const stopServer = async () => {
    if (child.exitCode !== null) return;
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      return;
    }
    const exited = new Promise((r) => child.once("exit", r));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, 10_000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/api/status?token=${token}`);
      if (res.ok) return { url, token, child, stop };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`JupyterLab did not come up on ${url}:\n${log.slice(-2000)}`);
}
