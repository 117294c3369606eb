/**
 * Messages between the page (./client.ts) and the checker's worker (./worker.ts). One
 * worker serves every kernel of the page; each kernel is a session of it, with its own
 * history of declarations. Every request gets one reply: its result, or the error that
 * stopped it.
 */
import type { CellDiagnostic, Completion } from "./cell-checker";

export type CheckerRequest =
  /** Check a cell against the session's history; the history it would become is kept until `commit`. */
  | { type: "check"; session: string; code: string }
  /** The checked cell ran: its declarations join the history (`check` is that check's request id). */
  | { type: "commit"; session: string; check: number }
  /** The kernel's names are gone (a restarted runner): forget the history. */
  | { type: "reset"; session: string }
  /** The kernel is gone. */
  | { type: "close"; session: string }
  | { type: "complete"; session: string; code: string; cursor: number }
  | { type: "inspect"; session: string; code: string; cursor: number }
  | { type: "is_complete"; code: string };

export interface CheckerResults {
  check: { ok: true } | { ok: false; diagnostics: CellDiagnostic[]; text: string[] };
  commit: { committed: boolean };
  reset: null;
  close: null;
  complete: Completion;
  inspect: { text: string | null };
  is_complete: { status: "complete" } | { status: "incomplete"; indent: string };
}

export type ToChecker = { type: "init"; declarationsUrl: string } | (CheckerRequest & { id: number });

export interface CheckerError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export type FromChecker =
  /** TypeScript and the declarations are loaded: how long each part took, in seconds. */
  | { type: "ready"; timings: Record<string, number> }
  /** The worker cannot check (the declarations did not load, say): every request will fail with this. */
  | { type: "unavailable"; error: CheckerError }
  | { type: "reply"; id: number; ok: true; result: unknown }
  | { type: "reply"; id: number; ok: false; error: CheckerError };
