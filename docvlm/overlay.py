"""Overlay images: each page with its regions, lines and table cells drawn and labelled, so a
person sees at a glance what was found."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from docvlm.ingest import open_document
from docvlm.preprocess import rotate_quarter, rotate_small
from docvlm.render import render_page
from schemas import Document, RegionLabel

COLORS = {  # BGR
    RegionLabel.TITLE: (40, 40, 220), RegionLabel.SECTION_HEADER: (0, 120, 255),
    RegionLabel.TEXT: (200, 120, 0), RegionLabel.LIST: (160, 90, 160),
    RegionLabel.TABLE: (0, 160, 0), RegionLabel.FIGURE: (128, 128, 128),
    RegionLabel.CAPTION: (0, 180, 180), RegionLabel.HEADER: (120, 120, 0),
    RegionLabel.FOOTER: (120, 120, 0), RegionLabel.KEY_VALUE: (180, 0, 180),
    RegionLabel.FORM_FIELD: (180, 0, 180), RegionLabel.CHECKBOX: (90, 0, 200),
}


def draw_page(image: np.ndarray, page, scale_x: float, scale_y: float) -> np.ndarray:
    """Draw ``page`` (a schemas.Page) on a gray or RGB image of it."""
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image[..., ::-1]
    out = np.ascontiguousarray(out)

    def rect(b):
        return (int(b.x0 * scale_x), int(b.y0 * scale_y)), (int(b.x1 * scale_x),
                                                            int(b.y1 * scale_y))

    for r in page.regions:
        color = COLORS.get(r.label, (0, 0, 255))
        for ln in r.lines:
            p0, p1 = rect(ln.box)
            cv2.rectangle(out, p0, p1, tuple(int(c * 0.5 + 127) for c in color), 1)
        if r.table is not None:
            for c in r.table.cells:
                if c.box is not None:
                    p0, p1 = rect(c.box)
                    cv2.rectangle(out, p0, p1, (0, 200, 0), 1)
        p0, p1 = rect(r.box)
        cv2.rectangle(out, p0, p1, color, 2)
        tag = f"{r.order}:{r.label.value}"
        (tw, th), _ = cv2.getTextSize(tag, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        cv2.rectangle(out, (p0[0], max(0, p0[1] - th - 4)), (p0[0] + tw + 4, p0[1]), color, -1)
        cv2.putText(out, tag, (p0[0] + 2, max(th, p0[1] - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return out


def write_overlays(doc: Document, folder: str | Path, *, dpi: float = 100,
                   password: str | None = None) -> list[Path]:
    """One PNG per processed page: ``<stem>-p<N>.png``. Scans are shown as processed
    (orientation and skew undone), the frame their boxes refer to."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    stem = Path(doc.source.name).stem
    with open_document(doc.source.path, password=password, digest=False) as od:
        for page in doc.pages:
            rp = render_page(od, page.number, dpi=dpi if od.format == "pdf" else page.dpi)
            img = rp.image
            if page.rotation:
                img = rotate_quarter(img, page.rotation)
            if page.skew:
                img = rotate_small(img, page.skew)
            out = draw_page(img, page, img.shape[1] / page.width, img.shape[0] / page.height)
            path = folder / f"{stem}-p{page.number}.png"
            cv2.imwrite(str(path), out)
            written.append(path)
    return written
