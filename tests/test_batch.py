"""Batch processing: process pool, per-document timeout, skip-existing, summary."""

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from docvlm.batch import run_batch
from docvlm.pipeline import ExtractOptions
from schemas import Status
from tests.conftest import make_text_pdf

DOCVLM = str(Path(sys.executable).with_name("docvlm"))


def test_pool_gives_the_same_documents_as_in_process(tmp_path):
    files = [make_text_pdf(tmp_path / f"d{i}.pdf", pages=i + 1) for i in range(4)]
    opts = ExtractOptions(mode="text", dpi=72)
    serial = {d.source.name: d for d in run_batch(files, opts, jobs=1, progress=False)}
    pooled = {d.source.name: d for d in run_batch(files, opts, jobs=2, progress=False)}
    assert set(pooled) == {f.name for f in files}
    for name, d in serial.items():
        assert pooled[name].model_dump() == d.model_dump()


def test_timeout_fails_one_document_and_the_batch_goes_on(tmp_path):
    slow = tmp_path / "slow.png"  # 144 MP of white: seconds to decode and preprocess
    Image.new("L", (12000, 12000), 255).save(slow)
    good = [make_text_pdf(tmp_path / f"g{i}.pdf") for i in range(3)]
    docs = {d.source.name: d for d in run_batch([slow, *good], ExtractOptions(mode="text"),
                                                jobs=2, timeout=1.0, progress=False)}
    assert docs["slow.png"].status == Status.FAILURE
    assert docs["slow.png"].errors[0].code == "timeout"
    assert all(docs[f.name].status == Status.SUCCESS for f in good)


def test_cli_batch_skip_existing_and_summary(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        make_text_pdf(src / f"doc{i}.pdf")
    out = tmp_path / "out"
    r = subprocess.run([DOCVLM, "extract", str(src), "-o", str(out), "-j", "2", "--mode",
                        "text"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "3 documents: 3 ok, 0 partial, 0 failed, 0 skipped" in r.stderr
    (out / "doc1.json").unlink()
    before = (out / "doc0.json").stat().st_mtime_ns
    r = subprocess.run([DOCVLM, "extract", str(src), "-o", str(out), "--skip-existing",
                        "--mode", "text"], capture_output=True, text=True, timeout=300)
    assert "1 document: 1 ok, 0 partial, 0 failed, 2 skipped" in r.stderr
    assert (out / "doc0.json").stat().st_mtime_ns == before  # not rewritten
    assert json.loads((out / "doc1.json").read_text())["status"] == "success"
    r = subprocess.run([DOCVLM, "extract", str(src), "--skip-existing"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "needs -o" in r.stderr


def test_overlay_pngs_show_regions(tmp_path):
    import cv2

    from docvlm.overlay import write_overlays
    from docvlm.pipeline import extract

    pdf = make_text_pdf(tmp_path / "a.pdf", pages=2)
    doc = extract(pdf, mode="text")
    paths = write_overlays(doc, tmp_path / "ov", dpi=50)
    assert [p.name for p in paths] == ["a-p1.png", "a-p2.png"]
    img = cv2.imread(str(paths[0]))
    assert abs(img.shape[0] - 842 * 50 / 72) <= 1 and abs(img.shape[1] - 595 * 50 / 72) <= 1
    b, r = img[..., 0].astype(int), img[..., 2].astype(int)
    assert ((b - r) > 100).sum() > 200  # the blue text-region frames are drawn
