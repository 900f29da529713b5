import json

import pytest
from pydantic import ValidationError

import schemas
from schemas import Box, Document, SourceFile, Table, TableCell


def test_committed_json_schemas_match_models():
    for name, text in schemas.json_schemas().items():
        committed = (schemas.SCHEMA_DIR / name).read_text(encoding="utf-8")
        assert committed == text, f"schemas/{name} drifted from the models: run `docvlm schema`"


def test_schema_cli_writes_files(tmp_path):
    from docvlm.cli import main

    assert main(["schema", "--out", str(tmp_path)]) == 0
    doc_schema = json.loads((tmp_path / "document.schema.json").read_text())
    assert doc_schema["properties"]["schema_name"]["const"] == "docvlm.document"
    assert "Box" in doc_schema["$defs"]


def test_box_states_unit_origin_and_page():
    b = Box(page=2, x0=10, y0=20, x1=30, y1=60)
    d = b.model_dump()
    assert d["unit"] == "pt" and d["origin"] == "top-left" and d["page"] == 2
    with pytest.raises(ValidationError, match="out of order"):
        Box(page=1, x0=30, y0=0, x1=10, y1=5)
    with pytest.raises(ValidationError):
        Box(page=0, x0=0, y0=0, x1=1, y1=1)
    assert b.iou(b) == pytest.approx(1.0)
    assert b.iou(Box(page=1, x0=10, y0=20, x1=30, y1=60)) == 0.0
    assert b.iou(Box(page=2, x0=20, y0=20, x1=40, y1=60)) == pytest.approx(1 / 3)


def _spanned_table() -> Table:
    # +---------+-----+
    # | A (2 c) |  B  |   row 0: header, A spans 2 columns
    # +----+----+-----+
    # | c  | d  |  e  |   e spans 2 rows
    # | f  | g  |     |
    return Table(n_rows=3, n_cols=3, cells=[
        TableCell(row=0, col=0, col_span=2, text="A", column_header=True),
        TableCell(row=0, col=2, text="B", column_header=True),
        TableCell(row=1, col=0, text="c"), TableCell(row=1, col=1, text="d"),
        TableCell(row=1, col=2, row_span=2, text="e <&>"),
        TableCell(row=2, col=0, text="f"), TableCell(row=2, col=1, text="g|h"),
    ])


def test_table_html_and_markdown_with_spans():
    t = _spanned_table()
    assert t.to_html() == (
        '<table><tr><th colspan="2">A</th><th>B</th></tr>'
        '<tr><td>c</td><td>d</td><td rowspan="2">e &lt;&amp;&gt;</td></tr>'
        "<tr><td>f</td><td>g|h</td></tr></table>"
    )
    assert t.to_markdown().splitlines() == [
        "| A |  | B |", "|---|---|---|", "| c | d | e <&> |", "| f | g\\|h |  |",
    ]


def test_table_rejects_overlaps_and_out_of_grid_cells():
    with pytest.raises(ValidationError, match="overlap"):
        Table(n_rows=1, n_cols=2, cells=[TableCell(row=0, col=0, col_span=2),
                                         TableCell(row=0, col=1)])
    with pytest.raises(ValidationError, match="exceeds"):
        Table(n_rows=1, n_cols=1, cells=[TableCell(row=0, col=0, row_span=2)])


def test_document_round_trips_through_json():
    d = Document(source=SourceFile(name="a.pdf", size_bytes=3, sha256="ab", format="pdf"))
    assert Document.model_validate_json(d.model_dump_json()) == d
    with pytest.raises(ValidationError):
        Document.model_validate({"source": {"name": "a"}, "unknown_field": 1})


def test_lone_surrogates_from_broken_files_still_serialise():
    from schemas import ErrorItem, Word

    w = Word(text="ab\udcb1", box=Box(page=1, x0=0, y0=0, x1=1, y1=1))
    e = ErrorItem(code="x", message="bad \udc80 byte", stage="ingest", file="f\udcff.pdf")
    assert "\ufffd" in json.loads(w.model_dump_json())["text"]
    assert json.loads(e.model_dump_json())["file"] == "f\ufffd.pdf"


def test_job_options_precision_is_checked():
    from schemas import Job, JobOptions
    from workers.jobs import _options

    assert JobOptions().precision == "auto"
    with pytest.raises(ValidationError, match="precision"):
        JobOptions(precision="bf16")
    job = Job(id="j", created_at="2026-12-03T00:00:00Z", updated_at="2026-12-03T00:00:00Z",
              options=JobOptions(precision="fp32", mode="vision"))
    opts = _options(job, 2)
    assert (opts.precision, opts.mode, opts.pages) == ("fp32", "vision", "2")
