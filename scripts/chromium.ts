/** Debian's Chromium for the browser tests and the browser bench (playwright-core drives it; no browser download). */
import * as fs from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Skips the calling (mocha) suite, saying why, when there is no Chromium to drive. */
export function skipWithoutChromium(context: { skip(): void }): void {
  if (fs.existsSync(CHROMIUM)) return;
  console.log(`      skipped: no Chromium at ${CHROMIUM} (apt-get install chromium fonts-noto-cjk)`);
  context.skip();
}

/**
 * Headless Chromium behind a proxy that does not exist, so anything that escapes a test's
 * request routing fails loudly. Pages from files route even loopback there; a test of a
 * server on 127.0.0.1 passes `{ loopback: true }` to reach it directly.
 *
 * `{ webgpu: true }` turns WebGPU on (Chromium on Linux ships it behind a flag) and leaves
 * the GPU on: a machine with a GPU gives its adapter, one without gives SwiftShader's
 * software adapter, which the library uses only when asked for by name (`?backend=webgpu`).
 * WebGPU needs a secure context: https or loopback.
 */
export async function launchChromium(options: { loopback?: boolean; webgpu?: boolean } = {}): Promise<Browser> {
  const bypass = options.loopback ? [] : ["--proxy-bypass-list=<-loopback>"];
  const gpu = options.webgpu ? ["--enable-unsafe-webgpu", "--enable-features=Vulkan"] : ["--disable-gpu"];
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", ...gpu, "--proxy-server=127.0.0.1:9", ...bypass],
  });
}
