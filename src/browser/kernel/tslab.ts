/**
 * The `tslab` module as cells see it in the browser kernel: `display.*` and
 * `newDisplay()` with tslab's names and behaviour, sending Jupyter display_data and
 * update_display_data messages instead of writing to tslab's ZeroMQ socket.
 */

/** A Jupyter MIME bundle message to send for the current cell. */
export type DisplayMessage =
  | { type: "display_data"; content: { data: Record<string, string>; metadata: object; transient?: { display_id: string } } }
  | { type: "update_display_data"; content: { data: Record<string, string>; metadata: object; transient: { display_id: string } } };

export interface Display {
  javascript(s: string): void;
  html(s: string, metadata?: Record<string, unknown>): void;
  markdown(s: string): void;
  latex(s: string): void;
  svg(s: string): void;
  png(b: Uint8Array): void;
  jpeg(b: Uint8Array): void;
  gif(b: Uint8Array): void;
  pdf(b: Uint8Array): void;
  text(s: string): void;
  raw(contentType: string, b: string | Uint8Array): void;
}

export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

let displayCounter = 0;

/** A tslab-compatible module whose displays go to `send`. */
export function createTslabModule(send: (message: DisplayMessage) => void) {
  const makeDisplay = (id?: string): Display => {
    let shown = false;
    const raw = (contentType: string, b: string | Uint8Array, metadata: object = {}) => {
      const data = { [contentType]: b instanceof Uint8Array ? base64(b) : b };
      if (id && shown) send({ type: "update_display_data", content: { data, metadata, transient: { display_id: id } } });
      else send({ type: "display_data", content: { data, metadata, ...(id ? { transient: { display_id: id } } : {}) } });
      shown = true;
    };
    return {
      javascript: (s) => raw("text/javascript", s),
      html: (s, metadata?: Record<string, unknown>) => raw("text/html", s, metadata),
      markdown: (s) => raw("text/markdown", s),
      latex: (s) => raw("text/latex", s),
      svg: (s) => raw("image/svg+xml", s),
      png: (b) => raw("image/png", b),
      jpeg: (b) => raw("image/jpeg", b),
      gif: (b) => raw("image/gif", b),
      pdf: (b) => raw("application/pdf", b),
      text: (s) => raw("text/plain", s),
      raw,
    };
  };
  return {
    display: makeDisplay(),
    /** A display updated in place by each later call (progress displays). */
    newDisplay: (): Display => makeDisplay(`tslab-display-${Date.now().toString(36)}-${++displayCounter}`),
    versions: {
      tslab: "jupyterlite-typescript-kernel (browser)",
      typescript: "types erased (sucrase; TypeScript for namespaces and decorators)",
      node: undefined,
    },
  };
}
