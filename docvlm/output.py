"""Serialisations of a :class:`schemas.Document`: JSON, Markdown and HTML."""

from __future__ import annotations

import html
import os
from pathlib import Path

from schemas import Document, RegionLabel


def write_atomic(path: Path, text: str) -> None:
    """Temp file then rename: a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def to_json(doc: Document, *, indent: int | None = 2) -> str:
    return doc.model_dump_json(indent=indent, exclude_none=False)


def to_markdown(doc: Document) -> str:
    """Headings, paragraphs, lists and tables in reading order, one section per page."""
    out: list[str] = []
    for page in doc.pages:
        out.append(f"<!-- page {page.number} -->")
        for r in sorted(page.regions, key=lambda r: r.order):
            text = r.text.strip()
            if r.label == RegionLabel.TABLE and r.table is not None:
                out.append(r.table.to_markdown())
            elif not text:
                continue
            elif r.label == RegionLabel.TITLE:
                out.append("# " + " ".join(text.split()))
            elif r.label == RegionLabel.SECTION_HEADER:
                out.append("## " + " ".join(text.split()))
            elif r.label == RegionLabel.LIST:
                out.append("\n".join(
                    ln if ln.lstrip().startswith(("-", "*", "•")) else f"- {ln}"
                    for ln in text.splitlines()))
            else:
                out.append(text)
    for e in doc.errors:
        where = f" (page {e.page})" if e.page else ""
        out.append(f"<!-- error{where}: {e.code}: {e.message} -->")
    return "\n\n".join(out) + "\n"


def to_html(doc: Document) -> str:
    """A standalone HTML page: headings, paragraphs, lists and tables (with spans) in reading
    order, one section per page, each element carrying its box as data attributes."""
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(doc.source.name)}"
             "</title></head><body>"]
    for page in doc.pages:
        parts.append(f"<section data-page='{page.number}'>")
        for r in sorted(page.regions, key=lambda r: r.order):
            b = r.box
            attrs = (f" data-label='{r.label.value}' data-box='{b.x0},{b.y0},{b.x1},{b.y1}'"
                     f" data-confidence='{r.confidence}'")
            if r.label == RegionLabel.TABLE and r.table is not None:
                parts.append(r.table.to_html().replace("<table>", f"<table{attrs}>", 1))
            elif not r.text.strip():
                continue
            elif r.label == RegionLabel.TITLE:
                parts.append(f"<h1{attrs}>{esc(' '.join(r.text.split()))}</h1>")
            elif r.label == RegionLabel.SECTION_HEADER:
                parts.append(f"<h2{attrs}>{esc(' '.join(r.text.split()))}</h2>")
            elif r.label == RegionLabel.LIST:
                items = "".join(f"<li>{esc(ln.lstrip('-*• '))}</li>"
                                for ln in r.text.splitlines() if ln.strip())
                parts.append(f"<ul{attrs}>{items}</ul>")
            else:
                parts.append(f"<p{attrs}>{'<br>'.join(esc(x) for x in r.text.splitlines())}"
                             "</p>")
        parts.append("</section>")
    for e in doc.errors:
        parts.append(f"<!-- error (page {e.page}): {esc(e.code)}: {esc(e.message)} -->")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
