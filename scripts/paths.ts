/** Where things live in the project, for the command-line scripts and tests. */
import * as path from "node:path";

const root = path.resolve(__dirname, "..");

export const paths = {
  root,
  src: path.join(root, "src"),
  dist: path.join(root, "dist"),
  notebooks: path.join(root, "notebooks"),
  scripts: path.join(root, "scripts"),
  /** Everything generated: executed notebooks, HTML, logs, checkpoints. Git-ignored. */
  build: path.join(root, "build"),
  /** The project's Python environment (VAE_VENV overrides it, e.g. for tests). */
  venv: process.env.VAE_VENV ? path.resolve(process.env.VAE_VENV) : path.join(root, ".venv"),
  requirements: path.join(root, "requirements.txt"),
  requirementsTorch: path.join(root, "requirements-torch.txt"),
};

export const venvPython = () => path.join(paths.venv, "bin", "python");
export const venvBin = (name: string) => path.join(paths.venv, "bin", name);

/**
 * The environment for anything Jupyter started by this project: the project's own
 * kernelspecs come first in the search path, ahead of any the user installed.
 */
export function jupyterEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    JUPYTER_PATH: path.join(paths.venv, "share", "jupyter"),
    PATH: `${path.join(paths.venv, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    ...extra,
  };
}
