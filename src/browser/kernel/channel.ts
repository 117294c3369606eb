/**
 * Requests to a Web Worker with one guaranteed reply each: the worker's, or — when it does
 * not answer within the request's timeout, or dies — an error reply made here that says
 * why. A dead worker fails every pending request and is replaced by a fresh one. The
 * kernel (./kernel.ts) talks to its worker through this; any other worker of the kernel
 * (a type checker, say) can use it the same way.
 */
import type { FromWorker, Request, ToWorker } from "./protocol";

export type Reply = Record<string, unknown>;

/** What the channel needs of a worker (a DOM Worker; in tests on Node, an adapter). */
export interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
}

/** Why the channel answered a request itself. */
export type ChannelFailure = "timeout" | "died" | "restarted";

export interface ChannelOptions {
  /** Starts a worker (called again for each restart). */
  create(): WorkerLike;
  /** The first message each new worker gets. */
  init(): ToWorker;
  /** Messages from the worker other than replies (iopub, say). */
  onMessage?(message: FromWorker): void;
  /** Called after the worker died and a new one was started, with the reason. */
  onRestart?(reason: string): void;
  /** How long a new worker may take to say "ready". */
  startTimeoutMs?: number;
}

interface Pending {
  resolve(reply: Reply): void;
  timer?: ReturnType<typeof setTimeout>;
}

/** An error reply made by the channel: `channel` says why (not part of Jupyter's content). */
export function failureReply(why: ChannelFailure, message: string): Reply {
  const ename = { timeout: "TimeoutError", died: "KernelDied", restarted: "KernelRestarted" }[why];
  return { status: "error", ename, evalue: message, traceback: [`${ename}: ${message}`], channel: why };
}

export class WorkerChannel {
  private worker!: WorkerLike;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private disposed = false;
  /** Resolves when the current worker said "ready"; rejects if it could not start. */
  ready!: Promise<void>;

  constructor(
    private readonly options: ChannelOptions,
    first?: WorkerLike,
  ) {
    this.start(first);
  }

  /** A fresh id, for a request whose id the caller needs before sending it. */
  newId(): number {
    return ++this.nextId;
  }

  /**
   * Sends a request; resolves with the worker's reply, or with an error reply after
   * `timeoutMs` (default: none) or when the worker dies. Never rejects.
   */
  request(message: Request, options: { timeoutMs?: number; id?: number } = {}): Promise<Reply> {
    const id = options.id ?? this.newId();
    return new Promise<Reply>((resolve) => {
      const pending: Pending = { resolve };
      if (options.timeoutMs !== undefined && Number.isFinite(options.timeoutMs)) {
        pending.timer = setTimeout(() => {
          this.settle(id, failureReply("timeout", `the kernel's worker did not answer a ${message.type} request within ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      }
      this.pending.set(id, pending);
      this.worker.postMessage({ ...message, id } as ToWorker);
    });
  }

  /** Replaces the worker: every pending request fails with `reason`, a new worker starts. */
  restart(reason: string, why: ChannelFailure = "restarted"): void {
    this.worker.onmessage = null;
    this.worker.onerror = null;
    this.worker.terminate();
    this.failAll(why, reason);
    if (this.disposed) return;
    this.start();
    this.options.onRestart?.(reason);
  }

  dispose(): void {
    this.disposed = true;
    this.worker.terminate();
    this.failAll("died", "the kernel was shut down");
  }

  private start(preloaded?: WorkerLike): void {
    const worker = preloaded ?? this.options.create();
    this.worker = worker;
    let started = false;
    this.ready = new Promise<void>((resolve, reject) => {
      const timeout = this.options.startTimeoutMs ?? 120_000;
      const timer = setTimeout(() => {
        if (!started) reject(new Error(`the kernel's worker did not start within ${timeout / 1000} s`));
      }, timeout);
      worker.onmessage = (event) => {
        const message = event.data as FromWorker;
        if (message.type === "ready") {
          started = true;
          clearTimeout(timer);
          resolve();
        } else if (message.type === "reply") {
          this.settle(message.id, message.content);
        } else if (message.type === "exit") {
          // The worker ends itself: fail what it will never answer, start another.
          queueMicrotask(() =>
            this.restart(`the kernel's worker stopped: ${message.reason}; a new one was started, and the names defined so far are gone`, "died"),
          );
        } else {
          this.options.onMessage?.(message);
        }
      };
      worker.onerror = (event) => {
        // A worker that fails to load (a missing file, a syntax error) never says "ready".
        const why = `the kernel's worker failed${started ? "" : " to start"} (${event.message || "its script could not be loaded"})`;
        if (started) return console.error(why); // the worker reports its cells' errors itself
        clearTimeout(timer);
        reject(new Error(why));
        this.failAll("died", why);
      };
    });
    // Nobody may be waiting yet; the rejection is seen by whoever awaits `ready`.
    this.ready.catch(() => undefined);
    worker.postMessage(this.options.init());
  }

  private settle(id: number, reply: Reply): void {
    const pending = this.pending.get(id);
    if (!pending) return; // answered already (a late reply after a timeout)
    this.pending.delete(id);
    if (pending.timer) clearTimeout(pending.timer);
    pending.resolve(reply);
  }

  private failAll(why: ChannelFailure, message: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id, failureReply(why, message));
  }
}
