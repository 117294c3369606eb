/** Assertions shared by the library's tests. */
import { strict as assert } from "node:assert";
import { ArgumentError } from "../../src/errors";

/** `fn` throws the library's ArgumentError, naming `argument` (and, if given, matching `message`). */
export function assertArgumentError(fn: () => unknown, argument: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ArgumentError, `expected an ArgumentError naming "${argument}", got ${e}`);
    assert.equal(e.argument, argument);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** The promise rejects with the library's ArgumentError, naming `argument` (and, if given, matching `message`). */
export async function assertRejectsArgumentError(promise: Promise<unknown>, argument: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof ArgumentError, `expected an ArgumentError naming "${argument}", got ${e}`);
    assert.equal(e.argument, argument);
    if (message) assert.match(e.message, message);
    return true;
  });
}
