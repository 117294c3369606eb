/**
 * Argument validation. Every public function asserts its inputs with the `assert*` guards
 * below, which throw an `ArgumentError` that names the offending argument, so a reader who
 * passes a negative scale or a mis-shaped matrix learns which one, not a NaN ten cells later.
 * (`check*` names belong to the claim builders, which return a judged row and never throw.)
 */
export class ArgumentError extends Error {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(`${argument}: ${message}`);
    this.name = "ArgumentError";
  }
}

export function assertFinite(name: string, value: number | ArrayLike<number>): void {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new ArgumentError(name, `must be a finite number, got ${value}`);
    return;
  }
  for (let i = 0; i < value.length; i++) {
    if (!Number.isFinite(value[i])) {
      throw new ArgumentError(name, `must contain only finite numbers, got ${value[i]} at index ${i}`);
    }
  }
}

export function assertPositive(name: string, value: number | ArrayLike<number>): void {
  assertFinite(name, value);
  const values = typeof value === "number" ? [value] : Array.from(value);
  values.forEach((v, i) => {
    if (!(v > 0)) throw new ArgumentError(name, `must be positive, got ${v}${values.length > 1 ? ` at index ${i}` : ""}`);
  });
}

export function assertInteger(name: string, value: number, min = -Infinity): void {
  if (!Number.isInteger(value)) throw new ArgumentError(name, `must be an integer, got ${value}`);
  if (value < min) throw new ArgumentError(name, `must be at least ${min}, got ${value}`);
}

/** A vector argument: `length` numbers, every one finite. */
export function assertVector(name: string, value: ArrayLike<number> | null | undefined, length: number): void {
  if (value === null || value === undefined || value.length !== length) {
    throw new ArgumentError(name, `shape mismatch: expected length ${length}, got ${value?.length}`);
  }
  assertFinite(name, value);
}

export function assertLength(name: string, value: ArrayLike<unknown>, expected: number): void {
  if (value.length !== expected) {
    throw new ArgumentError(name, `shape mismatch: expected length ${expected}, got ${value.length}`);
  }
}

/** An options argument: an object (not null, not a number); `shape` says what it holds, e.g. "{seed?, tags?}". */
export function assertOptions(name: string, value: unknown, shape: string): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ArgumentError(name, `must be an object ${shape}, got ${Array.isArray(value) ? "an array" : String(value)}`);
  }
}

export function assertNonEmpty(name: string, value: ArrayLike<unknown>): void {
  if (value.length === 0) throw new ArgumentError(name, "must not be empty");
}

/** Something the library can do on Node (files on disk, say) but not in a browser; says what to use instead. */
export class NotAvailableInBrowserError extends Error {
  constructor(what: string, instead: string) {
    super(`${what} is not available in the browser: ${instead}`);
    this.name = "NotAvailableInBrowserError";
  }
}
