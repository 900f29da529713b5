"""Serialisations of a :class:`schemas.Document`: JSON and Markdown."""

from __future__ import annotations

from schemas import Document, RegionLabel


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
