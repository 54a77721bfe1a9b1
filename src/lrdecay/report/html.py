"""Minimal HTML for the report: a page of sections with figures and tables (no templates, no
scripts, every value escaped)."""

from __future__ import annotations

from html import escape

__all__ = ["table", "figure", "code", "inline", "paragraph", "heading", "page"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3em; }
h2 { margin-top: 2.2em; border-bottom: 1px solid #eee; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: .92em; margin-top: .4em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
th { background: #f5f5f5; }
td.text, th.text { text-align: left; }
code, pre { background: #f6f8fa; font-size: .88em; }
pre { padding: .6em; overflow-x: auto; }
details { margin: 1em 0; }
nav ul { columns: 2; }
"""


def table(headers, rows, text_columns=(0,)) -> str:
    """An HTML table; ``text_columns`` are left-aligned, the others (numbers) right-aligned."""
    def cell(tag, i, value):
        cls = ' class="text"' if i in text_columns else ""
        return f"<{tag}{cls}>{escape(str(value))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>\n" for row in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}</table>\n"


def inline(text: str) -> str:
    """``text`` escaped, with each `backticked` span set as <code> (unpaired backticks stay)."""
    parts = escape(text).split("`")
    if len(parts) % 2 == 0:
        return escape(text)
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def figure(src: str, caption: str, alt: str | None = None) -> str:
    return (f'<figure><img src="{escape(src)}" alt="{escape(alt or caption.replace("`", ""))}">'
            f"<figcaption>{inline(caption)}</figcaption></figure>\n")


def code(text: str) -> str:
    return f"<pre><code>{escape(text)}</code></pre>\n"


def heading(text: str, level: int = 3) -> str:
    return f"<h{level}>{escape(text)}</h{level}>\n"


def paragraph(text: str) -> str:
    return f"<p>{inline(text)}</p>\n"


def page(title: str, intro: str, sections: list[tuple[str, str, str]]) -> str:
    """``sections``: (anchor, heading, body HTML)."""
    nav = "".join(f'<li><a href="#{escape(a)}">{escape(h)}</a></li>' for a, h, _ in sections)
    body = "".join(f'<h2 id="{escape(a)}">{escape(h)}</h2>\n{b}' for a, h, b in sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{escape(title)}</title>\n'
            f"<style>{_STYLE}</style>\n</head>\n<body>\n<h1>{escape(title)}</h1>\n{intro}"
            f"<nav><ul>{nav}</ul></nav>\n{body}</body>\n</html>\n")
