import numpy as np
import pymupdf
import pytest
from PIL import Image

from docvlm import errors
from docvlm.ingest import Limits, expand_inputs, open_document, parse_page_ranges, sniff_format
from docvlm.pipeline import extract
from schemas import Status


@pytest.mark.parametrize("head,fmt", [
    (b"%PDF-1.7\n", "pdf"), (b"junk before header %PDF-1.4", "pdf"),
    (b"\x89PNG\r\n\x1a\n....", "png"), (b"\xff\xd8\xff\xe0", "jpeg"), (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"), (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
    (b"<html>", None), (b"PK\x03\x04", None), (b"", None),
])
def test_sniff_format(head, fmt):
    assert sniff_format(head) == fmt


@pytest.mark.parametrize("spec,count,inside,outside", [
    (None, 3, [1, 2, 3], []), ("1-3,7", 10, [1, 2, 3, 7], []), ("2", 5, [2], []),
    ("5-", 7, [5, 6, 7], []), ("-2", 5, [1, 2], []), ("3,1,3,2-2", 5, [1, 2, 3], []),
    ("2-4,9", 3, [2, 3], [4, 9]),
])
def test_parse_page_ranges(spec, count, inside, outside):
    assert parse_page_ranges(spec, count) == (inside, outside)


@pytest.mark.parametrize("spec", ["0", "3-1", "a", "1-2-3", ",", "1,,2", "-"])
def test_parse_page_ranges_rejects_bad_syntax(spec):
    with pytest.raises(errors.UsageError, match="bad page range"):
        parse_page_ranges(spec, 10)


EXPECTED = {
    "empty.pdf": ("empty_file", errors.EmptyFileError),
    "html.pdf": ("unsupported_format", errors.UnsupportedFormatError),
    "zip.pdf": ("unsupported_format", errors.UnsupportedFormatError),
    "header_only.pdf": ("corrupt", errors.CorruptDocumentError),
    "zero_pages.pdf": ("no_pages", errors.EmptyDocumentError),
    "encrypted.pdf": ("password_required", errors.PasswordRequiredError),
    "bomb.png": ("image_too_large", errors.ImageTooLargeError),
    "truncated.png": ("corrupt", errors.CorruptDocumentError),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_files_raise_typed_errors_naming_the_file(hostile, name):
    code, cls = EXPECTED[name]
    with pytest.raises(cls) as info:
        open_document(hostile[name])
    assert info.value.code == code
    assert name in str(info.value)
    doc = extract(hostile[name])  # the pipeline turns it into data, never raises
    assert doc.status == Status.FAILURE and [e.code for e in doc.errors] == [code]
    assert doc.errors[0].file.endswith(name)


def test_error_messages_say_what_the_bytes_are(hostile):
    with pytest.raises(errors.UnsupportedFormatError, match="HTML"):
        open_document(hostile["html.pdf"])
    with pytest.raises(errors.UnsupportedFormatError, match="ZIP"):
        open_document(hostile["zip.pdf"])


def test_encrypted_pdf_with_wrong_and_right_password(hostile):
    with pytest.raises(errors.WrongPasswordError):
        open_document(hostile["encrypted.pdf"], password="nope")
    doc = extract(hostile["encrypted.pdf"], password="secret")
    assert doc.status == Status.SUCCESS and doc.page_count == 3
    assert "quick brown fox" in doc.text()


def test_file_size_and_page_limits(text_pdf):
    with pytest.raises(errors.FileTooLargeError, match="limit"):
        open_document(text_pdf, limits=Limits(max_file_bytes=100))
    with pytest.raises(errors.TooManyPagesError, match="3 pages"):
        open_document(text_pdf, limits=Limits(max_pages=2))


def test_missing_file_and_folders(tmp_path, text_pdf):
    with pytest.raises(errors.InputNotFoundError):
        open_document(tmp_path / "nope.pdf")
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    files, problems = expand_inputs([str(empty), str(tmp_path / "missing.pdf"),
                                     str(tmp_path / "*.nothing")])
    assert files == []
    assert [p.code for p in problems] == ["no_documents", "not_found", "no_documents"]


def test_expand_inputs_folders_globs_and_sniffed_names(tmp_path, text_pdf):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "scan_without_suffix").write_bytes(text_pdf.read_bytes())  # found by its bytes
    (sub / "readme.txt").write_text("not a document")
    files, problems = expand_inputs([str(tmp_path), str(tmp_path / "*.pdf")])
    assert problems == []
    names = [f.name for f in files]
    assert names == ["scan_without_suffix", "text.pdf"]  # deduplicated, stable order


def test_repaired_pdf_keeps_its_text_and_warns(tmp_path, text_pdf):
    data = text_pdf.read_bytes()
    i = data.rindex(b"startxref")
    broken = tmp_path / "broken_xref.pdf"
    broken.write_bytes(data[:i] + b"startxref\n999999\n%%EOF\n")
    doc = extract(broken)
    assert doc.status == Status.SUCCESS and doc.page_count == 3
    assert "quick brown fox" in doc.text()
    assert [w.code for w in doc.warnings] == ["repaired"]


def test_truncated_pdf_is_data_not_a_crash(tmp_path, text_pdf):
    data = text_pdf.read_bytes()
    for frac in (0.3, 0.6, 0.9):
        p = tmp_path / f"trunc_{frac}.pdf"
        p.write_bytes(data[: int(len(data) * frac)])
        doc = extract(p)
        assert doc.status in (Status.SUCCESS, Status.PARTIAL, Status.FAILURE)
        if doc.status == Status.FAILURE:
            assert doc.errors and doc.errors[0].code in ("corrupt", "no_pages")


def test_giant_mediabox_lowers_dpi_instead_of_failing(tmp_path):
    p = tmp_path / "giant.pdf"
    doc = pymupdf.open()
    page = doc.new_page(width=14400, height=14400)  # 200 x 200 inches
    page.insert_text((100, 100), "tiny text on a giant page", fontsize=40)
    doc.save(p)
    out = extract(p, limits=Limits(max_page_pixels=4_000_000))
    assert out.status == Status.SUCCESS
    pg = out.pages[0]
    assert pg.pixel_width * pg.pixel_height <= 4_000_000
    assert pg.dpi < 200 and pg.width == 14400
    assert [w.code for w in out.warnings] == ["dpi_lowered"]


def test_multipage_tiff_and_webp(tmp_path):
    frames = [Image.fromarray(np.full((60, 80), 40 * i, np.uint8)) for i in range(1, 4)]
    tif = tmp_path / "scan.tif"
    frames[0].save(tif, save_all=True, append_images=frames[1:], dpi=(300, 300))
    doc = extract(tif, preprocess=False)
    assert doc.status == Status.SUCCESS and doc.page_count == 3 and len(doc.pages) == 3
    assert doc.source.format == "tiff"
    assert doc.pages[0].width == pytest.approx(80 * 72 / 300)
    webp = tmp_path / "photo.png"  # wrong suffix on purpose: sniffed as WebP
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(webp, format="WEBP")
    doc = extract(webp, preprocess=False)
    assert doc.source.format == "webp" and doc.pages[0].pixel_width == 40


def test_page_range_beyond_document_is_reported(text_pdf):
    doc = extract(text_pdf, pages="2,5")
    assert [p.number for p in doc.pages] == [2]
    assert doc.status == Status.PARTIAL
    assert [(e.code, e.page) for e in doc.errors] == [("page_out_of_range", 5)]
