/**
 * The JupyterLite extension: registers the TypeScript kernel and routes Kernel ▸ Interrupt
 * to it (JupyterLite's own interrupt only cancels queued cells). It knows nothing of any
 * particular library: the modules cells may import come from the site's configuration,
 * `jupyter-lite.json`:
 *
 *   "jupyter-config-data": { "litePluginSettings": { "jupyterlite-typescript-kernel:kernel": {
 *     "kernelName": "tslab",                       // default: tslab's, so tslab notebooks open with it
 *     "displayName": "TypeScript (browser)",
 *     "imports": { "lodash-es": "./modules/lodash.js",                       // an import map …
 *                  "my-lib": { "url": "./modules/my-lib.js",                 // … or URL and hooks
 *                              "displaySink": "setDisplaySink",             //   called with tslab.display
 *                              "prepare": { "loadData": "preloadData" } } }, //   awaited before a cell imports loadData
 *     "pageParameters": { "backend": "MY_BACKEND" }, // ?backend=x on the page → globalThis.MY_BACKEND = "x" in the worker
 *     "declarations": "./modules/kernel-declarations.json"  // the modules' types: cells are type-checked (./checker)
 *   } } }
 *
 * URLs are relative to the site's root. `tslab` itself is always importable. Without
 * `declarations`, types are erased, not checked.
 */
import { PageConfig, URLExt } from "@jupyterlab/coreutils";
import { type IKernel, IKernelClient, IKernelSpecs } from "@jupyterlite/services";
import { CheckerClient } from "./checker/client";
import { type KernelSettings, TypeScriptBrowserKernel } from "./kernel";
import type { ImportMap, ModuleSpec } from "./protocol";

/** The public path of this extension's files, set by the module federation runtime. */
declare const __webpack_public_path__: string;

export const PLUGIN_ID = "jupyterlite-typescript-kernel:kernel";

/** The plugin's settings as a site writes them in jupyter-lite.json. */
export interface SiteSettings {
  kernelName?: string;
  displayName?: string;
  imports?: ImportMap;
  pageParameters?: Record<string, string>;
  /** URL of the declarations bundle the type checker reads (scripts/kernel-declarations.ts); none: no type checking. */
  declarations?: string;
}

function siteSettings(): SiteSettings {
  const raw = PageConfig.getOption("litePluginSettings");
  const all = (raw ? (typeof raw === "string" ? JSON.parse(raw) : raw) : {}) as Record<string, SiteSettings>;
  return all[PLUGIN_ID] ?? {};
}

/** The import map with every URL made absolute (the worker has no base of its own). */
export function resolveImports(imports: ImportMap, base: string): Record<string, ModuleSpec> {
  return Object.fromEntries(
    Object.entries(imports).map(([specifier, entry]) => {
      const spec = typeof entry === "string" ? { url: entry } : entry;
      return [specifier, { ...spec, url: new URL(spec.url, base).href }];
    }),
  );
}

const kernels = new Map<string, TypeScriptBrowserKernel>();

const plugin = {
  id: PLUGIN_ID,
  description: "A TypeScript kernel for JupyterLite with tslab's cell semantics",
  autoStart: true,
  requires: [IKernelSpecs],
  optional: [IKernelClient],
  activate: (_app: unknown, specs: IKernelSpecs, client: IKernelClient | null) => {
    const site = siteSettings();
    const base = new URL(URLExt.join(PageConfig.getBaseUrl(), "/"), globalThis.location?.href).href;
    const query = new URLSearchParams(globalThis.location?.search ?? "");
    const settings: KernelSettings = {
      imports: resolveImports(site.imports ?? {}, base),
      globals: Object.fromEntries(
        Object.entries(site.pageParameters ?? {}).flatMap(([parameter, global]) => (query.has(parameter) ? [[global, query.get(parameter)!]] : [])),
      ),
    };
    const workerUrl = `${__webpack_public_path__}kernel/kernel-worker.js`;
    // Load the first kernel's worker (its compiler and runtime) while JupyterLite is still
    // opening the notebook; later kernels (restart) start their own.
    let spare: Worker | null = new Worker(workerUrl, { type: "module" });
    spare.addEventListener("error", () => (spare = null), { once: true });
    // TypeScript's checker: one worker for every kernel of the page, started once the first
    // kernel is ready and the page is idle (a cell run before then starts it at once).
    const checker = site.declarations ? new CheckerClient(`${__webpack_public_path__}kernel/kernel-checker.js`, new URL(site.declarations, base).href) : null;
    const startChecker = () =>
      "requestIdleCallback" in globalThis ? requestIdleCallback(() => checker?.start(), { timeout: 1000 }) : setTimeout(() => checker?.start(), 200);
    const takeWorker = (): Worker | undefined => {
      const worker = spare ?? undefined;
      spare = null;
      return worker;
    };
    const name = site.kernelName ?? "tslab";
    const displayName = site.displayName ?? "TypeScript (browser)";
    specs.register({
      spec: {
        name,
        display_name: displayName,
        language: "typescript",
        argv: [],
        spec: { argv: [], env: {}, display_name: displayName, language: "typescript", interrupt_mode: "message", metadata: {} },
        resources: {},
      },
      create: async (options: IKernel.IOptions): Promise<IKernel> => {
        const kernel = new TypeScriptBrowserKernel({ ...options, workerUrl, settings, worker: takeWorker(), checker: checker?.session(options.id) });
        if (checker) void kernel.ready.then(startChecker, () => undefined);
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
        await kernels.get(kernelId)?.interrupt();
      };
    }
  },
};

export default [plugin];
