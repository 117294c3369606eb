/**
 * Child processes for the scripts, one way: run a command to its end and get what it said
 * (`run`, `runAsync`), or throw with its last lines when it fails (`runOrThrow`), or hand it
 * the terminal (`handOver`). A thin layer over node:child_process: execa and tinyexec do
 * more, but are ES modules only (these scripts are CommonJS) and tinyexec has no sync call.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { paths } from "./paths";

export interface RunOptions {
  /** Default: the project's root. */
  cwd?: string;
  /** The whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds before the child is killed (run only). */
  timeout?: number;
  /** A file that gets the command line and everything it printed, for a failure message to point at. */
  log?: string;
}

export interface Ran {
  ok: boolean;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout, stderr and a failure to start at all, in that order: what a message or a log shows. */
  output: string;
}

const MAX_BUFFER = 256 << 20;

function finish(cmd: string, argv: string[], options: RunOptions, r: Omit<Ran, "ok" | "output">, error?: Error): Ran {
  const output = `${r.stdout}${r.stderr}${error ? String(error) : ""}`;
  if (options.log) {
    fs.mkdirSync(path.dirname(options.log), { recursive: true });
    fs.writeFileSync(options.log, `$ ${cmd} ${argv.join(" ")}\n${output}`);
  }
  return { ...r, ok: r.status === 0 && !error, output };
}

/** Runs `cmd argv` to its end, capturing stdout and stderr. Never throws for the child's failure. */
export function run(cmd: string, argv: string[], options: RunOptions = {}): Ran {
  const r = spawnSync(cmd, argv, {
    cwd: options.cwd ?? paths.root,
    env: options.env,
    timeout: options.timeout,
    encoding: "utf8",
    maxBuffer: MAX_BUFFER,
  });
  return finish(cmd, argv, options, { status: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? "" }, r.error);
}

/** As `run`, without blocking this process. */
export function runAsync(cmd: string, argv: string[], options: RunOptions = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: options.cwd ?? paths.root, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let failed: Error | undefined;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (error) => (failed = error));
    child.on("close", (status, signal) => resolve(finish(cmd, argv, options, { status, signal, stdout, stderr }, failed)));
  });
}

/** The last `lines` lines of a text, without its trailing blank lines. */
export function lastLines(text: string, lines = 25): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

/** As `run`, but a failure throws an Error naming the command, with its last lines of output. */
export function runOrThrow(cmd: string, argv: string[], options: RunOptions = {}): Ran {
  const r = run(cmd, argv, options);
  if (!r.ok) throw new Error(`${path.basename(cmd)} ${argv.join(" ")} failed:\n${lastLines(r.output)}`);
  return r;
}

/**
 * Runs `cmd argv` on this terminal (stdio inherited) and exits with its exit code once it
 * ends. Ctrl-C and termination are passed on, so a server shuts down its own children cleanly.
 */
export function handOver(cmd: string, argv: string[], options: { env?: NodeJS.ProcessEnv } = {}): void {
  const child = spawn(cmd, argv, { env: options.env, stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  child.on("error", (error) => {
    console.error(`${path.basename(cmd)}: ${error.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
