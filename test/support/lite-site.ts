/**
 * The browser edition built once per test run (scripts/build-lite.ts), shared by the tests
 * that open it in Chromium (test/lite.test.ts, test/lite-kernel.test.ts, test/lite-webgpu.test.ts).
 */
import { buildLite } from "../../scripts/build-lite";

let built: ReturnType<typeof buildLite> | undefined;

export function builtLite(): ReturnType<typeof buildLite> {
  built ??= buildLite({ quiet: true });
  return built;
}
