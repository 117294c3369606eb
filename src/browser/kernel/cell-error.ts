/** A cell that cannot be compiled, shared by the compiler (./compile.ts) and TypeScript's transpiler (./typescript.ts). */

/** A cell that cannot be compiled: the message, and where (1-based line and column). */
export class CellSyntaxError extends SyntaxError {
  readonly cellSyntaxError = true;
  constructor(
    message: string,
    readonly line: number,
    readonly column: number | null,
  ) {
    super(message);
    this.name = "SyntaxError";
  }
}

/** Whether `error` is a CellSyntaxError (from this module or another bundle's copy of it). */
export function isCellSyntaxError(error: unknown): error is CellSyntaxError {
  return error instanceof Error && (error as Partial<CellSyntaxError>).cellSyntaxError === true;
}
