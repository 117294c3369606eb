/**
 * The JupyterLite extension: registers the browser kernel under tslab's kernel name, so
 * the workbook's notebooks (kernelspec "tslab") open with it unchanged, and routes
 * Kernel ▸ Interrupt to it (JupyterLite's own interrupt only cancels queued cells).
 */
import { IKernelClient, IKernelSpecs, type IKernel } from "@jupyterlite/services";
import { TypeScriptBrowserKernel } from "./kernel";
import { CheckerClient } from "./checker/client";

/** The public path of this extension's files, set by the module federation runtime. */
declare const __webpack_public_path__: string;

const kernels = new Map<string, TypeScriptBrowserKernel>();

const plugin = {
  id: "vae-workbook-kernel:kernel",
  description: "TypeScript notebooks in the browser, with the vae-workbook library",
  autoStart: true,
  requires: [IKernelSpecs],
  optional: [IKernelClient],
  activate: (_app: unknown, specs: IKernelSpecs, client: IKernelClient | null) => {
    const workerUrl = `${__webpack_public_path__}vae-workbook/kernel-worker.js`;
    const backend = new URLSearchParams(globalThis.location?.search ?? "").get("backend") ?? undefined;
    // Load the first kernel's worker (its compiler and runtime) while JupyterLite is still
    // opening the notebook; later kernels (restart, interrupt) start their own.
    let spare: Worker | null = new Worker(workerUrl, { type: "module" });
    // TypeScript's checker: one worker for every kernel of the page, started once the first
    // kernel is ready and the page is idle (a cell run before then starts it at once).
    const checker = new CheckerClient(`${__webpack_public_path__}vae-workbook/kernel-checker.js`, `${__webpack_public_path__}vae-workbook/kernel-declarations.json`);
    const startChecker = () =>
      "requestIdleCallback" in globalThis ? requestIdleCallback(() => checker.start(), { timeout: 1000 }) : setTimeout(() => checker.start(), 200);
    spare.addEventListener("error", () => (spare = null), { once: true });
    const takeWorker = (): Worker | undefined => {
      const worker = spare ?? undefined;
      spare = null;
      return worker;
    };
    specs.register({
      spec: {
        name: "tslab",
        display_name: "TypeScript (browser)",
        language: "typescript",
        argv: [],
        spec: { argv: [], env: {}, display_name: "TypeScript (browser)", language: "typescript", interrupt_mode: "message", metadata: {} },
        resources: {},
      },
      create: async (options: IKernel.IOptions): Promise<IKernel> => {
        const kernel = new TypeScriptBrowserKernel({ ...options, workerUrl, backend, worker: takeWorker(), checker: checker.session(options.id) });
        void kernel.ready.then(startChecker, () => undefined);
        kernels.set(kernel.id, kernel);
        kernel.disposed.connect(() => kernels.delete(kernel.id));
        return kernel;
      },
    });
    if (client) {
      const interrupt = client.interrupt.bind(client);
      client.interrupt = async (kernelId: string) => {
        // First JupyterLite's own: it cancels the cells queued behind the running one. Then
        // ours stops the running cell; a cell run after that is not cancelled with the queue.
        await interrupt(kernelId);
        kernels.get(kernelId)?.interrupt();
      };
    }
  },
};

export default [plugin];
