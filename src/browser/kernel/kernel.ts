/**
 * The page side of the browser kernel: a JupyterLite kernel that runs cells in a Web
 * Worker (./worker.ts) and relays its output as Jupyter messages. Interrupting a running
 * cell terminates the worker and starts a fresh one — JavaScript cannot stop a busy worker
 * from outside — and the cell's error output says so.
 */
import type { KernelMessage } from "@jupyterlab/services";
import { BaseKernel, type IKernel } from "@jupyterlite/services";
import type { FromWorker, ToWorker } from "./worker";
import type { CheckerSession } from "./checker/client";
import { TypedRequests } from "./checker/requests";

type Header = KernelMessage.IHeader<KernelMessage.MessageType>;
type Reply = Record<string, unknown>;
/** A request to the worker before it gets its id. */
type Request = ToWorker extends infer T ? (T extends { id: number } ? Omit<T, "id"> : never) : never;

interface Pending {
  resolve(content: Reply): void;
}

export interface BrowserKernelOptions extends IKernel.IOptions {
  /** URL of the worker script (a module worker). */
  workerUrl: string;
  /** Forces a tfjs backend in the worker (the page's `?backend=`). */
  backend?: string;
  /** A worker already loading `workerUrl`, to use instead of starting one. */
  worker?: Worker;
  /** TypeScript's checker for this kernel's cells (./checker): type errors, completion, quick info. */
  checker: CheckerSession;
}

const INTERRUPTED =
  "Interrupted: the running cell was stopped by restarting the kernel's worker, so the names " +
  "defined by earlier cells are gone. Run the notebook again from the top (Run ▸ Run All Cells).";

export class TypeScriptBrowserKernel extends BaseKernel {
  private worker!: Worker;
  private started!: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  /** Parent header of each execution, so late output still reaches its cell. */
  private readonly parents = new Map<number, Header | undefined>();
  private nextId = 0;
  private running: number | null = null;
  private readonly typed: TypedRequests;

  constructor(private readonly options: BrowserKernelOptions) {
    super(options);
    this.typed = new TypedRequests(options.checker);
    this.startWorker(options.worker);
  }

  get ready(): Promise<void> {
    return this.started;
  }

  private startWorker(preloaded?: Worker): void {
    this.worker = preloaded ?? new Worker(this.options.workerUrl, { type: "module" });
    this.started = new Promise<void>((resolve, reject) => {
      this.worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const message = event.data;
        if (message.type === "ready") resolve();
        else if (message.type === "reply") this.settle(message.id, message.content);
        else if (message.type === "iopub") this.relay(message.id, message.msgType, message.content);
      };
      this.worker.onerror = (event) => {
        // A worker that fails to load (a missing file) never says "ready".
        const why = `the kernel's worker failed to start (${event.message || "could not load " + this.options.workerUrl})`;
        console.error(why);
        reject(new Error(why));
      };
    });
    this.post({ type: "init", backend: this.options.backend });
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private request(message: Request, id = ++this.nextId): Promise<Reply> {
    return new Promise<Reply>((resolve) => {
      this.pending.set(id, { resolve });
      this.post({ ...message, id } as ToWorker);
    });
  }

  private settle(id: number, content: Reply): void {
    this.pending.get(id)?.resolve(content);
    this.pending.delete(id);
  }

  private relay(id: number, msgType: string, content: Record<string, unknown>): void {
    const parent = this.parents.get(id);
    const c = content as never;
    switch (msgType) {
      case "stream": return this.stream(c, parent);
      case "display_data": return this.displayData(c, parent);
      case "update_display_data": return this.updateDisplayData(c, parent);
      case "execute_result": return this.publishExecuteResult({ ...(content as object), execution_count: this.executionCount } as never, parent);
      case "error": return this.publishExecuteError(c, parent);
      case "clear_output": return this.clearOutput(c, parent);
    }
  }

  /** Stops the running cell, if any, by replacing the worker. */
  interrupt(): void {
    if (this.running === null) return;
    const id = this.running;
    this.worker.terminate();
    const error = { ename: "KernelInterrupted", evalue: INTERRUPTED, traceback: [INTERRUPTED] };
    this.publishExecuteError(error, this.parents.get(id));
    for (const [pendingId] of this.pending) this.settle(pendingId, { status: "error", ...error });
    this.typed.forget();
    this.startWorker();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.worker.terminate();
    this.typed.close();
    super.dispose();
  }

  async kernelInfoRequest(): Promise<KernelMessage.IInfoReplyMsg["content"]> {
    return {
      implementation: "vae-workbook-browser-kernel",
      implementation_version: "0.1.0",
      language_info: {
        name: "typescript",
        version: "5",
        mimetype: "text/typescript",
        file_extension: ".ts",
        codemirror_mode: { name: "javascript", typescript: true },
      },
      protocol_version: "5.3",
      status: "ok",
      banner: "TypeScript in the browser (vae-workbook): cells are type-checked as tslab checks them, then run in a Web Worker",
      help_links: [],
    };
  }

  async executeRequest(content: KernelMessage.IExecuteRequestMsg["content"]): Promise<KernelMessage.IExecuteReplyMsg["content"]> {
    await this.started;
    const id = ++this.nextId;
    this.parents.set(id, this.parentHeader);
    // Only the latest few executions can still receive late output worth showing.
    for (const old of this.parents.keys()) if (old < id - 16) this.parents.delete(old);
    this.running = id;
    try {
      // TypeScript judges first: a cell with a type error does not run (tslab's rule).
      const parent = this.parentHeader;
      const verdict = await this.typed.check(content.code, (text) => this.stream({ name: "stderr", text }, parent));
      if (!verdict.run) return { ...verdict.reply, execution_count: this.executionCount } as KernelMessage.IExecuteReplyMsg["content"];
      const reply = await this.request({ type: "execute", code: content.code, label: `[${this.executionCount}]` }, id);
      if (reply.status === "ok") verdict.ran();
      return { ...reply, execution_count: this.executionCount } as KernelMessage.IExecuteReplyMsg["content"];
    } finally {
      this.running = null;
    }
  }

  async completeRequest(content: KernelMessage.ICompleteRequestMsg["content"]): Promise<KernelMessage.ICompleteReplyMsg["content"]> {
    return this.typed.complete(content.code, content.cursor_pos, async () => {
      await this.started;
      return (await this.request({ type: "complete", code: content.code, cursor: content.cursor_pos })) as never;
    });
  }

  async isCompleteRequest(content: KernelMessage.IIsCompleteRequestMsg["content"]): Promise<KernelMessage.IIsCompleteReplyMsg["content"]> {
    return this.typed.isComplete(content.code, async () => {
      await this.started;
      return (await this.request({ type: "is_complete", code: content.code })) as never;
    });
  }

  async inspectRequest(content: KernelMessage.IInspectRequestMsg["content"]): Promise<KernelMessage.IInspectReplyMsg["content"]> {
    return this.typed.inspect(content.code, content.cursor_pos);
  }

  async commInfoRequest(): Promise<KernelMessage.ICommInfoReplyMsg["content"]> {
    return { status: "ok", comms: {} };
  }

  inputReply(): void {}
  async commOpen(): Promise<void> {}
  async commMsg(): Promise<void> {}
  async commClose(): Promise<void> {}
}
