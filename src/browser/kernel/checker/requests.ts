/**
 * What the kernel (../kernel.ts) asks the checker, and how it turns the answers into
 * Jupyter replies the way tslab does: a cell with a diagnostic does not run and shows
 * `L:C - message` lines on stderr; completion comes from TypeScript, with the running
 * notebook's names of a value typed `any`; Shift-Tab shows TypeScript's quick info. If the
 * checker cannot answer, cells still run (and say once that they are not type-checked),
 * completion falls back to the running notebook's names.
 */
import type { KernelMessage } from "@jupyterlab/services";
import { type CheckerSession, CheckerUnavailable } from "./client";

type Reply = Record<string, unknown>;
type CompleteReply = KernelMessage.ICompleteReplyMsg["content"];
type InspectReply = KernelMessage.IInspectReplyMsg["content"];
type IsCompleteReply = KernelMessage.IIsCompleteReplyMsg["content"];

const errorReply = (error: unknown) => {
  const e = error instanceof Error ? error : new Error(String(error));
  return { status: "error" as const, ename: e.name || "Error", evalue: e.message, traceback: [`${e.name}: ${e.message}`] };
};

/**
 * Times a request as the kernel sees it, as a performance measure of the page
 * (`typescript-kernel:type-check`, `…:complete`, `…:inspect`): `npm run bench:browser` reads them.
 */
async function timed<T>(name: string, work: Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work;
  } finally {
    performance.measure(`typescript-kernel:${name}`, { start, end: performance.now() });
  }
}

export type CheckVerdict =
  /** Run the cell; call `ran()` once it ran to the end, so its declarations join the history. */
  | { run: true; ran(): void }
  /** Do not run it: the execute reply. */
  | { run: false; reply: Reply };

export class TypedRequests {
  private saidUnavailable = false;

  constructor(private readonly session: CheckerSession) {}

  /** Checks a cell before it runs; diagnostics go to `stderr` as tslab prints them. */
  async check(code: string, stderr: (text: string) => void): Promise<CheckVerdict> {
    try {
      const verdict = await timed("type-check", this.session.check(code));
      if (verdict.ok) return { run: true, ran: () => void this.session.commit(verdict.check).catch(() => undefined) };
      for (const line of verdict.text) stderr(`${line}\n`);
      // tslab's reply carries only the status; Jupyter's error reply also wants these.
      return { run: false, reply: { status: "error", ename: "TSError", evalue: verdict.text.join("\n"), traceback: [] } };
    } catch (error) {
      if (!(error instanceof CheckerUnavailable)) {
        stderr(`This cell runs without type checking: TypeScript failed on it (${(error as Error).name}: ${(error as Error).message})\n`);
      } else if (!this.saidUnavailable) {
        this.saidUnavailable = true;
        stderr(`Cells run without type checking: ${error.message}\n`);
      }
      return { run: true, ran: () => undefined };
    }
  }

  /** The kernel's names are gone: so are the declarations the checker remembers. */
  forget(): void {
    void this.session.reset().catch(() => undefined);
  }

  close(): void {
    void this.session.close().catch(() => undefined);
  }

  /**
   * Completion from TypeScript; for a member of a value typed `any`, the running notebook's
   * names of that value (`runtime`), whose reply — an error too, if reading it threw — wins.
   */
  async complete(code: string, cursor: number, runtime: () => Promise<CompleteReply>): Promise<CompleteReply> {
    const live = () => runtime().catch((error) => errorReply(error) as unknown as CompleteReply);
    let typed: Awaited<ReturnType<CheckerSession["complete"]>>;
    try {
      typed = await timed("complete", this.session.complete(code, cursor));
    } catch {
      return live();
    }
    if (typed.memberOfAny) {
      const names = await live();
      if (names.status !== "ok") return names;
      return { ...names, matches: [...new Set([...typed.matches, ...names.matches])] };
    }
    return { status: "ok", matches: typed.matches, cursor_start: typed.start, cursor_end: typed.end, metadata: {} };
  }

  /** Shift-Tab: TypeScript's quick info and doc comment at the cursor, as tslab prints them. */
  async inspect(code: string, cursor: number): Promise<InspectReply> {
    try {
      const { text } = await timed("inspect", this.session.inspect(code, cursor));
      return text === null ? { status: "ok", found: false, data: {}, metadata: {} } : { status: "ok", found: true, data: { "text/plain": text }, metadata: {} };
    } catch (error) {
      return errorReply(error) as unknown as InspectReply;
    }
  }

  /** Whether the cell is complete TypeScript (tslab's rule); the runner's JavaScript rule if the checker cannot say. */
  async isComplete(code: string, fallback: () => Promise<IsCompleteReply>): Promise<IsCompleteReply> {
    try {
      return await this.session.isComplete(code);
    } catch {
      return fallback().catch((error) => errorReply(error) as unknown as IsCompleteReply);
    }
  }
}
