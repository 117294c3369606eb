/** File-system situations for the checkpoint tests: a small or read-only disk, folder sizes. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** Bytes of all files under `dir`. */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(full) : fs.statSync(full).size;
  }
  return total;
}

/**
 * Mounts a tmpfs of `bytes` on `dir` (an existing empty folder): a real small disk, or a
 * real read-only one. Needs root (CI runs as root); false when mounting is not permitted.
 */
export function mountTmpfs(dir: string, bytes: number, options: { readOnly?: boolean } = {}): boolean {
  const opts = [`size=${bytes}`, ...(options.readOnly ? ["ro"] : [])].join(",");
  return spawnSync("mount", ["-t", "tmpfs", "-o", opts, "tmpfs", dir], { stdio: "ignore" }).status === 0;
}

/** Changes the size of a tmpfs mounted by {@link mountTmpfs}. */
export function resizeTmpfs(dir: string, bytes: number): void {
  const r = spawnSync("mount", ["-o", `remount,size=${bytes}`, dir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`remount ${dir}: ${r.stderr}`);
}

export function unmount(dir: string): void {
  spawnSync("umount", [dir], { stdio: "ignore" });
}

/** The pid of a process that has exited (what a save killed mid-way leaves in its temporary folder's name). */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}
