/** Debian's Chromium for the browser tests and the browser bench (playwright-core drives it; no browser download). */
import * as fs from "node:fs";
import { chromium, type Browser } from "playwright-core";

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
 */
export async function launchChromium(options: { loopback?: boolean } = {}): Promise<Browser> {
  const bypass = options.loopback ? [] : ["--proxy-bypass-list=<-loopback>"];
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--proxy-server=127.0.0.1:9", ...bypass],
  });
}
