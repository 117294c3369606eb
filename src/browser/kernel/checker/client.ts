/**
 * The page's side of the checker: one worker (./worker.ts) for every kernel of the page,
 * started once the first kernel is ready, so that TypeScript and the declarations load
 * while the reader reads, not while the notebook opens. Each kernel talks to it through a
 * session. A request
 * that gets no answer in time, or that the worker could not answer (it failed to load,
 * or died), is rejected with an error that says so; the kernel then carries on without
 * types rather than stopping.
 */
import type { CheckerError, CheckerRequest, CheckerResults, FromChecker, ToChecker } from "./protocol";

/** A request the worker could not answer. */
export class CheckerUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckerUnavailable";
  }
}

type Distribute<T> = T extends { type: infer K } ? Omit<T, "session"> & { type: K } : never;
type SessionRequest = Distribute<Extract<CheckerRequest, { session: string }>>;

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** How long a request may take. A check waits for TypeScript to load on a first visit; Tab must not hang. */
const TIMEOUTS: Record<CheckerRequest["type"], number> = {
  check: 120_000,
  commit: 30_000,
  reset: 30_000,
  close: 30_000,
  complete: 30_000,
  inspect: 30_000,
  is_complete: 30_000,
};

export class CheckerClient {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: string | null = null;
  private settle!: (timings: Record<string, number>) => void;
  private reject!: (error: Error) => void;
  /** When TypeScript and the declarations were loaded, with the worker's timings (seconds). */
  readonly ready: Promise<Record<string, number>>;

  constructor(
    private readonly workerUrl: string,
    private readonly declarationsUrl: string,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.settle = resolve;
      this.reject = reject;
    });
    this.ready.catch(() => undefined); // a kernel that never asks must not see an unhandled rejection
  }

  /**
   * Starts the worker, which loads TypeScript and the declarations (once; a request starts
   * it too). The extension starts it once the first kernel is ready, so its downloads and
   * parsing do not slow the notebook's opening.
   */
  start(): void {
    if (this.worker) return;
    const worker = new Worker(this.workerUrl, { type: "module" });
    this.worker = worker;
    worker.onmessage = (event: MessageEvent<FromChecker>) => {
      const message = event.data;
      if (message.type === "ready") {
        // For `npm run bench:browser`: when the checker was ready, and how long its parts took.
        performance.mark("typescript-kernel:checker-ready", { detail: message.timings });
        this.settle(message.timings);
      } else if (message.type === "unavailable") {
        this.fail(`the type checker could not load: ${message.error.evalue}`);
      } else if (message.type === "reply") {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.ok) pending.resolve(message.result);
        else pending.reject(asError(message.error));
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.fail(`the type checker's worker failed (${event.message || `could not load ${this.workerUrl}`})`);
    };
    this.post({ type: "init", declarationsUrl: this.declarationsUrl });
  }

  /** The requests of one kernel. */
  session(id: string): CheckerSession {
    return new CheckerSession(this, id);
  }

  request<K extends CheckerRequest["type"]>(request: Extract<CheckerRequest, { type: K }>): Promise<CheckerResults[K]> {
    if (this.failure) return Promise.reject(new CheckerUnavailable(this.failure));
    this.start();
    const id = ++this.nextId;
    return new Promise<CheckerResults[K]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CheckerUnavailable(`the type checker did not answer a ${request.type} request within ${TIMEOUTS[request.type] / 1000} s`));
      }, TIMEOUTS[request.type]);
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject, timer });
      this.post({ ...request, id } as ToChecker);
    });
  }

  /** The id the next request will get (a check's id is what `commit` names). */
  get lastId(): number {
    return this.nextId;
  }

  private post(message: ToChecker): void {
    this.worker!.postMessage(message);
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    this.reject(new CheckerUnavailable(this.failure));
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new CheckerUnavailable(this.failure));
      this.pending.delete(id);
    }
  }
}

function asError(e: CheckerError): Error {
  const error = new Error(e.evalue);
  error.name = e.ename;
  error.stack = e.traceback.join("\n");
  return error;
}

/** One kernel's view of the checker. */
export class CheckerSession {
  constructor(
    private readonly client: CheckerClient,
    readonly id: string,
  ) {}

  get ready(): Promise<unknown> {
    return this.client.ready;
  }

  /** Checks a cell; on success, `commit(verdict.check)` once the cell has run. */
  async check(code: string): Promise<CheckerResults["check"] & { check: number }> {
    const pending = this.send({ type: "check", code });
    const check = this.client.lastId;
    return { ...(await pending), check };
  }

  commit(check: number): Promise<CheckerResults["commit"]> {
    return this.send({ type: "commit", check });
  }

  reset(): Promise<null> {
    return this.send({ type: "reset" });
  }

  close(): Promise<null> {
    return this.send({ type: "close" });
  }

  complete(code: string, cursor: number): Promise<CheckerResults["complete"]> {
    return this.send({ type: "complete", code, cursor });
  }

  inspect(code: string, cursor: number): Promise<CheckerResults["inspect"]> {
    return this.send({ type: "inspect", code, cursor });
  }

  isComplete(code: string): Promise<CheckerResults["is_complete"]> {
    return this.client.request({ type: "is_complete", code });
  }

  private send<K extends SessionRequest["type"]>(request: Extract<SessionRequest, { type: K }>): Promise<CheckerResults[K]> {
    return this.client.request({ ...request, session: this.id } as unknown as Extract<CheckerRequest, { type: K }>) as Promise<CheckerResults[K]>;
  }
}
