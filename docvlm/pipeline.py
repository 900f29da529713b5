"""The in-process pipeline: ``extract(path) -> Document``.

A plain sequence of page stages (ingest -> render -> preprocess scans -> text layer ->
assemble). Errors are data: a page that fails gets an :class:`schemas.ErrorItem` naming page
and stage, the other pages still come back, and the document's status says success, partial
or failure. Raising is reserved for usage errors (bad options).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from docvlm import errors
from docvlm.crops import READ_SCALES, READ_WIDTHS
from docvlm.ingest import Limits, OpenedDocument, open_document, parse_page_ranges
from docvlm.preprocess import preprocess_scan
from docvlm.render import DEFAULT_DPI, RenderedPage, render_pages
from docvlm.textlayer import classify_page, page_words, text_regions
from schemas import Document, ErrorItem, Page, PageKind, SourceFile, Status, TokenStats

log = logging.getLogger(__name__)


@dataclass
class ExtractOptions:
    pages: str | None = None  # "1-3,7"; None = all
    dpi: float = DEFAULT_DPI
    password: str | None = None
    gray: bool = True
    backend: str = "pymupdf"
    preprocess: bool = True  # light/orientation/deskew/contrast/denoise on scanned pages only
    limits: Limits = field(default_factory=Limits)
    render_workers: int = 1  # >1 renders pages in that many processes
    mode: str = "auto"  # auto | vision | anchored | text (text layer only, no model)
    model: object = None  # model folder (or a loaded DocVLM); None: $DOCVLM_MODEL or the
    # shipped weights
    read_scales: tuple[float, ...] = READ_SCALES  # (1.0,) and read_widths (1.0,): each
    read_widths: tuple[float, ...] = READ_WIDTHS  # line read once, faster
    lexicon: bool = True  # unknown words read again against an English lexicon
    # (docvlm.lexicon); False: every word exactly as the reading head read it
    precision: str = "auto"  # auto (int8 on CPU) | int8 | fp32: the model's linear layers


def _internal(e: Exception, path: Path, page: int | None, stage: str) -> ErrorItem:
    log.debug("unexpected error in %s", stage, exc_info=e)
    return ErrorItem(code="internal", message=f"{type(e).__name__}: {e}", file=str(path),
                     page=page, stage=stage)


MODES = ("auto", "vision", "anchored", "text")
PRECISIONS = ("auto", "int8", "fp32")
DEFAULT_MODEL_DIR = Path(__file__).parent / "weights" / "small"


def default_model_path() -> Path | None:
    """``$DOCVLM_MODEL`` or the shipped weights, when present (no torch import here: the
    text-layer path must start fast)."""
    env = os.environ.get("DOCVLM_MODEL")
    if env:
        return Path(env)
    return DEFAULT_MODEL_DIR if (DEFAULT_MODEL_DIR / "model.safetensors").exists() else None


def _page(doc: OpenedDocument, rendered: RenderedPage, opts: ExtractOptions,
          model, warnings: list[ErrorItem]) -> Page:
    n = rendered.number
    regions, words, kind = [], [], PageKind.IMAGE
    if doc.pdf is not None:
        pdf_page = doc.pdf.load_page(n - 1)
        words = page_words(pdf_page)
        kind = classify_page(pdf_page, len(words))
    width, height = rendered.width_pt, rendered.height_pt
    image, rotation, steps = rendered.image, 0, []
    if opts.preprocess and kind in (PageKind.SCANNED, PageKind.IMAGE):
        # a model that reads lines tells an upside-down page by reading it both ways
        scores = None
        if model is not None and opts.mode != "text" and model.reads_lines:
            from docvlm.passes import PageReader

            scores = PageReader(model.get()).line_scores
        res = preprocess_scan(image, line_scores=scores)
        image, rotation, steps = res.image, res.rotation, res.steps
        rendered.dpi *= res.scale  # small text enlarged: the pixels are finer
        if rotation in (90, 270):
            width, height = height, width
        rendered.image, rendered.width_pt, rendered.height_pt = image, width, height
    if words:
        regions = text_regions(pdf_page, n, words)
    mode, tokens = "text-layer", None
    if opts.mode != "text" and (model is not None or opts.mode == "auto"):
        from docvlm.regions import anchor_text, segment_layout, structure, usable_text_layer

        mode = opts.mode
        if mode == "auto":
            mode = "anchored" if regions and usable_text_layer(regions) else "vision"
        if mode == "anchored" and not regions:
            mode = "vision"  # nothing to anchor to: read the pixels
        problems: list[str] = []
        if mode == "vision" and model is None:
            mode = "text-layer"  # no weights: nothing reads the pixels
        elif mode == "anchored" and (model is None or not model.does_layout):
            # exact text, structure from segmentation: no weights needed, none loaded
            found = segment_layout(image, n, width, height)
            regions = structure(anchor_text(found, regions, n), n, width, height)
        else:
            from docvlm.passes import PageReader

            reader = PageReader(model.get(), scales=opts.read_scales, widths=opts.read_widths,
                                lexicon=opts.lexicon)
            found, problems, counts = reader.layout(
                image, n, width, height, anchors=regions if mode == "anchored" else None)
            tokens = TokenStats(kept=counts[0], total=counts[1]) if counts else None
            if mode == "anchored":
                regions = anchor_text(found, regions, n)
            else:
                problems += reader.parse(image, found, width, height)
                regions = found
            if counts is None:  # segmented regions: labels and key/value pairs from the text
                regions = structure(regions, n, width, height)
        for p in problems:
            warnings.append(ErrorItem(
                code="decode", message=p, file=str(doc.path), page=n, stage="model"))
    return Page(
        number=n, width=round(width, 2), height=round(height, 2),
        pixel_width=image.shape[1], pixel_height=image.shape[0], dpi=round(rendered.dpi, 2),
        rotation=rotation, kind=kind, has_text_layer=bool(words), mode=mode,
        visual_tokens=tokens, preprocessing=steps, regions=regions,
    )


class ModelRef:
    """The configured model: what it was trained on now (its config.json, no torch import),
    its weights on first use (once per process)."""

    def __init__(self, path: str | os.PathLike | None = None, model=None,
                 precision: str = "auto") -> None:
        self.path, self._model, self.precision = path, model, precision
        if model is not None:
            cfg = model.cfg.to_dict()
        else:
            path_cfg = Path(path) / "config.json"
            if not path_cfg.exists():
                raise errors.ModelError("missing config.json", file=Path(path))
            cfg = json.loads(path_cfg.read_text())
        self.tasks = set(cfg.get("trained_tasks", []))
        self.does_layout = "layout" in self.tasks
        # reads text lines with its reading head (what tells an upside-down scan)
        self.reads_lines = ("read_line" in self.tasks and cfg.get("ctc_head", True)
                            and cfg.get("read_with") == "ctc")

    def get(self):
        if self._model is None:
            from docvlm.passes import int8_for, load_model

            self._model = load_model(self.path, int8=int8_for(self.precision))
        return self._model


def _model_for(opts: ExtractOptions) -> ModelRef | None:
    """The model to use, or None (text-layer extraction only)."""
    if opts.mode not in MODES:
        raise errors.UsageError(f"unknown mode {opts.mode!r}; choose from {MODES}")
    if opts.precision not in PRECISIONS:
        raise errors.UsageError(f"unknown precision {opts.precision!r}; choose from "
                                f"{PRECISIONS}")
    if opts.mode == "text":
        return None
    if opts.model is not None and not isinstance(opts.model, str | os.PathLike):
        return ModelRef(model=opts.model)  # an already loaded model (evaluation, notebooks)
    path = opts.model or default_model_path()
    if path is None:
        if opts.mode in ("vision", "anchored"):
            raise errors.UsageError(f"--mode {opts.mode} needs a model: pass --model DIR or "
                                    "set DOCVLM_MODEL (no shipped weights in this install)")
        return None
    return ModelRef(path, precision=opts.precision)


def extract(path: str | Path, options: ExtractOptions | None = None, **kw) -> Document:
    """Process one file into a :class:`Document`. Never raises for a bad file: its errors are
    in ``Document.errors``. Raises :class:`errors.UsageError` for bad options."""
    opts = options or ExtractOptions(**kw)
    model = _model_for(opts)
    path = Path(path)
    source = SourceFile(name=path.name, path=str(path))
    try:
        doc = open_document(path, password=opts.password, limits=opts.limits)
    except errors.DocvlmError as e:
        return Document(source=source, status=Status.FAILURE, errors=[e.to_item()])
    except Exception as e:
        return Document(source=source, status=Status.FAILURE,
                        errors=[_internal(e, path, None, "ingest")])
    with doc:
        source = SourceFile(name=path.name, path=str(path), size_bytes=doc.size_bytes,
                            sha256=doc.sha256, format=doc.format)
        result = Document(source=source, page_count=doc.page_count)
        if doc.warnings:
            result.warnings.append(ErrorItem(
                code="repaired", message="MuPDF repaired the file: " + "; ".join(doc.warnings[:5]),
                file=str(path), stage="ingest"))
        numbers, outside = parse_page_ranges(opts.pages, doc.page_count)
        for n in outside:
            result.errors.append(errors.PageOutOfRangeError(
                f"requested page {n} but the document has {doc.page_count}", file=path, page=n,
            ).to_item())
        for n, rendered in render_pages(
            path, numbers, password=opts.password, dpi=opts.dpi, gray=opts.gray,
            backend=opts.backend, limits=opts.limits, workers=opts.render_workers, doc=doc,
        ):
            if isinstance(rendered, errors.DocvlmError):
                result.errors.append(rendered.to_item())
                continue
            if rendered.dpi < opts.dpi - 1e-6 and doc.format == "pdf":
                result.warnings.append(ErrorItem(
                    code="dpi_lowered", file=str(path), page=n, stage="render",
                    message=f"rendered at {rendered.dpi:.1f} DPI instead of {opts.dpi:g} to fit "
                            f"{opts.limits.max_page_pixels} pixels"))
            try:
                result.pages.append(_page(doc, rendered, opts, model, result.warnings))
            except errors.DocvlmError as e:
                result.errors.append(e.to_item())
            except Exception as e:
                result.errors.append(_internal(e, path, n, "page"))
    if not result.pages:
        result.status = Status.FAILURE
    elif result.errors:
        result.status = Status.PARTIAL
    return result
