/**
 * A static file server on loopback for the built site (build/lite) and pages, used by
 * `npm run lite`, the browser tests and the browser bench. It serves `root` under a URL
 * prefix (default "/"), e.g. "/workbook/" as a blog would host it.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import sirv from "sirv";

export interface StaticServer {
  /** The site's URL, ending in the prefix. */
  url: string;
  close(): Promise<void>;
}

export function serveStatic(root: string, options: { prefix?: string; port?: number; host?: string } = {}): Promise<StaticServer> {
  const prefix = (options.prefix ?? "/").replace(/\/?$/, "/");
  const files = sirv(root, { dev: true, etag: true });
  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    if (!url.startsWith(prefix)) {
      res.statusCode = 404;
      res.end(`not found: ${url} (the site is under ${prefix})`);
      return;
    }
    req.url = `/${url.slice(prefix.length)}`;
    files(req, res, () => {
      res.statusCode = 404;
      res.end(`not found: ${url}`);
    });
  });
  const host = options.host ?? "127.0.0.1";
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${port}${prefix}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
