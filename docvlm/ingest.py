"""Ingestion: sniff the format from the bytes, enforce limits, open PDFs and images.

The file name is never trusted: ``report.pdf`` holding HTML is refused as HTML. PDFs open with
PyMuPDF (encrypted ones with a password); PNG, JPEG, TIFF (multi-page) and WebP open with
Pillow, whose header gives the pixel count before anything is decoded, so a decompression
bomb is refused before it costs memory.
"""

from __future__ import annotations

import hashlib
import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf
from PIL import Image, ImageSequence

from docvlm import errors

log = logging.getLogger(__name__)

# MuPDF prints repair warnings to stderr by default; we collect them instead.
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

FORMATS = ("pdf", "png", "jpeg", "tiff", "webp")
DOCUMENT_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True)
class Limits:
    """Resource limits, each with a CLI flag. Pages over ``max_page_pixels`` are rendered at a
    lower DPI rather than refused (down to ``min_dpi``)."""

    max_file_bytes: int = 256 * 2**20
    max_pages: int = 2000
    max_page_pixels: int = 40_000_000  # A3 at 400 DPI is 31 MP
    max_image_pixels: int = 200_000_000  # declared size of an input image (bomb guard)
    min_dpi: float = 4.0


def sniff_format(head: bytes) -> str | None:
    """The document format from its first bytes, or None. PDF readers accept a header anywhere
    in the first 1024 bytes (PDF 32000-1, annex H), so do we."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


def describe_bytes(head: bytes) -> str:
    """A short human guess of what unsupported bytes are, for error messages."""
    h = head[:512].lstrip().lower()
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (or Office document)"
    if h.startswith((b"<!doctype html", b"<html")) or b"<html" in h:
        return "an HTML page"
    if h.startswith(b"<?xml"):
        return "an XML file"
    if head.startswith(b"GIF8"):
        return "a GIF image (not supported)"
    if head.startswith(b"BM"):
        return "a BMP image (not supported)"
    return "not a PDF or a supported image (PNG, JPEG, TIFF, WebP)"


def parse_page_ranges(spec: str | None, page_count: int) -> tuple[list[int], list[int]]:
    """``'1-3,7,9-'`` -> (pages in the document, requested pages beyond it), 1-based, sorted,
    deduplicated. ``None`` or ``''`` means every page. Bad syntax raises UsageError."""
    if not spec:
        return list(range(1, page_count + 1)), []
    wanted: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)?\s*(-)?\s*(\d+)?", part)
        if not part or not m or (m.group(1) is None and m.group(3) is None):
            raise errors.UsageError(f"bad page range {part!r} in {spec!r} (expected e.g. 1-3,7)")
        a, dash, b = m.groups()
        if dash is None:
            lo = hi = int(a)
        else:
            lo = int(a) if a else 1
            hi = int(b) if b else max(page_count, lo)
        if lo < 1 or hi < lo:
            raise errors.UsageError(f"bad page range {part!r} in {spec!r}")
        wanted.update(range(lo, hi + 1))
    inside = sorted(p for p in wanted if p <= page_count)
    outside = sorted(p for p in wanted if p > page_count)
    return inside, outside


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class OpenedDocument:
    """A validated document handle. ``pdf`` is set for PDFs, ``frames`` for images."""

    path: Path
    format: str
    size_bytes: int
    sha256: str
    page_count: int
    password: str | None = None
    pdf: pymupdf.Document | None = None
    frames: list[Image.Image] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def close(self) -> None:
        if self.pdf is not None:
            self.pdf.close()
        for im in self.frames:
            im.close()

    def __enter__(self) -> OpenedDocument:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


DEFAULT_LIMITS = Limits()


def open_document(
    path: str | Path, *, password: str | None = None, limits: Limits = DEFAULT_LIMITS,
    digest: bool = True,
) -> OpenedDocument:
    """Validate and open one file. Raises a :mod:`docvlm.errors` error naming the file.
    ``digest=False`` skips the SHA-256 (rendering workers re-open files already hashed)."""
    path = Path(path)
    if not path.exists():
        raise errors.InputNotFoundError("no such file", file=path)
    if path.is_dir():
        raise errors.UsageError("is a directory (pass it as an input to expand it)", file=path)
    size = path.stat().st_size
    if size == 0:
        raise errors.EmptyFileError("file is empty (0 bytes)", file=path)
    if size > limits.max_file_bytes:
        raise errors.FileTooLargeError(
            f"file is {size / 2**20:.1f} MiB, over the {limits.max_file_bytes / 2**20:.0f} MiB "
            "limit (--max-file-mb)",
            file=path,
        )
    with path.open("rb") as f:
        head = f.read(2048)
    fmt = sniff_format(head)
    if fmt is None:
        raise errors.UnsupportedFormatError(f"the bytes are {describe_bytes(head)}", file=path)
    sha = file_digest(path) if digest else ""
    if fmt == "pdf":
        doc = _open_pdf(path, password)
    else:
        doc = _open_image(path, fmt, limits)
    doc.size_bytes, doc.sha256 = size, sha
    if doc.page_count == 0:
        doc.close()
        if doc.warnings:  # MuPDF had to rebuild the file and found nothing
            raise errors.CorruptDocumentError(
                "the file is damaged and no page could be recovered ("
                + "; ".join(doc.warnings[:2]) + ")", file=path)
        raise errors.EmptyDocumentError("the document has no pages", file=path)
    if doc.page_count > limits.max_pages:
        doc.close()
        raise errors.TooManyPagesError(
            f"{doc.page_count} pages, over the {limits.max_pages}-page limit (--max-pages)",
            file=path,
        )
    return doc


def _open_pdf(path: Path, password: str | None) -> OpenedDocument:
    pymupdf.TOOLS.mupdf_warnings(reset=True)
    try:
        pdf = pymupdf.open(path, filetype="pdf")
    except (pymupdf.FileDataError, pymupdf.EmptyFileError, RuntimeError, ValueError) as e:
        raise errors.CorruptDocumentError(f"cannot parse PDF: {e}", file=path) from None
    if pdf.needs_pass:
        if password is None:
            pdf.close()
            raise errors.PasswordRequiredError(
                "the PDF is encrypted; pass its password with --password", file=path
            )
        if not pdf.authenticate(password):
            pdf.close()
            raise errors.WrongPasswordError("the password does not open this PDF", file=path)
    try:
        n = pdf.page_count
    except Exception as e:  # MuPDF can fail lazily on a broken page tree
        pdf.close()
        raise errors.CorruptDocumentError(f"cannot read the page tree: {e}", file=path) from None
    warns = [w for w in pymupdf.TOOLS.mupdf_warnings(reset=True).splitlines() if w]
    if warns:
        log.info("%s: MuPDF repaired the file: %s", path, "; ".join(warns[:3]))
    return OpenedDocument(
        path=path, format="pdf", size_bytes=0, sha256="", page_count=n, password=password,
        pdf=pdf, warnings=warns,
    )


def _open_image(path: Path, fmt: str, limits: Limits) -> OpenedDocument:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(path)
        except Image.DecompressionBombError as e:
            raise errors.ImageTooLargeError(
                f"refused as a decompression bomb: {e}", file=path) from None
        except (OSError, SyntaxError, ValueError) as e:
            raise errors.CorruptDocumentError(
                f"cannot parse {fmt.upper()}: {e}", file=path) from None
    frames = []
    try:
        for i, frame in enumerate(ImageSequence.Iterator(im)):
            w, h = frame.size
            if w * h > limits.max_image_pixels:
                raise errors.ImageTooLargeError(
                    f"declares {w}x{h} = {w * h / 1e6:.0f} MP, over the "
                    f"{limits.max_image_pixels / 1e6:.0f} MP limit (decompression bomb guard)",
                    file=path, page=i + 1,
                )
            frames.append(i)
    except errors.DocvlmError:
        im.close()
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        im.close()
        raise errors.CorruptDocumentError(
            f"cannot read {fmt.upper()} frames: {e}", file=path) from None
    im.seek(0)
    return OpenedDocument(
        path=path, format=fmt, size_bytes=0, sha256="", page_count=len(frames), frames=[im]
    )


def image_dpi(im: Image.Image) -> float:
    """The image's stated DPI when plausible, else 72 (so one point is one pixel)."""
    dpi = im.info.get("dpi")
    try:
        x = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        x = 0.0
    return x if 50.0 <= x <= 2400.0 else 72.0


def image_frame(doc: OpenedDocument, number: int) -> Image.Image:
    """Decoded frame ``number`` (1-based) of an image document, as L or RGB."""
    im = doc.frames[0]
    try:
        im.seek(number - 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im.load()
        frame = im.copy()
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise errors.CorruptDocumentError(
            f"cannot decode image data: {e}", file=doc.path, page=number
        ) from None
    frame.info.setdefault("dpi", im.info.get("dpi"))
    if frame.mode not in ("L", "RGB"):
        if frame.mode in ("RGBA", "LA", "P", "PA"):
            frame = frame.convert("RGBA")
            white = Image.new("RGBA", frame.size, (255, 255, 255, 255))
            frame = Image.alpha_composite(white, frame).convert("RGB")
        elif frame.mode in ("1", "I;16", "I;16B", "I;16L", "I", "F"):
            frame = frame.convert("L") if frame.mode == "1" else _to_8bit(frame)
        else:
            frame = frame.convert("RGB")
    return frame


def _to_8bit(im: Image.Image) -> Image.Image:
    import numpy as np

    a = np.asarray(im, dtype=np.float64)
    lo, hi = float(a.min()), float(a.max())
    a = (a - lo) / (hi - lo or 1.0) * 255.0
    return Image.fromarray(a.astype("uint8"), mode="L")


def expand_inputs(args: list[str]) -> tuple[list[Path], list[errors.DocvlmError]]:
    """Files named by paths, folders (searched recursively) and globs, in a stable order, plus
    an error for each argument that names nothing usable. A file inside a folder counts when
    its name has a document suffix or its first bytes are a supported format."""
    import glob as _glob

    files: list[Path] = []
    problems: list[errors.DocvlmError] = []

    def from_dir(d: Path) -> list[Path]:
        found = []
        for p in sorted(d.rglob("*")):
            if not p.is_file():
                continue
            if p.suffix.lower() in DOCUMENT_SUFFIXES:
                found.append(p)
                continue
            try:
                with p.open("rb") as f:
                    if sniff_format(f.read(2048)):
                        found.append(p)
            except OSError:
                continue
        return found

    for arg in args:
        p = Path(arg)
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            found = from_dir(p)
            if not found:
                problems.append(errors.NoDocumentsFoundError(
                    "folder holds no PDF or image documents", file=p))
            files.extend(found)
        elif any(ch in arg for ch in "*?["):
            found = []
            for m in sorted(_glob.glob(arg, recursive=True)):
                mp = Path(m)
                found.extend([mp] if mp.is_file() else from_dir(mp) if mp.is_dir() else [])
            if not found:
                problems.append(errors.NoDocumentsFoundError("pattern matched no documents",
                                                             file=arg))
            files.extend(found)
        else:
            problems.append(errors.InputNotFoundError("no such file or folder", file=p))
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, problems
