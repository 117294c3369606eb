/**
 * The page side of the browser kernel: a JupyterLite kernel that runs cells in a Web
 * Worker (./worker.ts) through a channel that answers every request (./channel.ts), and
 * relays the worker's output as Jupyter messages.
 *
 * Interrupt: the worker is asked to abandon the running cell, which it can do only when
 * the cell awaits (its names stay). A cell in a synchronous loop keeps the worker from
 * reading that message; when no answer comes within a second, the worker is replaced —
 * JavaScript cannot stop a busy worker from outside — and the cell's error says which of
 * the two happened.
 *
 * Type checking: when the site ships declarations, each cell is first checked by
 * TypeScript's checker in a worker of its own (./checker), as tslab checks it; a cell with
 * a type error does not run. Completion, quick info and is-complete come from it too.
 */
import type { KernelMessage } from "@jupyterlab/services";
import { BaseKernel, type IKernel } from "@jupyterlite/services";
import { type Reply, WorkerChannel, type WorkerLike } from "./channel";
import type { CheckerSession } from "./checker/client";
import { TypedRequests } from "./checker/requests";
import type { FromWorker, ModuleSpec } from "./protocol";

type Header = KernelMessage.IHeader<KernelMessage.MessageType>;

/** How the kernel presents itself and what its cells may import. */
export interface KernelSettings {
  /** Module specifiers → their URLs and hooks, resolved against the site (./extension.ts). */
  imports: Record<string, ModuleSpec>;
  /** Globals set in the worker before any module loads. */
  globals: Record<string, string>;
}

export interface BrowserKernelOptions extends IKernel.IOptions {
  /** URL of the worker script (a module worker). */
  workerUrl: string;
  settings: KernelSettings;
  /** A worker already loading `workerUrl`, to use instead of starting one. */
  worker?: Worker;
  /** TypeScript's checker for this kernel's cells (./checker): type errors, completion, quick info. None: types are erased, not checked. */
  checker?: CheckerSession;
}

/** How long an interrupted cell has to yield before its worker is replaced. */
export const INTERRUPT_GRACE_MS = 1000;
/** How long a short request (completion, is-complete) may wait for the worker. */
export const SHORT_REQUEST_TIMEOUT_MS = 10_000;

export const RESTARTED_AFTER_INTERRUPT =
  `Interrupted: the cell was running a synchronous loop that did not yield within ${INTERRUPT_GRACE_MS / 1000} s, ` +
  "so the kernel's worker was restarted; the names defined by earlier cells are gone. " +
  "Run the notebook again from the top (Run ▸ Run All Cells).";

export class TypeScriptBrowserKernel extends BaseKernel {
  private readonly channel: WorkerChannel;
  /** Parent header of each execution, so late output still reaches its cell. */
  private readonly parents = new Map<number, Header | undefined>();
  private running: number | null = null;
  private readonly typed: TypedRequests | null;

  constructor(options: BrowserKernelOptions) {
    super(options);
    this.typed = options.checker ? new TypedRequests(options.checker) : null;
    const create = () => new Worker(options.workerUrl, { type: "module" }) as unknown as WorkerLike;
    this.channel = new WorkerChannel(
      {
        create,
        init: () => ({ type: "init", imports: options.settings.imports, globals: options.settings.globals }),
        onMessage: (message: FromWorker) => {
          if (message.type === "iopub") this.relay(message.id, message.msgType, message.content);
        },
        // A new worker has none of the names: neither has the checker's history then.
        onRestart: () => this.typed?.forget(),
      },
      options.worker as unknown as WorkerLike | undefined,
    );
  }

  get ready(): Promise<void> {
    return this.channel.ready;
  }

  private relay(id: number, msgType: string, content: Record<string, unknown>): void {
    const parent = this.parents.get(id);
    const c = content as never;
    switch (msgType) {
      case "stream":
        this.stream(c, parent);
        break;
      case "display_data":
        this.displayData(c, parent);
        break;
      case "update_display_data":
        this.updateDisplayData(c, parent);
        break;
      case "execute_result":
        this.publishExecuteResult({ ...(content as object), execution_count: this.executionCount } as never, parent);
        break;
      case "error":
        this.publishExecuteError(c, parent);
        break;
      case "clear_output":
        this.clearOutput(c, parent);
        break;
    }
  }

  /**
   * Stops the running cell, if any: cooperatively when it awaits (the worker answers the
   * interrupt), else by replacing the worker after INTERRUPT_GRACE_MS.
   */
  async interrupt(): Promise<"idle" | "stopped" | "restarted"> {
    if (this.running === null) return "idle";
    const reply = await this.channel.request({ type: "interrupt" }, { timeoutMs: INTERRUPT_GRACE_MS });
    if (reply.status === "ok") return "stopped"; // the cell's own reply carries the message
    if (this.running === null) return "stopped"; // it finished meanwhile
    this.channel.restart(RESTARTED_AFTER_INTERRUPT);
    return "restarted";
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.channel.dispose();
    this.typed?.close();
    super.dispose();
  }

  async kernelInfoRequest(): Promise<KernelMessage.IInfoReplyMsg["content"]> {
    return {
      implementation: "jupyterlite-typescript-kernel",
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
      banner: this.typed
        ? "TypeScript in the browser: cells are type-checked as tslab checks them, then run in a Web Worker with tslab's cell semantics"
        : "TypeScript in the browser: cells run in a Web Worker with tslab's cell semantics; types are erased, not checked",
      help_links: [],
    };
  }

  /** A reply the channel made (timeout, dead worker) is shown as the cell's error too. */
  private replyContent(reply: Reply, parent: Header | undefined): Reply {
    if (!("channel" in reply)) return reply;
    const { channel: _why, ...content } = reply;
    this.publishExecuteError(content as never, parent);
    return content;
  }

  async executeRequest(content: KernelMessage.IExecuteRequestMsg["content"]): Promise<KernelMessage.IExecuteReplyMsg["content"]> {
    const id = this.channel.newId();
    const parent = this.parentHeader;
    this.parents.set(id, parent);
    // Only the latest few executions can still receive late output worth showing.
    for (const old of this.parents.keys()) if (old < id - 64) this.parents.delete(old);
    this.running = id;
    try {
      // TypeScript judges first (while the worker may still be starting): a cell with a type error does not run (tslab's rule).
      const verdict = this.typed ? await this.typed.check(content.code, (text) => this.stream({ name: "stderr", text }, parent)) : null;
      if (verdict && !verdict.run) return { ...verdict.reply, execution_count: this.executionCount } as KernelMessage.IExecuteReplyMsg["content"];
      await this.ready;
      const reply = await this.channel.request({ type: "execute", code: content.code, label: `[${this.executionCount}]` }, { id });
      if (reply.status === "ok") verdict?.ran();
      return { ...this.replyContent(reply, parent), execution_count: this.executionCount } as KernelMessage.IExecuteReplyMsg["content"];
    } finally {
      if (this.running === id) this.running = null;
    }
  }

  async completeRequest(content: KernelMessage.ICompleteRequestMsg["content"]): Promise<KernelMessage.ICompleteReplyMsg["content"]> {
    // The running notebook's names: all of them without a checker, else those of a value typed `any`.
    const runtime = async (): Promise<KernelMessage.ICompleteReplyMsg["content"]> => {
      await this.ready;
      const reply = await this.channel.request({ type: "complete", code: content.code, cursor: content.cursor_pos }, { timeoutMs: SHORT_REQUEST_TIMEOUT_MS });
      return withoutChannel(reply) as never;
    };
    return this.typed ? this.typed.complete(content.code, content.cursor_pos, runtime) : runtime();
  }

  async isCompleteRequest(content: KernelMessage.IIsCompleteRequestMsg["content"]): Promise<KernelMessage.IIsCompleteReplyMsg["content"]> {
    // The worker's JavaScript rule, when there is no checker or it cannot say.
    const runtime = async (): Promise<KernelMessage.IIsCompleteReplyMsg["content"]> => {
      await this.ready;
      const reply = await this.channel.request({ type: "is_complete", code: content.code }, { timeoutMs: SHORT_REQUEST_TIMEOUT_MS });
      // Unknown is a valid answer when the worker could not say.
      return (reply.status === "error" ? { status: "unknown" } : reply) as never;
    };
    return this.typed ? this.typed.isComplete(content.code, runtime) : runtime();
  }

  async inspectRequest(content: KernelMessage.IInspectRequestMsg["content"]): Promise<KernelMessage.IInspectReplyMsg["content"]> {
    if (!this.typed) return { status: "ok", found: false, data: {}, metadata: {} };
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

function withoutChannel(reply: Reply): Reply {
  const { channel: _why, ...content } = reply;
  return content;
}
