/**
 * `npm run lab [-- JUPYTER OPTIONS]` — JupyterLab from the project's own environment,
 * on loopback only, opened on notebooks/, with the project's tslab kernel first in
 * Jupyter's search path. Extra options pass through, e.g. `npm run lab -- --port 9999`.
 */
import { spawn } from "node:child_process";
import { jupyterEnv, paths, venvBin } from "./paths";

const argv = [
  "lab",
  "--ServerApp.ip=127.0.0.1",
  `--ServerApp.root_dir=${paths.notebooks}`,
  // A fresh notebook opens with the TypeScript kernel, not Python.
  "--MappingKernelManager.default_kernel_name=tslab",
  ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
  ...process.argv.slice(2),
];
console.log(`lab: jupyter ${argv.join(" ")}`);
const child = spawn(venvBin("jupyter"), argv, { env: jupyterEnv(), stdio: "inherit" });
// Forward Ctrl-C / termination so the server shuts down its kernels cleanly.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
