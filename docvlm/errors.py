"""Typed errors for everything a caller or a file can get wrong.

Every error says *what* went wrong and *where* (file, and page when there is one), and maps
to an exit code and an :class:`schemas.ErrorItem`, so a batch reports a bad file as data and
goes on. Internal invariants use ``assert``; these are for input.
"""

from __future__ import annotations

from pathlib import Path

from schemas import replace_surrogates


class DocvlmError(Exception):
    """Base class. ``file`` and ``page`` (1-based) locate the problem; ``stage`` names the
    pipeline component that raised it."""

    code = "error"
    stage = "ingest"

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        page: int | None = None,
        stage: str | None = None,
    ) -> None:
        # messages quote library errors, which may carry lone surrogates from broken files
        self.message = replace_surrogates(message)
        self.file = replace_surrogates(str(file)) if file is not None else None
        self.page = page
        if stage is not None:
            self.stage = stage
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.page is not None:
            where.append(f"page {self.page}")
        prefix = f"{': '.join(where)}: " if where else ""
        return f"{prefix}{self.message}"

    def to_item(self):
        from schemas import ErrorItem

        return ErrorItem(
            code=self.code,
            message=self.message,
            file=self.file,
            page=self.page,
            stage=self.stage,
        )


class UsageError(DocvlmError):
    """A bad option value (page range syntax, limits). CLI exit code 2."""

    code = "usage"
    stage = "cli"


class InputNotFoundError(DocvlmError):
    code = "not_found"


class NoDocumentsFoundError(DocvlmError):
    """A folder or glob that matched no supported document."""

    code = "no_documents"


class FileTooLargeError(DocvlmError):
    code = "file_too_large"


class EmptyFileError(DocvlmError):
    code = "empty_file"


class UnsupportedFormatError(DocvlmError):
    """The bytes are not a PDF or a supported image, whatever the file name says."""

    code = "unsupported_format"


class CorruptDocumentError(DocvlmError):
    """The file claims a supported format but cannot be parsed (truncated, broken xref...)."""

    code = "corrupt"


class EncryptedDocumentError(DocvlmError):
    code = "encrypted"


class PasswordRequiredError(EncryptedDocumentError):
    code = "password_required"


class WrongPasswordError(EncryptedDocumentError):
    code = "wrong_password"


class EmptyDocumentError(DocvlmError):
    code = "no_pages"


class TooManyPagesError(DocvlmError):
    code = "too_many_pages"


class PageOutOfRangeError(DocvlmError):
    code = "page_out_of_range"


class ImageTooLargeError(DocvlmError):
    """An image whose header declares more pixels than allowed (a decompression bomb)."""

    code = "image_too_large"


class PageTooLargeError(DocvlmError):
    """A page that cannot be rendered within the pixel budget even at the lowest DPI."""

    code = "page_too_large"
    stage = "render"


class RenderError(DocvlmError):
    code = "render_failed"
    stage = "render"


class DocumentTimeoutError(DocvlmError):
    code = "timeout"
    stage = "pipeline"


class ModelError(DocvlmError):
    """A checkpoint or config that cannot be loaded, or inputs that do not fit the model."""

    code = "model"
    stage = "model"
