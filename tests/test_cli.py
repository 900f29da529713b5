"""The ``docvlm`` console command, run as a real subprocess."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from docvlm.eval.metrics import cer
from tests.conftest import REPO, make_text_pdf

DOCVLM = str(Path(sys.executable).with_name("docvlm"))
DOC_SCHEMA = json.loads((REPO / "schemas" / "document.schema.json").read_text())


def run(*args, cwd=None, timeout=120):
    return subprocess.run([DOCVLM, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def test_help_on_every_command():
    for cmd in ([], ["extract"], ["schema"]):
        r = run(*cmd, "--help")
        assert r.returncode == 0 and "usage: docvlm" in r.stdout


def test_extract_sample_invoice_gives_valid_document_json():
    r = run("extract", REPO / "samples" / "invoice.pdf")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, DOC_SCHEMA)
    assert doc["status"] == "success" and doc["page_count"] == 1
    page = doc["pages"][0]
    assert page["kind"] == "born-digital" and page["has_text_layer"]
    assert (page["width"], page["height"]) == (595, 842) and page["dpi"] == 200
    text = "\n".join(r["text"] for r in page["regions"])
    for needle in ("INVOICE", "INV-2026-0147", "Northwind Traders Ltd", "210.60"):
        assert needle in text
    assert all(r["source"] == "text-layer" for r in page["regions"])
    words = [w for r in page["regions"] for ln in r["lines"] for w in ln["words"]]
    assert all(0 <= w["box"]["x0"] < w["box"]["x1"] <= 595 for w in words)


def test_markdown_output_and_page_selection():
    r = run("extract", REPO / "samples" / "report.pdf", "--format", "markdown", "--pages", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("<!-- page 2 -->") and "3. Methods" in r.stdout
    assert "Annual Report" not in r.stdout


def test_batch_with_bad_files_goes_on_and_exits_partial(tmp_path, hostile):
    good = make_text_pdf(tmp_path / "good.pdf")
    out = tmp_path / "out"
    r = run("extract", good, hostile["html.pdf"], hostile["encrypted.pdf"],
            tmp_path / "missing.pdf", "-o", out)
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr
    results = {p.name: json.loads(p.read_text()) for p in out.iterdir()}
    assert set(results) == {"good.json", "html.json", "encrypted.json", "missing.json"}
    for d in results.values():
        jsonschema.validate(d, DOC_SCHEMA)
    assert results["good.json"]["status"] == "success"
    assert results["html.json"]["errors"][0]["code"] == "unsupported_format"
    assert results["encrypted.json"]["errors"][0]["code"] == "password_required"
    assert results["missing.json"]["errors"][0]["code"] == "not_found"


def test_every_hostile_file_fails_cleanly_with_exit_1(hostile):
    for name, path in hostile.items():
        r = run("extract", path)
        assert r.returncode == 1, (name, r.stderr)
        assert "Traceback" not in r.stderr
        doc = json.loads(r.stdout)
        assert doc["status"] == "failure" and doc["errors"][0]["file"].endswith(name)


def test_password_flag_and_jsonl_for_several_inputs(tmp_path, hostile):
    good = make_text_pdf(tmp_path / "good.pdf")
    r = run("extract", hostile["encrypted.pdf"], good, "--password", "secret")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2 and all(json.loads(x)["status"] == "success" for x in lines)


def test_folders_globs_and_empty_folder(tmp_path):
    d = tmp_path / "docs"
    (d / "nested").mkdir(parents=True)
    make_text_pdf(d / "a.pdf")
    make_text_pdf(d / "nested" / "b.pdf")
    r = run("extract", d, "-o", tmp_path / "o1")
    assert r.returncode == 0 and sorted(p.name for p in (tmp_path / "o1").iterdir()) == [
        "a.json", "b.json"]
    r = run("extract", f"{d}/**/*.pdf", "-o", tmp_path / "o2", "--format", "markdown")
    assert r.returncode == 0 and len(list((tmp_path / "o2").iterdir())) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run("extract", empty)
    assert r.returncode == 1 and json.loads(r.stdout)["errors"][0]["code"] == "no_documents"


@pytest.mark.parametrize("args", [["extract", "x.pdf", "--pages", "3-1"],
                                  ["extract", "x.pdf", "--dpi", "5000"],
                                  ["extract"], ["bogus"]])
def test_usage_errors_exit_2(args):
    r = run(*args)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_pdf2image_backend_from_the_cli(tmp_path):
    pdf = make_text_pdf(tmp_path / "a.pdf")
    a = json.loads(run("extract", pdf, "--dpi", "100").stdout)["pages"][0]
    b = json.loads(run("extract", pdf, "--dpi", "100", "--backend", "pdf2image").stdout)
    b = b["pages"][0]
    assert (a["pixel_width"], a["pixel_height"]) == (b["pixel_width"], b["pixel_height"])


def test_scanned_sample_is_preprocessed():
    r = run("extract", REPO / "samples" / "scanned_letter.jpg")
    page = json.loads(r.stdout)["pages"][0]
    steps = {s["name"]: s for s in page["preprocessing"]}
    assert page["kind"] == "image" and steps["deskew"]["applied"]
    assert abs(steps["deskew"]["angle"] - 2.5) < 0.3


@pytest.mark.skipif(shutil.which("docker-compose") is None and shutil.which("docker") is None,
                    reason="no docker-compose client: scripts/setup.sh installs Debian's")
def test_compose_file_is_valid():
    cmd = (["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"])
    r = subprocess.run([*cmd, "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    import yaml

    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    assert set(services) >= {"redis", "api", "worker"}
    assert all("healthcheck" in s for s in services.values())
    assert "--appendonly" in services["redis"]["command"]


def test_html_output_keeps_text_and_boxes():
    r = run("extract", REPO / "samples" / "invoice.pdf", "--format", "html")
    assert r.returncode == 0
    assert r.stdout.startswith("<!doctype html>") and "INV-2026-0147" in r.stdout
    assert "data-box=" in r.stdout and "data-page='1'" in r.stdout


def test_fast_read_and_fp32_read_the_scanned_sample_with_the_same_regions():
    """``--fast-read`` (each line read once) and ``--precision fp32`` find the same regions
    and lines as the default (int8, lines read at several scales where readings disagree);
    only their text may differ, and float32's hardly."""
    out, text = {}, {}
    flags = ((), ("--fast-read",), ("--precision", "fp32"))
    for flag in flags:
        r = run("extract", REPO / "samples" / "scanned_letter.jpg", *flag)
        assert r.returncode == 0, r.stderr
        page = json.loads(r.stdout)["pages"][0]
        assert page["mode"] == "vision"
        out[flag] = [(reg["label"], len(reg["lines"])) for reg in page["regions"]]
        text[flag] = " ".join(reg["text"] or "" for reg in page["regions"])
    assert out[flags[0]] == out[flags[1]] == out[flags[2]] and len(out[flags[0]]) >= 3
    assert cer(text[flags[2]], text[flags[0]]) < 0.02
    r = run("extract", REPO / "samples" / "scanned_letter.jpg", "--precision", "bf16")
    assert r.returncode == 2 and "--precision" in r.stderr
