"""Export an executed notebook for publishing: an offline HTML page and a blog fragment.

`export_notebook(nb, name, html_dir)` (called by scripts/nbexec.py after execution)
writes

- html_dir/NAME.html: a page that needs no network when viewed. nbconvert's "lab"
  look through the template in scripts/templates/workbook/ (no require.js, no
  MathJax, no Mermaid from a CDN); math pre-rendered by KaTeX (scripts/katex-render.js,
  one Node process per notebook); KaTeX's stylesheet and woff2 fonts copied once to
  html_dir/assets/katex/ and referenced by a relative URL; figures are embedded
  (SVG and PNG as data URIs, text/html outputs - Plotly included - as they are);
  code highlighted by Pygments; a CJK font stack; a content security policy (see
  `content_security_policy`) that runs only the scripts the workbook's own Plotly helpers
  vouched for in their outputs' metadata, and loads nothing from the network.
- BUILD/blog/NAME.md (BUILD = the parent of html_dir): the notebook as Markdown + HTML
  with YAML front matter in the article's shape (title, createdAt, categories, tags),
  to drop into the blog's posts folder.

What the page and post say about the notebook (titles, front matter, the "Run in your
browser" link) comes with it, in its metadata: see `publication`. Markdown cells stay Markdown (math as $...$,
  rendered by the blog exactly like the article's), code cells become fenced
  TypeScript blocks, outputs become HTML blocks.

Run it by hand on an executed notebook: python scripts/export_html.py build/notebooks/02-x.ipynb
"""

import base64
import datetime
import hashlib
import html as htmllib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys

import fast_imports  # noqa: F401  (before nbformat: see the module)
import nbformat
from jinja2 import pass_context
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TEMPLATES = os.path.join(HERE, "templates")
KATEX_DIST = os.path.join(ROOT, "node_modules", "katex", "dist")
ASSETS = "assets"


def publication(nb):
    """What the page and post say about the notebook, decided by scripts/publish.ts
    (`publication`) and kept in the executed copy's metadata by scripts/nbexec.py: its
    titles, the blog post's front matter and its "Run in your browser" link. Empty for a
    notebook from outside the series."""
    return nb.metadata.get("workbook", {}) if hasattr(nb, "metadata") else {}


# --------------------------------------------------------------------------- math


class MathCollector:
    """Collects TeX from markdown and replaces it by opaque markers; renders them all at once."""

    def __init__(self):
        self.token = "KTX" + secrets.token_hex(6)
        self.items = []

    def marker(self, tex, display):
        self.items.append({"tex": tex, "display": display})
        return f"\u2063{self.token}-{len(self.items) - 1}\u2063"

    def render(self):
        if not self.items:
            return []
        node = shutil.which("node") or "node"
        proc = subprocess.run(
            [node, os.path.join(HERE, "katex-render.js")],
            input=json.dumps(self.items),
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"katex-render.js failed: {proc.stderr.strip()[-2000:]}")
        return json.loads(proc.stdout)

    def substitute(self, page):
        """Markers inside attribute values (heading ids) become plain TeX; elsewhere KaTeX HTML."""
        if not self.items:
            return page, []
        rendered = self.render()
        pattern = re.compile("\u2063" + self.token + r"-(\d+)\u2063")

        # In attributes (heading anchors) the marker may also be percent-encoded.
        in_attr = re.compile("(?:\u2063|%E2%81%A3)" + self.token + r"-(\d+)(?:\u2063|%E2%81%A3)")

        def in_attribute(m):
            return in_attr.sub(lambda k: re.sub(r"[^\w.-]+", "-", self.items[int(k.group(1))]["tex"]).strip("-"), m.group(0))

        page = re.sub(r'="[^"<>]*"', in_attribute, page)
        page = pattern.sub(lambda m: rendered[int(m.group(1))]["html"], page)
        errors = [f"{item['tex']!r}: {out['error']}" for item, out in zip(self.items, rendered, strict=True) if out["error"]]
        return page, errors


class KatexRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, with math handed to KaTeX instead of left for MathJax."""

    def __init__(self, collector, **kwargs):
        super().__init__(**kwargs)
        self.collector = collector

    def block_math(self, body):
        return self.collector.marker(body, True)

    def inline_math(self, body):
        return self.collector.marker(body, False)

    def latex_environment(self, name, body):
        return self.collector.marker(f"\\begin{{{name}}}{body}\\end{{{name}}}", True)

    def multiline_math(self, text):
        return self.collector.marker(text.strip().strip("$"), True)


class WorkbookExporter(HTMLExporter):
    """HTMLExporter with the workbook template and KaTeX math."""

    def __init__(self, collector, **kwargs):
        super().__init__(template_name="workbook", extra_template_basedirs=[TEMPLATES], **kwargs)
        self.collector = collector

    @pass_context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        renderer = KatexRenderer(
            self.collector,
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=True,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)


def lab_static(name):
    """A file of nbconvert's "lab" template (its stylesheets), wherever Jupyter keeps it."""
    from jupyter_core.paths import jupyter_path

    for base in jupyter_path("nbconvert", "templates", "lab", "static"):
        if os.path.exists(os.path.join(base, name)):
            return os.path.join(base, name)
    raise FileNotFoundError(f"nbconvert lab template file {name}")


def ensure_assets(html_dir):
    """Shared by every page, once, in html_dir/assets/: JupyterLab's stylesheet (jupyterlab/),
    KaTeX's stylesheet and woff2 fonts (katex/; woff2 only: every browser that runs the
    page reads it, so no request ever goes to a missing file)."""
    target = os.path.join(html_dir, ASSETS, "katex")
    fonts = os.path.join(target, "fonts")
    os.makedirs(fonts, exist_ok=True)
    with open(os.path.join(KATEX_DIST, "katex.min.css"), encoding="utf-8") as f:
        css = f.read()
    css = re.sub(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "", css)
    with open(os.path.join(target, "katex.min.css"), "w", encoding="utf-8") as f:
        f.write(css)
    lab = os.path.join(html_dir, ASSETS, "jupyterlab")
    os.makedirs(lab, exist_ok=True)
    for css in ("index.css", "theme-light.css"):
        shutil.copyfile(lab_static(css), os.path.join(lab, css))
    for font in sorted(os.listdir(os.path.join(KATEX_DIST, "fonts"))):
        if font.endswith(".woff2"):
            src = os.path.join(KATEX_DIST, "fonts", font)
            dst = os.path.join(fonts, font)
            if not os.path.exists(dst) or os.path.getsize(dst) != os.path.getsize(src):
                shutil.copyfile(src, dst)
    return target


# --------------------------------------------------------------------------- content security policy

# Output metadata where src/plots/plotly.ts lists the CSP hashes of the scripts it wrote.
SCRIPT_HASHES_METADATA = "vae-workbook/script-hashes"
SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.S | re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def script_hash(text):
    """The CSP hash of an inline script's text, as a browser computes it (line breaks normalized)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def vouched_scripts(nb, stem):
    """Hashes of the scripts the workbook's Plotly helpers emitted and vouched for; warns about any other.

    The notebooks are the author's own (as with nbconvert), so this is not a sandbox: it keeps
    HTML that merely passes through an output (a table of data, a message) from running code
    on the page."""
    allowed = set()
    code_cell = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            where = "a Markdown cell"
            htmls = [(cell.source, set())]
        elif cell.cell_type == "code":
            code_cell += 1
            where = f"code cell {code_cell}"
            htmls = [
                (o["data"]["text/html"], set(o.get("metadata", {}).get(SCRIPT_HASHES_METADATA, [])))
                for o in cell.get("outputs", [])
                if "text/html" in o.get("data", {})
            ]
        else:
            continue
        for html, declared in htmls:
            for text in SCRIPT.findall(html):
                digest = script_hash(text)
                if digest in declared:
                    allowed.add(digest)
                else:
                    print(
                        f"export_html: {stem}: {where} carries a <script> the workbook's figures did not emit; "
                        "the page's content security policy blocks it (the blog post keeps it)",
                        file=sys.stderr,
                    )
            if EVENT_HANDLER.search(html):
                print(
                    f"export_html: {stem}: {where} carries an inline event handler (on...=); "
                    "the page's content security policy blocks it (the blog post keeps it)",
                    file=sys.stderr,
                )
    return sorted(allowed)


def content_security_policy(script_hashes):
    """What a page may load and run: its vouched inline scripts (the Plotly bundle and figures),
    inline styles (KaTeX, Plotly and the template set style attributes), images from data: URIs
    (the figures), stylesheets and fonts from its own assets/ folder. Nothing from the network,
    no other script, no event handler attribute, no javascript: URL, no form, no <base>."""
    scripts = " ".join(f"'{h}'" for h in script_hashes) or "'none'"
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'"
    )


def with_policy(page, policy):
    """The page with its policy as the first thing in <head>, before anything it governs."""
    meta = f'<meta http-equiv="Content-Security-Policy" content="{htmllib.escape(policy, quote=False)}"/>'
    page, n = re.subn(r"(<head>\s*<meta charset=\"utf-8\"\s*/?>)", lambda m: m.group(1) + "\n" + meta, page, count=1)
    if n != 1:
        raise RuntimeError("export_html: no <head><meta charset> to put the content security policy after")
    return page


# --------------------------------------------------------------------------- page


def export_page(nb, name, html_dir):
    stem = os.path.splitext(name)[0]
    os.makedirs(html_dir, exist_ok=True)
    ensure_assets(html_dir)
    collector = MathCollector()
    exporter = WorkbookExporter(collector)
    about = publication(nb)
    nb = nbformat.from_dict(nb)
    nb.metadata["title"] = about.get("title") or stem
    body, _ = exporter.from_notebook_node(
        nb,
        resources={"metadata": {"name": stem, "path": html_dir}, "workbook_assets": ASSETS},
    )
    body, errors = collector.substitute(body)
    nav = '<nav class="workbook-nav"><a href="index.html">← 目录 · 等式总账</a>'
    if "runInBrowser" in about:
        link = about["runInBrowser"]
        nav += f'<a class="workbook-run-in-browser" href="{htmllib.escape(link["href"])}">▶ {htmllib.escape(link["label"])}</a>'
    if "partTitle" in about:
        nav += f"<span>{htmllib.escape(about['partTitle'])}</span>"
    nav += "</nav>"
    body = body.replace("<main>", "<main>\n" + nav, 1)
    body = with_policy(body, content_security_policy(vouched_scripts(nb, stem)))
    out = os.path.join(html_dir, stem + ".html")
    with open(out, "w", encoding="utf-8") as f:
        f.write(body)
    for error in errors:
        print(f"export_html: {stem}: KaTeX could not parse {error}", file=sys.stderr)
    return out


# --------------------------------------------------------------------------- blog fragment


def _yaml_str(s):
    return json.dumps(s, ensure_ascii=False)


def output_html(output):
    """One output as HTML for the blog fragment (None if it has nothing visible)."""
    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
        return f'<pre class="nb-stream">{htmllib.escape(text)}</pre>' if text.strip() else None
    if kind == "error":
        return f'<pre class="nb-error">{htmllib.escape(output.get("ename", ""))}: {htmllib.escape(output.get("evalue", ""))}</pre>'
    data = output.get("data", {})
    if "text/html" in data:
        return data["text/html"]
    if "image/svg+xml" in data:
        svg = data["image/svg+xml"]
        b64 = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        return f'<img class="nb-figure" alt="figure" src="data:image/svg+xml;base64,{b64}">'
    if "image/png" in data:
        return f'<img class="nb-figure" alt="figure" src="data:image/png;base64,{data["image/png"].strip()}">'
    if "text/markdown" in data:
        return None  # handled by the caller as Markdown
    if "text/plain" in data:
        return f'<pre class="nb-text">{htmllib.escape(data["text/plain"])}</pre>'
    return None


RAW_ELEMENT = re.compile(r"<(script|pre|style|textarea)\b.*?</\1\s*>", re.S | re.I)


def html_block(html):
    """An output as raw HTML blocks that survive any CommonMark renderer.

    A CommonMark HTML block that starts with <div> ends at the first blank line, so
    blank lines are dropped from ordinary markup (whitespace between tags means
    nothing there); <script>, <pre>, <style> and <textarea> elements, whose blank lines
    may matter, each become their own block, which CommonMark keeps whole up to the
    closing tag."""

    def compact(markup):
        return re.sub(r"\n[ \t]*(?:\n[ \t]*)+", "\n", markup).strip()

    blocks = ['<div class="nb-output">']
    pos = 0
    for m in RAW_ELEMENT.finditer(html):
        if html[pos : m.start()].strip():
            blocks.append(compact(html[pos : m.start()]))
        blocks.append(m.group(0).strip())
        pos = m.end()
    if html[pos:].strip():
        blocks.append(compact(html[pos:]))
    blocks.append("</div>")
    return "\n\n".join(blocks)


def export_blog(nb, name, blog_dir, created=None):
    stem = os.path.splitext(name)[0]
    os.makedirs(blog_dir, exist_ok=True)
    about = publication(nb)
    # The part's front matter (scripts/publish.ts), unless the notebook's own metadata says otherwise.
    post = {**about.get("post", {}), **(nb.metadata.get("blog", {}) if hasattr(nb, "metadata") else {})}
    title = post.get("title") or about.get("title") or stem
    created = created or post.get("createdAt") or os.environ.get("WORKBOOK_BLOG_DATE") or datetime.date.today().isoformat()
    categories = post.get("categories", [])
    tags = post.get("tags", [])
    lines = ["---", f"title: {_yaml_str(title)}", f"createdAt: {created}", "categories:"]
    lines += [f"  - {c}" for c in categories]
    lines += ["tags:"] + [f"  - {t}" for t in tags]
    lines += ["---", ""]
    link = about.get("runInBrowser")
    parts = [f"[▶ {link['label']}]({link['href']})"] if link else []
    first_heading_dropped = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            source = cell.source
            if not first_heading_dropped:
                # The title lives in the front matter; the blog prints it.
                source, n = re.subn(r"\A\s*#\s+.+\n?", "", source, count=1)
                first_heading_dropped = n > 0
            if source.strip():
                parts.append(source.strip())
        elif cell.cell_type == "code":
            if cell.source.strip():
                parts.append("```typescript\n" + cell.source.rstrip() + "\n```")
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "text/markdown" in data and "text/html" not in data:
                    parts.append(data["text/markdown"].strip())
                    continue
                html = output_html(output)
                if html:
                    parts.append(html_block(html))
        elif cell.cell_type == "raw" and cell.source.strip():
            parts.append(cell.source.strip())
    out = os.path.join(blog_dir, stem + ".md")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n\n".join(parts) + "\n")
    return out


# --------------------------------------------------------------------------- entry points


def export_notebook(nb, name, html_dir):
    """Writes html_dir/NAME.html and (beside html_dir) blog/NAME.md; returns the page's path."""
    page = export_page(nb, name, html_dir)
    export_blog(nb, name, os.path.join(os.path.dirname(os.path.abspath(html_dir)), "blog"))
    return page


def main():
    import argparse

    parser = argparse.ArgumentParser(description="Export executed notebooks to offline HTML and blog fragments.")
    parser.add_argument("notebooks", nargs="+", help="executed .ipynb files")
    parser.add_argument("--html-dir", default=os.path.join(ROOT, "build", "html"))
    args = parser.parse_args()
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        print(export_notebook(nb, os.path.basename(path), args.html_dir))


if __name__ == "__main__":
    main()
