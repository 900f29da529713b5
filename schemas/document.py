"""The output contract: a processed document as pydantic v2 models.

Coordinates: every :class:`Box` is in PDF points (1/72 inch), origin at the top-left corner of
the page *as displayed* (the PDF ``/Rotate`` applied, and the orientation correction and the
deskew of a scan applied, see :attr:`Page.rotation` and :attr:`Page.preprocessing`; to draw on
the scan as it came in, :meth:`Page.source_box` turns a box back), x to the right, y downwards,
and carries its 1-based page number. For image inputs a point is one pixel at the image's
stated DPI (72 when it states none).
"""

from __future__ import annotations

import html
import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_NAME = "docvlm.document"
SCHEMA_VERSION = "1.0.0"


_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(s: str) -> str:
    """Lone surrogates (broken PDF font encodings, undecodable file names) cannot be written
    as UTF-8: replace each with U+FFFD."""
    return s if s.isascii() else _SURROGATE.sub("\ufffd", s)


def _clean(v):
    return replace_surrogates(v) if isinstance(v, str) else v


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_surrogates(cls, data):
        if isinstance(data, dict):
            return {k: _clean(v) for k, v in data.items()}
        return data


class Box(_Model):
    """An axis-aligned rectangle on a page, in PDF points, top-left origin."""

    page: int = Field(ge=1, description="1-based page number the box lies on")
    x0: float
    y0: float
    x1: float
    y1: float
    unit: Literal["pt"] = "pt"
    origin: Literal["top-left"] = "top-left"

    @model_validator(mode="after")
    def _ordered(self) -> Box:
        if self.x1 < self.x0 or self.y1 < self.y0:
            raise ValueError(f"box corners out of order: ({self.x0},{self.y0},{self.x1},{self.y1})")
        return self

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def iou(self, other: Box) -> float:
        if other.page != self.page:
            return 0.0
        ix = max(0.0, min(self.x1, other.x1) - max(self.x0, other.x0))
        iy = max(0.0, min(self.y1, other.y1) - max(self.y0, other.y0))
        inter = ix * iy
        union = self.width * self.height + other.width * other.height - inter
        return inter / union if union > 0 else 0.0


class Source(StrEnum):
    VISION = "vision"
    TEXT_LAYER = "text-layer"
    ACROFORM = "acroform"


class RegionLabel(StrEnum):
    """Closed set of region labels (DocLayNet's classes plus form fields and checkboxes)."""

    TITLE = "title"
    SECTION_HEADER = "section_header"
    TEXT = "text"
    LIST = "list"
    TABLE = "table"
    FIGURE = "figure"
    CAPTION = "caption"
    HEADER = "header"
    FOOTER = "footer"
    FOOTNOTE = "footnote"
    FORMULA = "formula"
    FORM_FIELD = "form_field"
    CHECKBOX = "checkbox"
    KEY_VALUE = "key_value"


class Word(_Model):
    text: str
    box: Box
    confidence: float = Field(1.0, ge=0.0, le=1.0)


class Line(_Model):
    text: str
    box: Box
    words: list[Word] = Field(default_factory=list)
    confidence: float = Field(1.0, ge=0.0, le=1.0)


class TableCell(_Model):
    row: int = Field(ge=0)
    col: int = Field(ge=0)
    row_span: int = Field(1, ge=1)
    col_span: int = Field(1, ge=1)
    text: str = ""
    column_header: bool = False
    row_header: bool = False
    box: Box | None = None


class Table(_Model):
    n_rows: int = Field(ge=0)
    n_cols: int = Field(ge=0)
    cells: list[TableCell] = Field(default_factory=list)
    box: Box | None = None

    @model_validator(mode="after")
    def _cells_in_grid(self) -> Table:
        taken: set[tuple[int, int]] = set()
        for c in self.cells:
            if c.row + c.row_span > self.n_rows or c.col + c.col_span > self.n_cols:
                raise ValueError(
                    f"cell at row {c.row}, col {c.col} (span {c.row_span}x{c.col_span}) "
                    f"exceeds the {self.n_rows}x{self.n_cols} grid"
                )
            for r in range(c.row, c.row + c.row_span):
                for k in range(c.col, c.col + c.col_span):
                    if (r, k) in taken:
                        raise ValueError(f"cells overlap at row {r}, col {k}")
                    taken.add((r, k))
        return self

    def grid(self) -> list[list[TableCell | None]]:
        """Row-major grid where each slot holds the cell that *starts* there (None if covered)."""
        g: list[list[TableCell | None]] = [[None] * self.n_cols for _ in range(self.n_rows)]
        for c in self.cells:
            g[c.row][c.col] = c
        return g

    def to_html(self) -> str:
        rows = []
        for row in self.grid():
            tds = []
            for c in row:
                if c is None:
                    continue
                tag = "th" if c.column_header or c.row_header else "td"
                attrs = ""
                if c.row_span > 1:
                    attrs += f' rowspan="{c.row_span}"'
                if c.col_span > 1:
                    attrs += f' colspan="{c.col_span}"'
                tds.append(f"<{tag}{attrs}>{html.escape(c.text)}</{tag}>")
            rows.append("<tr>" + "".join(tds) + "</tr>")
        return "<table>" + "".join(rows) + "</table>"

    def to_markdown(self) -> str:
        """GitHub Markdown. Spanned slots repeat nothing (left empty): Markdown has no spans."""
        if self.n_rows == 0 or self.n_cols == 0:
            return ""
        text = [[""] * self.n_cols for _ in range(self.n_rows)]
        for c in self.cells:
            text[c.row][c.col] = " ".join(c.text.split()).replace("|", "\\|")
        n_head = 0
        for r in range(self.n_rows):
            starts = [c for c in self.cells if c.row == r]
            if starts and all(c.column_header for c in starts):
                n_head = r + 1
            else:
                break
        n_head = max(n_head, 1)  # Markdown needs a header row; use the first row
        lines = ["| " + " | ".join(text[r]) + " |" for r in range(n_head)]
        lines.insert(1, "|" + "|".join(["---"] * self.n_cols) + "|")
        lines += ["| " + " | ".join(text[r]) + " |" for r in range(n_head, self.n_rows)]
        return "\n".join(lines)


class FormField(_Model):
    key: str
    value: str | None
    key_box: Box | None = None
    value_box: Box | None = None
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    source: Source = Source.VISION


class Region(_Model):
    id: str = Field(description="unique within the document, e.g. 'p1-r3'")
    label: RegionLabel
    box: Box
    text: str = ""
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    source: Source
    order: int = Field(0, ge=0, description="reading-order index within the page")
    lines: list[Line] = Field(default_factory=list)
    table: Table | None = None
    field: FormField | None = None


class PageKind(StrEnum):
    BORN_DIGITAL = "born-digital"
    SCANNED = "scanned"
    IMAGE = "image"


class PreprocessStep(_Model):
    """One scan-preprocessing step and what it found or did."""

    name: Literal["illumination", "orientation", "deskew", "contrast", "denoise", "upscale"]
    applied: bool
    angle: float | None = Field(None, description="degrees, counter-clockwise positive")
    detail: str = ""


class TokenStats(_Model):
    """Visual tokens the layout pass kept after blank-patch pruning, of all it could use."""

    kept: int = Field(ge=0)
    total: int = Field(ge=0)


class Page(_Model):
    number: int = Field(ge=1)
    width: float = Field(gt=0, description="page width in points, as displayed")
    height: float = Field(gt=0, description="page height in points, as displayed")
    pixel_width: int = Field(ge=0, description="rendered width in pixels (0: not rendered)")
    pixel_height: int = Field(ge=0)
    dpi: float = Field(ge=0, description="rendering resolution actually used")
    rotation: Literal[0, 90, 180, 270] = Field(
        0, description="clockwise rotation applied to make the page upright (orientation fix)"
    )
    kind: PageKind
    has_text_layer: bool = False
    mode: Literal["text-layer", "vision", "anchored"] = Field(
        "text-layer", description="how regions were found: text layer only, the model from "
        "pixels, or the model's layout with the text layer's exact text")
    visual_tokens: TokenStats | None = None
    preprocessing: list[PreprocessStep] = Field(default_factory=list)
    regions: list[Region] = Field(default_factory=list)

    @property
    def skew(self) -> float:
        """Degrees (counter-clockwise) the deskew step found and undid; 0.0 when it did not
        turn the page."""
        return next((s.angle for s in self.preprocessing
                     if s.name == "deskew" and s.applied and s.angle), 0.0)

    def source_box(self, box: Box) -> Box:
        """``box`` (on the page as output: upright and deskewed) where it lies on the page
        as it came in, before the orientation fix and the deskew: the axis-aligned box
        around its corners turned back (points, top-left origin). To draw on the input
        scan, multiply by its pixels per point."""
        import math

        w, h = self.width, self.height
        a = math.radians(self.skew)  # the deskew turned the page clockwise by ``skew``: undo it
        cos, sin = math.cos(a), math.sin(a)
        pts = []
        for x, y in ((box.x0, box.y0), (box.x1, box.y0), (box.x0, box.y1), (box.x1, box.y1)):
            dx, dy = x - w / 2, y - h / 2  # y down: a counter-clockwise turn on screen
            x, y = w / 2 + cos * dx + sin * dy, h / 2 - sin * dx + cos * dy
            if self.rotation == 90:  # turned clockwise by a quarter: turn it back
                x, y = y, w - x
            elif self.rotation == 180:
                x, y = w - x, h - y
            elif self.rotation == 270:
                x, y = h - y, x
            pts.append((x, y))
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return Box(page=box.page, x0=min(xs), y0=min(ys), x1=max(xs), y1=max(ys))


class Status(StrEnum):
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILURE = "failure"


class ErrorItem(_Model):
    code: str = Field(description="machine-readable error kind, e.g. 'password_required'")
    message: str
    file: str | None = None
    page: int | None = None
    stage: str = Field(description="pipeline component that raised it, e.g. 'ingest', 'render'")


class SourceFile(_Model):
    name: str
    path: str | None = None
    size_bytes: int | None = Field(None, ge=0)
    sha256: str | None = None
    format: Literal["pdf", "png", "jpeg", "tiff", "webp"] | None = None


class Document(_Model):
    schema_name: Literal["docvlm.document"] = SCHEMA_NAME
    schema_version: str = SCHEMA_VERSION
    source: SourceFile
    page_count: int = Field(0, ge=0, description="pages in the file (not only those processed)")
    pages: list[Page] = Field(default_factory=list)
    status: Status = Status.SUCCESS
    errors: list[ErrorItem] = Field(default_factory=list)
    warnings: list[ErrorItem] = Field(
        default_factory=list, description="non-fatal: a repaired file, a lowered DPI"
    )
    fields: list[FormField] = Field(default_factory=list)

    def text(self) -> str:
        return "\n\n".join(r.text for p in self.pages for r in p.regions if r.text)
