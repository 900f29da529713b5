"""Rendering: a page to a numpy array at a chosen DPI, keeping the page<->pixel transform.

Two PDF backends give the same result (same array shape for the same page and DPI):
PyMuPDF (default, fastest) and pdf2image / poppler's ``pdftoppm``. Parallel rendering uses
processes, never threads: MuPDF contexts are not thread-safe.
"""

from __future__ import annotations

import logging
import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np
import pymupdf

from docvlm import errors
from docvlm.ingest import (
    DEFAULT_LIMITS,
    Limits,
    OpenedDocument,
    image_dpi,
    image_frame,
    open_document,
)

log = logging.getLogger(__name__)

BACKENDS = ("pymupdf", "pdf2image")
DEFAULT_DPI = 200  # 8-pt print gets ~22 px per em: enough for small print


@dataclass
class RenderedPage:
    """Pixels of one page plus the exact transform to page points (top-left origin).

    ``image`` is (H, W) uint8 for gray or (H, W, 3) uint8 RGB. A point (x, y) on the page maps
    to pixel (x * sx, y * sy), with sx = pixel_width / width_pt (equal to dpi / 72 up to the
    rounding of the pixel size to whole pixels).
    """

    number: int
    image: np.ndarray
    dpi: float
    width_pt: float
    height_pt: float

    @property
    def sx(self) -> float:
        return self.image.shape[1] / self.width_pt

    @property
    def sy(self) -> float:
        return self.image.shape[0] / self.height_pt

    def to_pixels(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, ...]:
        return (x0 * self.sx, y0 * self.sy, x1 * self.sx, y1 * self.sy)

    def to_points(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, ...]:
        return (x0 / self.sx, y0 / self.sy, x1 / self.sx, y1 / self.sy)


def fit_dpi(width_pt: float, height_pt: float, dpi: float, max_pixels: int) -> float:
    """The highest DPI <= ``dpi`` at which the page has at most ``max_pixels`` pixels.

    >>> fit_dpi(612, 792, 200, 10**9)
    200
    >>> round(fit_dpi(14400, 14400, 200, 40_000_000), 2)  # a 200 x 200 inch page
    31.62
    """
    def pixels(d: float) -> int:  # sizes round up to whole pixels
        return math.ceil(width_pt * d / 72.0) * math.ceil(height_pt * d / 72.0)

    if pixels(dpi) <= max_pixels:
        return dpi
    eff = dpi * math.sqrt(max_pixels / ((width_pt * dpi / 72.0) * (height_pt * dpi / 72.0)))
    while pixels(eff) > max_pixels and eff > 1e-3:
        eff *= 0.995
    return eff


def pixel_size(page_rect: pymupdf.Rect, dpi: float) -> tuple[int, int]:
    """(width, height) in pixels of ``page_rect`` rendered at ``dpi``, as MuPDF rounds it."""
    z = dpi / 72.0
    r = (page_rect * pymupdf.Matrix(z, z)).round()
    return r.width, r.height


def render_pdf_page(page: pymupdf.Page, dpi: float, *, gray: bool = True) -> np.ndarray:
    """Bare PyMuPDF render of a loaded page to a uint8 array."""
    z = dpi / 72.0
    pix = page.get_pixmap(
        matrix=pymupdf.Matrix(z, z), colorspace=pymupdf.csGRAY if gray else pymupdf.csRGB,
        alpha=False,
    )
    a = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.h, pix.stride)
    if gray:
        return a[:, : pix.w].copy() if pix.stride != pix.w else a.copy()
    return a[:, : pix.w * 3].reshape(pix.h, pix.w, 3).copy()


def render_pdf2image(
    path: Path, number: int, size: tuple[int, int], *, gray: bool, password: str | None
) -> np.ndarray:
    """Render through poppler's pdftoppm at an exact pixel ``size`` (so shapes match MuPDF)."""
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError

    try:
        ims = convert_from_path(
            str(path), first_page=number, last_page=number, size=size, grayscale=gray,
            userpw=password, thread_count=1, timeout=120,
        )
    except (PDFPageCountError, PDFSyntaxError) as e:
        raise errors.RenderError(f"pdftoppm failed: {e}", file=path, page=number) from None
    if not ims:
        raise errors.RenderError("pdftoppm returned no image", file=path, page=number)
    im = ims[0].convert("L" if gray else "RGB")
    a = np.asarray(im, dtype=np.uint8)
    if a.shape[1] != size[0] or a.shape[0] != size[1]:  # poppler rounds differently: match
        a = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
    return a


def render_page(
    doc: OpenedDocument,
    number: int,
    *,
    dpi: float = DEFAULT_DPI,
    gray: bool = True,
    backend: str = "pymupdf",
    limits: Limits = DEFAULT_LIMITS,
) -> RenderedPage:
    """Render page ``number`` (1-based). PDFs render at ``dpi`` lowered to fit
    ``limits.max_page_pixels``; images keep their own resolution unless over that limit."""
    if backend not in BACKENDS:
        raise errors.UsageError(f"unknown render backend {backend!r}; choose from {BACKENDS}")
    if doc.pdf is not None:
        try:
            page = doc.pdf.load_page(number - 1)
            rect = page.rect
        except Exception as e:
            raise errors.CorruptDocumentError(
                f"cannot load page: {e}", file=doc.path, page=number
            ) from None
        if rect.is_empty or rect.width <= 0 or rect.height <= 0:
            raise errors.CorruptDocumentError(
                f"page has an empty size {rect}", file=doc.path, page=number
            )
        eff = fit_dpi(rect.width, rect.height, dpi, limits.max_page_pixels)
        if eff < limits.min_dpi:
            raise errors.PageTooLargeError(
                f"page is {rect.width / 72:.0f} x {rect.height / 72:.0f} in; it would need "
                f"{eff:.1f} DPI to fit {limits.max_page_pixels / 1e6:.0f} MP",
                file=doc.path, page=number,
            )
        if eff < dpi:
            log.info("%s page %d: DPI lowered from %g to %.1f to fit the pixel limit",
                     doc.path, number, dpi, eff)
        try:
            if backend == "pymupdf":
                image = render_pdf_page(page, eff, gray=gray)
            else:
                image = render_pdf2image(
                    doc.path, number, pixel_size(rect, eff), gray=gray, password=doc.password
                )
        except errors.DocvlmError:
            raise
        except Exception as e:
            raise errors.RenderError(f"rendering failed: {e}", file=doc.path, page=number) from None
        return RenderedPage(number, image, eff, rect.width, rect.height)

    frame = image_frame(doc, number)
    own_dpi = image_dpi(frame)
    image = np.asarray(frame, dtype=np.uint8)
    if gray and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    elif not gray and image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    h, w = image.shape[:2]
    width_pt, height_pt = w * 72.0 / own_dpi, h * 72.0 / own_dpi
    eff = own_dpi
    if w * h > limits.max_page_pixels:
        f = math.sqrt(limits.max_page_pixels / (w * h))
        size = (max(1, int(w * f)), max(1, int(h * f)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        eff = own_dpi * f
    return RenderedPage(number, np.ascontiguousarray(image), eff, width_pt, height_pt)


# ---------------------------------------------------------------- process-parallel rendering

_worker_docs: dict[tuple[str, str | None], OpenedDocument] = {}


def _render_in_worker(path: str, password: str | None, number: int, dpi: float, gray: bool,
                      backend: str, limits: Limits) -> RenderedPage:
    key = (path, password)
    doc = _worker_docs.get(key)
    if doc is None:  # each process opens its own handle once
        for old in _worker_docs.values():
            old.close()
        _worker_docs.clear()
        doc = _worker_docs[key] = open_document(path, password=password, limits=limits,
                                                digest=False)
    return render_page(doc, number, dpi=dpi, gray=gray, backend=backend, limits=limits)


def render_pages(
    path: str | Path,
    numbers: list[int],
    *,
    password: str | None = None,
    dpi: float = DEFAULT_DPI,
    gray: bool = True,
    backend: str = "pymupdf",
    limits: Limits = DEFAULT_LIMITS,
    workers: int | None = None,
    doc: OpenedDocument | None = None,
    pool: ProcessPoolExecutor | None = None,
):
    """Yield ``(number, RenderedPage | DocvlmError)`` in page order, rendering in ``workers``
    processes (default: one per core, at most one per page; 1 renders in this process, with
    ``doc`` when the caller has it open), or in ``pool`` when given (see :func:`render_pool`).
    A page that fails yields its error; the other pages still come."""
    workers = workers or min(os.cpu_count() or 1, len(numbers))
    if pool is None and (workers <= 1 or len(numbers) <= 1):
        own = doc is None
        doc = open_document(path, password=password, limits=limits) if own else doc
        try:
            for n in numbers:
                try:
                    yield n, render_page(doc, n, dpi=dpi, gray=gray, backend=backend,
                                         limits=limits)
                except errors.DocvlmError as e:
                    yield n, e
        finally:
            if own:
                doc.close()
        return
    own_pool = pool is None
    pool = pool or render_pool(workers)
    try:
        futs = [pool.submit(_render_in_worker, str(path), password, n, dpi, gray, backend,
                            limits) for n in numbers]
        for n, fut in zip(numbers, futs):
            try:
                yield n, fut.result()
            except errors.DocvlmError as e:
                yield n, e
    finally:
        if own_pool:
            pool.shutdown(cancel_futures=True)


def render_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A pool of rendering processes to reuse across documents (starting one costs ~0.3 s).
    forkserver: children do not inherit the parent's threads (torch's pools) or locks."""
    return ProcessPoolExecutor(workers or os.cpu_count() or 1,
                               mp_context=get_context("forkserver"))
