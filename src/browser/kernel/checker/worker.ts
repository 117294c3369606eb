/**
 * The checker's Web Worker: TypeScript's language service over each kernel's history of
 * declarations (./cell-checker.ts), apart from the worker that runs cells, so that a
 * runner restarted by an interrupt leaves the checker's state alone and the runner starts
 * as fast as before. The declarations come as one JSON asset of the site, fetched once
 * (the browser caches it); once loaded, the worker checks a cell that imports every module
 * so that the first real cell finds their declarations parsed.
 */
import * as ts from "typescript";
import type { DeclarationBundle } from "./bundle";
import { CellChecker, DeclarationStore, formatDiagnostic, isCompleteCell } from "./cell-checker";
import type { CheckerError, CheckerRequest, CheckerResults, FromChecker, ToChecker } from "./protocol";

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToChecker>) => void): void;
}
const scope = self as unknown as WorkerScope;
const post = (message: FromChecker) => scope.postMessage(message);

const describe = (error: unknown): CheckerError => {
  const e = error instanceof Error ? error : new Error(String(error));
  return { ename: e.name || "Error", evalue: e.message, traceback: [`${e.name}: ${e.message}`, ...(e.stack ?? "").split("\n").slice(1, 8)] };
};

/** The declarations, parsed once for every session. */
let store: Promise<DeclarationStore> | null = null;
/**
 * The checker that parsed every module's declarations while the page loaded. It is kept:
 * its program holds them all, so they stay in the shared registry when a session's cell
 * imports none of them, and a later import finds them parsed.
 */
let keeper: CellChecker | null = null;

interface Session {
  checker: CellChecker;
  /** The history the last checked cell would give, by that check's request id. */
  pending?: { check: number; history: string };
}
const sessions = new Map<string, Session>();

async function sessionFor(id: string): Promise<Session> {
  let session = sessions.get(id);
  if (!session) {
    session = { checker: new CellChecker(await store!) };
    sessions.set(id, session);
  }
  return session;
}

async function load(declarationsUrl: string): Promise<void> {
  const started = performance.now();
  const seconds = (since: number) => (performance.now() - since) / 1000;
  store = fetch(declarationsUrl).then(async (response) => {
    if (!response.ok) throw new Error(`the checker's declarations (${declarationsUrl}) did not load: HTTP ${response.status}`);
    return new DeclarationStore(ts, (await response.json()) as DeclarationBundle);
  });
  try {
    const declarations = await store;
    const fetched = seconds(started);
    // Parse the lib files, the globals and every module's declarations once, now.
    const warm = performance.now();
    keeper = new CellChecker(declarations);
    const imports = Object.keys(declarations.modules)
      .map((name, i) => `import * as __m${i} from ${JSON.stringify(name)};`)
      .join("\n");
    keeper.check(imports);
    post({ type: "ready", timings: { fetch: fetched, warm: seconds(warm), total: seconds(started) } });
  } catch (error) {
    post({ type: "unavailable", error: describe(error) });
  }
}

async function answer(request: CheckerRequest, id: number): Promise<CheckerResults[keyof CheckerResults]> {
  switch (request.type) {
    case "check": {
      const session = await sessionFor(request.session);
      const result = session.checker.check(request.code);
      if (!result.ok) {
        session.pending = undefined;
        return { ok: false, diagnostics: result.diagnostics, text: result.diagnostics.map(formatDiagnostic) };
      }
      session.pending = { check: id, history: result.history };
      return { ok: true };
    }
    case "commit": {
      const session = await sessionFor(request.session);
      const committed = session.pending?.check === request.check;
      if (committed) session.checker.commit(session.pending!.history);
      session.pending = undefined;
      return { committed };
    }
    case "reset":
      (await sessionFor(request.session)).checker.reset();
      return null;
    case "close":
      // Its files stay in the registry: disposing the service would release the shared
      // declaration files too, and the next kernel (a restart) would parse them again.
      sessions.delete(request.session);
      return null;
    case "complete":
      return (await sessionFor(request.session)).checker.complete(request.code, request.cursor);
    case "inspect":
      return { text: (await sessionFor(request.session)).checker.inspect(request.code, request.cursor) };
    case "is_complete":
      return isCompleteCell(ts, request.code);
  }
}

scope.addEventListener("message", async (event) => {
  const message = event.data;
  if (message.type === "init") return load(message.declarationsUrl);
  const { id, ...request } = message;
  try {
    if (!store) throw new Error("the checker was asked before it was told where its declarations are");
    post({ type: "reply", id, ok: true, result: await answer(request as CheckerRequest, id) });
  } catch (error) {
    post({ type: "reply", id, ok: false, error: describe(error) });
  }
});
