/**
 * `npm run lab [-- JUPYTER OPTIONS]` — JupyterLab from the project's own environment,
 * on loopback only, opened on notebooks/, with the project's tslab kernel first in
 * Jupyter's search path. Extra options pass through, e.g. `npm run lab -- --port 9999`.
 */
import { jupyterEnv, paths, venvBin } from "./paths";
import { handOver } from "./proc";

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
// Ctrl-C and termination reach the server, so it shuts down its kernels cleanly.
handOver(venvBin("jupyter"), argv, { env: jupyterEnv() });
