#!/usr/bin/env node
/**
 * Renders TeX to HTML with KaTeX, for the offline HTML export (scripts/export_html.py).
 *
 *   stdin:  JSON [{"tex": "p(x)", "display": false}, ...]
 *   stdout: JSON [{"html": "<span class=\"katex\">…", "error": null | "message"}, ...]
 *
 * One process renders a whole notebook. A formula KaTeX cannot parse is still
 * rendered (KaTeX's red error span, class "katex-error") and its message reported,
 * so the page tests catch it instead of the page silently showing raw TeX.
 */

const katex = require("katex");

function render(item) {
  try {
    const html = katex.renderToString(item.tex, {
      displayMode: Boolean(item.display),
      throwOnError: true,
      // CJK inside \text{} and the like is fine for the page; do not warn about it.
      strict: "ignore",
      output: "html",
      trust: false,
    });
    return { html, error: null };
  } catch (error) {
    const message = String(error?.message ? error.message : error);
    // KaTeX's lenient rendering marks only some failures with "katex-error" (an unknown
    // command is merely coloured red), so mark every failure the same way.
    const html = katex.renderToString(item.tex, { displayMode: Boolean(item.display), throwOnError: false, strict: "ignore", output: "html" });
    const title = message.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
    return { html: `<span class="katex-error" title="${title}">${html}</span>`, error: message };
  }
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const items = JSON.parse(input || "[]");
  process.stdout.write(JSON.stringify(items.map(render)));
});
