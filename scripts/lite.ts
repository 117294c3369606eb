/**
 * `npm run lite [-- --port N] [-- --prefix /workbook/]` — serves the browser edition
 * (build/lite, built by `npm start`; built here first if it is missing) on loopback and
 * prints its URL. Any static file server works the same: the site is plain files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { buildLite, liteDirs } from "./build-lite";
import { serveStatic } from "./serve";

const port = (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError("must be a port number (0 picks a free one).");
  return Number(value);
};

async function main(): Promise<void> {
  const opts = new Command("npm run lite --")
    .description("Serve the browser edition of the workbook (build/lite) on 127.0.0.1.")
    .option("--port <n>", "port (0: any free port)", port, 8800)
    .option("--prefix <path>", "URL path to serve under, as a blog would (e.g. /workbook/)", "/")
    .option("--rebuild", "build the site first even if it exists")
    .parse()
    .opts<{ port: number; prefix: string; rebuild?: boolean }>();
  if (opts.rebuild || !fs.existsSync(path.join(liteDirs.site, "index.html"))) await buildLite();
  const site = await serveStatic(liteDirs.site, { port: opts.port, prefix: opts.prefix });
  console.log(`lite: serving ${path.relative(process.cwd(), liteDirs.site) || "."}/ at ${site.url}`);
  console.log(`lite: open ${site.url}lab/index.html — Ctrl-C stops the server`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void site.close().then(() => process.exit(0)));
}

main().catch((error) => {
  console.error(`lite: ${(error as Error).message}`);
  process.exit(1);
});
