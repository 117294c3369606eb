/**
 * The browser edition (build/lite) built once per test run from this checkout and shared by
 * the browser tests (test/lite.test.ts, test/lite-webgpu.test.ts): building it takes half a minute.
 */
import { buildLite } from "../../scripts/build-lite";

let built: Promise<unknown> | undefined;

export function builtLiteSite(): Promise<unknown> {
  built ??= buildLite({ quiet: true });
  return built;
}
