/** Starting `npm run lab`'s server for tests: a free loopback port, a token, a clean stop. */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { paths } from "../../scripts/paths";

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

/** Starts `npm run lab` in its own process group; resolves once the API answers. */
export async function startLab(): Promise<{ url: string; token: string; child: ChildProcess; stop: () => Promise<void> }> {
  const port = await freePort();
  const token = randomBytes(12).toString("hex");
  const child = spawn("npm", ["run", "--silent", "lab", "--", "--no-browser", `--port=${port}`, `--IdentityProvider.token=${token}`], {
    cwd: paths.root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const stop = async () => {
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
