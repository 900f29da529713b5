"""Form extraction against a user's schema: AcroForm values, text-layer labels, typing,
nulls with reasons, validation."""

import json
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest
from pydantic import BaseModel

from docvlm import errors, extract_fields
from docvlm.fields import FieldSpec, coerce, load_schema
from schemas import (
    Box,
    Document,
    FormField,
    Line,
    Page,
    PageKind,
    Region,
    RegionLabel,
    Source,
    SourceFile,
)

SCHEMA = {"type": "object", "properties": {
    "invoice_number": {"type": "string", "title": "Invoice no"},
    "invoice_date": {"type": "string", "format": "date", "title": "Date"},
    "total": {"type": "number", "title": "Total"},
    "paid": {"type": "boolean", "title": "Paid"},
    "iban": {"type": "string", "title": "IBAN"}}}


def acroform_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page()
    for i, (name, kind, value) in enumerate([
            ("invoice_number", pymupdf.PDF_WIDGET_TYPE_TEXT, "INV-77"),
            ("total", pymupdf.PDF_WIDGET_TYPE_TEXT, "1.234,50"),
            ("paid", pymupdf.PDF_WIDGET_TYPE_CHECKBOX, True)]):
        w = pymupdf.Widget()
        w.field_name, w.field_type, w.field_value = name, kind, value
        w.rect = pymupdf.Rect(100, 100 + 40 * i, 300, 125 + 40 * i)
        page.add_widget(w)
    page.insert_text((100, 300), "Date: 14 March 2026", fontsize=11)
    page.insert_text((100, 320), "Date of birth: 01/02/1990", fontsize=11)
    doc.save(path)
    return path


def test_acroform_values_text_labels_types_and_nulls(tmp_path):
    out = extract_fields(acroform_pdf(tmp_path / "f.pdf"), SCHEMA, options=None)
    assert out["values"] == {"invoice_number": "INV-77", "invoice_date": "2026-03-14",
                             "total": 1234.5, "paid": True, "iban": None}
    f = out["fields"]
    assert f["invoice_number"]["source"] == "acroform" and f["invoice_number"]["page"] == 1
    assert f["invoice_number"]["box"]["x0"] == 100
    assert f["invoice_date"]["source"] == "text-layer"
    assert f["invoice_date"]["text"] == "Date: 14 March 2026"  # not "Date of birth"
    assert f["iban"]["value"] is None and "not found" in f["iban"]["reason"]


@pytest.mark.parametrize("value,kind,fmt,expected", [
    ("1,234.50", "number", None, 1234.5), ("1.234,50", "number", None, 1234.5),
    ("RM 9.00", "number", None, 9.0), ("12", "integer", None, 12), ("x", "boolean", None, True),
    ("Off", "boolean", None, False), ("05/01/17", "string", "date", "2017-01-05"),
    ("Mar 4, 2025", "string", "date", "2025-03-04"), ("  a   b ", "string", None, "a b")])
def test_coerce(value, kind, fmt, expected):
    assert coerce(value, FieldSpec("f", "F", kind, fmt)) == (expected, None)


@pytest.mark.parametrize("name,title,value,expected", [
    ("date", "Date", "Feb 4, 2020 20:54", "Feb 4, 2020"),  # the time printed after it
    ("due_date", "Due date", "Due: 19/04/2000 12:35", "19/04/2000"),
    ("date", "Date", "not given", "not given"),  # no date in it: the text as it is
    ("date_time", "Date and time", "Feb 4, 2020 20:54", "Feb 4, 2020 20:54"),
    ("update", "Update", "Feb 4, 2020 20:54", "Feb 4, 2020 20:54")])
def test_a_string_field_named_as_a_date_keeps_the_date_as_printed(name, title, value,
                                                                  expected):
    assert coerce(value, FieldSpec(name, title, "string")) == (expected, None)


def test_coerce_refuses_what_it_cannot_type():
    assert coerce("soon", FieldSpec("d", "D", "string", "date"))[0] is None
    assert coerce("n/a", FieldSpec("t", "T", "number"))[1].startswith("no number")


def test_pydantic_models_and_bad_schemas(tmp_path):
    class Receipt(BaseModel):
        total: float | None = None
        company: str | None = None

    assert set(load_schema(Receipt)["properties"]) == {"total", "company"}
    with pytest.raises(errors.UsageError, match="cannot import"):
        load_schema("nope.module:Thing")
    bad = tmp_path / "s.json"
    bad.write_text("{not json")
    with pytest.raises(errors.UsageError, match="not valid JSON"):
        load_schema(bad)


def test_cli_schema_flag(tmp_path):
    pdf = acroform_pdf(tmp_path / "f.pdf")
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    docvlm = str(Path(sys.executable).with_name("docvlm"))
    r = subprocess.run([docvlm, "extract", str(pdf), "--schema", str(schema), "--mode", "text"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["values"]["total"] == 1234.5
    r = subprocess.run([docvlm, "extract", str(pdf), "--schema", str(tmp_path / "none.json")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "schema file not found" in r.stderr


def test_receipt_fields_without_labels_come_from_patterns(tmp_path):
    """Synthetic receipts (born-digital, exact text): issuer = the first line, address =
    the lines under it up to the phone line, date from its shape, total from its label."""
    from docvlm.synth.pages import make_page

    schema = json.loads((Path(__file__).parents[1] / "schemas" / "examples" /
                         "receipt.json").read_text())
    for seed in range(3):
        p = make_page(seed, "receipt", "train")
        (tmp_path / f"r{seed}.pdf").write_bytes(p.pdf)
        res = extract_fields(tmp_path / f"r{seed}.pdf", schema, options=None)
        title = next(g for g in p.regions if g.label == "title").lines[0].text
        header = [ln.text for g in p.regions if g.label == "header" for ln in g.lines]
        truth = dict((k.key, k.value) for k in p.kv)
        v, f = res["values"], res["fields"]
        assert v["company"] == title and f["company"]["source"] == "pattern"
        assert v["address"] == " ".join(h for h in header if not h.startswith("Tel"))
        expected, why = coerce(truth["Date"], FieldSpec("date", "Date", "string", "date"))
        assert why is None and v["date"] == expected
        assert v["total"] == pytest.approx(float(truth["Total"]))
        assert f["total"]["box"] is not None and f["company"]["page"] == 1


def test_a_date_comes_from_the_likeliest_date_shaped_text():
    """Receipts print times and codes shaped like dates: a first match that is no date
    ('10.41.00') does not end the search, and a line that says 'date', a four-digit year
    or slashes beat a dotted code read before it."""
    from docvlm.fields import fields_from_document

    def doc(*texts):
        return _lines_doc(*([(t, 0)] for t in texts))

    schema = {"type": "object", "properties": {
        "date": {"type": "string", "format": "date", "title": "Date"}}}
    got = fields_from_document(doc("Time 10.41.00", "31/01/2018 12:01"), schema)
    assert got["values"]["date"] == "2018-01-31"
    got = fields_from_document(doc("ME 18.8.22.0", "10/04/2018 18/31"), schema)
    assert got["values"]["date"] == "2018-04-10"
    got = fields_from_document(doc("Ref 3.4.19"), schema)  # the only one: taken
    assert got["values"]["date"] == "2019-04-03"


def _lines_doc(*rows):
    """A read page whose rows hold one or more lines: (text, x0) each."""
    regions = []
    for k, row in enumerate(rows):
        for j, (t, x0) in enumerate(row):
            box = Box(page=1, x0=x0, y0=10 * k, x1=x0 + 5 * len(t), y1=10 * k + 8)
            regions.append(Region(id=f"r{k}-{j}", label=RegionLabel.TEXT, box=box, text=t,
                                  source=Source.VISION, order=len(regions),
                                  lines=[Line(text=t, box=box)]))
    page = Page(number=1, width=300, height=300, pixel_width=300, pixel_height=300, dpi=72,
                kind=PageKind.IMAGE, mode="vision", regions=regions)
    return Document(source=SourceFile(name="r.png"), page_count=1, pages=[page])


def test_a_total_is_the_amount_of_the_total_line_not_of_its_parts():
    """Receipts print several lines that start with 'Total': the field is the one that is
    not a part of it (tax, excluding tax, quantity), and a label's own words ('INCL.
    GST@6%') are no amount: the amount beside them is."""
    from docvlm.fields import fields_from_document

    schema = {"type": "object", "properties": {"total": {"type": "number", "title": "Total"}}}

    def total(*rows):
        return fields_from_document(_lines_doc(*rows), schema)["values"]["total"]

    assert total([("Total Sales (Excluding GST)", 0), ("96.00", 200)],
                 [("Total GST", 0), ("5.76", 200)],
                 [("TOTAL INCL. GST@6%", 0), ("RM 101.76", 200)]) == pytest.approx(101.76)
    assert total([("Total Qty: 3", 0)], [("Total: RM 34.40", 0)]) == pytest.approx(34.40)
    assert total([("TOTAL INCL. GST@6% RM 12.50", 0)]) == pytest.approx(12.50)
    assert total([("Total", 0), ("7.00", 200)]) == pytest.approx(7.0)


def test_an_address_block_ends_where_the_sale_begins():
    """A receipt without a phone or tax line under its address: the block ends at the
    first line of the sale (an amount, 'TOTAL QTY'), and a shop named 'Cash & Carry' is
    still the issuer."""
    values = _receipt_values
    v = values("ABC RESTAURANT", "12 HIGH ST", "TOTAL QTY: 3", "GRAND TOTAL RM 31.80")
    assert v["company"] == "ABC RESTAURANT" and v["address"] == "12 HIGH ST"
    assert v["total"] == pytest.approx(31.80)
    v = values("SUNRISE CASH & CARRY", "LOT 5, JALAN 1", "PETALING JAYA", "NASI LEMAK 4.50")
    assert v["company"] == "SUNRISE CASH & CARRY"
    assert v["address"] == "LOT 5, JALAN 1 PETALING JAYA"


def _form_schema(page) -> dict:
    props = {}
    for kv in page.kv:
        props[kv.key.lower().replace(" ", "_")] = {
            "type": "boolean" if isinstance(kv.value, bool) else "string", "title": kv.key}
    return {"type": "object", "properties": props}


def test_fields_come_from_the_layouts_key_value_regions_and_checkboxes(tmp_path):
    from docvlm.synth.pages import make_page

    page = next(p for p in (make_page(s, "form", "train") for s in range(5000, 5050))
                if any(kv.value is None for kv in p.kv))  # a form with a field left blank
    f = tmp_path / "form.pdf"
    f.write_bytes(page.pdf)
    out = extract_fields(f, _form_schema(page))
    for kv in page.kv:
        name = kv.key.lower().replace(" ", "_")
        assert out["values"][name] == kv.value, (kv.key, out["fields"][name])
        if kv.value is None:
            assert out["fields"][name]["reason"] == "the form's field for it is blank"
        elif not isinstance(kv.value, bool):
            assert out["fields"][name]["source"] == "layout"


def test_a_misread_key_still_finds_its_field(tmp_path):
    from docvlm.fields import fields_from_document
    from docvlm.pipeline import extract
    from docvlm.synth.pages import make_page

    page = make_page(5000, "form", "train")
    f = tmp_path / "form.pdf"
    f.write_bytes(page.pdf)
    doc = extract(f)
    kv = next(kv for kv in page.kv if isinstance(kv.value, str) and len(kv.key) >= 8)
    region = next(r for r in doc.pages[0].regions if r.field and r.field.key == kv.key)
    misread = kv.key[:3] + kv.key[4:]  # one letter lost, as a reader might
    region.field.key = misread
    for ln in region.lines:
        ln.text = ln.text.replace(kv.key, misread)
    name = kv.key.lower().replace(" ", "_")
    schema = {"type": "object", "properties": {name: {"type": "string", "title": kv.key}}}
    got = fields_from_document(doc, schema)
    assert got["values"][name] == kv.value and got["fields"][name]["source"] == "layout"
    region.field.key = "Xq"  # nothing alike: not this field
    assert fields_from_document(doc, schema)["fields"][name]["source"] != "layout"


def test_another_fields_label_and_a_greeting_are_not_the_issuer():
    """'Company Reg No. : 001055194X' is the registration number, not the company (the
    label 'Company' followed by another label); 'Welcome to ...' over the shop's name is a
    greeting, not the issuer."""
    values = _receipt_values
    v = values("HON HWA HARDWARE TRADING", "Company Reg No. : 001055194X",
               "NO 37, JALAN MANIS 7", "56100 CHERAS", "TEL: 03-9130 2672", "TOTAL 12.50")
    assert v["company"] == "HON HWA HARDWARE TRADING"
    assert v["address"] == "NO 37, JALAN MANIS 7 56100 CHERAS"
    v = values("Welcome to the Family", "MAXINCOME RESOURCES SDN BHD", "No 16, Jalan 7",
               "GST ID : 000468594688", "TOTAL 5.80")
    assert v["company"] == "MAXINCOME RESOURCES SDN BHD" and v["address"] == "No 16, Jalan 7"
    # a label that is the field's own is still read: 'Company: ACME LTD'
    assert values("Invoice", "Company: ACME LTD", "TOTAL 3.00")["company"] == "ACME LTD"


def _receipt_rows(*rows):
    """The receipt schema's values (``schemas/examples/receipt.json``) on a read page whose
    rows hold one or more lines: (text, x0) each."""
    from docvlm.fields import fields_from_document

    schema = json.loads((Path(__file__).parents[1] / "schemas" / "examples" /
                         "receipt.json").read_text())
    return fields_from_document(_lines_doc(*rows), schema)["values"]


def _receipt_values(*lines):
    """The receipt schema's values on a read page of one line per row."""
    return _receipt_rows(*([(t, 0)] for t in lines))


@pytest.mark.parametrize("logo", ["9b&asc-", "3 1@oaolC", "406oo q,", "Qo4y/7",
                                  "TMEA SE OU81 4GAIN", "a iR.oi 0is", "3ix o oii"])
def test_a_logo_read_as_letters_is_not_the_issuer(logo):
    """A shop's logo over its name is read as a string of letters, digits and signs: the
    issuer is the first line that reads as words, and its address follows it."""
    v = _receipt_values(logo, "SYARIKAT PERNIAGAAN GIN KEE", "NO 290, JALAN AIR PANAS",
                        "53200, KUALA LUMPUR.", "TEL: 03-4021 1181", "TOTAL 12.50")
    assert v["company"] == "SYARIKAT PERNIAGAAN GIN KEE"
    assert v["address"] == "NO 290, JALAN AIR PANAS 53200, KUALA LUMPUR."


@pytest.mark.parametrize("name", ["7-ELEVEN MALAYSIA SDN BHD", "99 SPEED MART S/B",
                                  "H&M", "MR. D.I.Y. (M) SDN BHD", "B & BEST RESTAURANT"])
def test_names_with_digits_and_signs_are_still_names(name):
    from docvlm.fields import _name_like

    assert _name_like(name)
    assert _receipt_values(name, "LOT 5, JALAN 1", "TOTAL 3.00")["company"] == name


def test_a_company_number_after_the_name_is_not_part_of_it():
    v = _receipt_values("AEON CO. (M) BHD (126926-H)", "3RD FLR, AEON TAMAN MALURI SC",
                        "GST ID : 002017394688", "TOTAL 9.90")
    assert v["company"] == "AEON CO. (M) BHD" and v["address"] == "3RD FLR, AEON TAMAN MALURI SC"
    v = _receipt_values("KOREAN DINE SDN BHD(1077469-V)", "No 4, Jalan Permas 10/5.",
                        "81750 Johor Bahru, Johor.", "TOTAL 9.90")
    assert v["company"] == "KOREAN DINE SDN BHD"
    assert v["address"] == "No 4, Jalan Permas 10/5. 81750 Johor Bahru, Johor."


def test_a_name_broken_over_two_lines_ends_on_its_legal_form():
    v = _receipt_values("WESTERN EASTERN", "STATIONERY SDN. BHD. (176097-A)",
                        "42-46, JLN SULTAN AZLAN SHAH", "51200 KUALA LUMPUR",
                        "TEL: 03-4043 9877", "TOTAL 3.00")
    assert v["company"] == "WESTERN EASTERN STATIONERY SDN. BHD."
    assert v["address"] == "42-46, JLN SULTAN AZLAN SHAH 51200 KUALA LUMPUR"
    # a name whole on its line is not joined to what follows
    v = _receipt_values("ACME TRADING SDN BHD", "GOLDEN PLAZA LTD", "TOTAL 3.00")
    assert v["company"] == "ACME TRADING SDN BHD"


@pytest.mark.parametrize("stop", ["Tet 03-55423228 Fax03 55423213", "+603-9130 2672",
                                  "EST ID. NO : 000181747712", "012-2060 778"])
def test_an_address_ends_at_a_phone_or_a_long_number_whatever_its_label(stop):
    """A phone or tax number ends the address, its label misread or absent; a date under
    the name (before the address) is skipped."""
    v = _receipt_values("UNIHAKKA INTERNATIONAL SDN BHD", "10 May 2018 18:19",
                        "12, Jalan Tampoi 7/4, Kawasan Perindustrian Tampoi,",
                        "81200 Johor Bahru, Johor", stop, "Bill To: Walk In", "TOTAL 8.70")
    assert v["address"] == ("12, Jalan Tampoi 7/4, Kawasan Perindustrian Tampoi, 81200 Johor "
                            "Bahru, Johor")


def test_a_company_label_followed_by_a_number_gives_no_company():
    """'Company Res #1101085-T' (its 'Reg' misread) is the company's number: the issuer
    comes from the top of the receipt instead; a name after the label is still taken."""
    v = _receipt_values("Guardian Health And Beauty Sdn Bhd", "SOLARIS MOUNT KIARA",
                        "Company Res #1101085-T", "TOTAL 9.90")
    assert v["company"] == "Guardian Health And Beauty Sdn Bhd"
    assert _receipt_values("Invoice", "Company: 3M MALAYSIA", "TOTAL 3.00")["company"] == (
        "3M MALAYSIA")


def test_the_final_total_is_the_one_after_rounding_and_tax():
    """Receipts print several totals: the one a word marks final ("NET TOTAL", "Total
    Payable", "Total After Adj") is the total, before a plain "Total" and far before one
    tax rate's "Total 6% supplies"."""
    def total(*rows):
        return _receipt_rows(*rows)["total"]

    assert total([("5 SUB TOTAL", 0), ("39.80", 200)], [("NET TOTAL", 0), ("39.80", 200)],
                 [("Cash", 0), ("50.00", 200)]) == pytest.approx(39.80)
    assert total([("NET TOTAL", 0)], [("Cash", 0), ("50.00", 200)]) is None  # no amount
    assert total([("Total 0% supplies:", 0), ("25.96", 200)],
                 [("Total 6% supplies (excl. GST):", 0), ("15.36", 200)],
                 [("Total Payable:", 0), ("42.25", 200)]) == pytest.approx(42.25)
    assert total([("Total Sales Incl GST", 0), ("8.96", 200)], [("Rounding Adj", 0),
                 ("-0.01", 200)], [("Total After Adj Incl GST", 0), ("8.95", 200)]
                 ) == pytest.approx(8.95)
    assert total([("Grand Total RM 12.00", 0)]) == pytest.approx(12.00)


def test_misread_part_labels_stay_parts_and_a_total_with_tax_beats_a_count():
    """A total's parts are known when misread too ('Total Oty', 'Total O% suppltes'); a
    total that includes the tax comes before a plain 'Total' (on many tills a count of
    items), a sum with cents before a bare count, and 'Total includes 6% GST' gives the
    tax, not the total."""
    def total(*rows):
        return _receipt_rows(*rows)["total"]

    assert total([("Total Oty", 0), ("21.00", 100), ("393.00", 200)],
                 [("Total Sales (lnclusive of GST) :", 0), ("393.00", 200)]
                 ) == pytest.approx(393.00)
    assert total([("Total:", 0), ("60", 200)], [("Total Sales (Excluding GST)", 0),
                 ("112.80", 200)], [("Total Sales (Inclusive of GST)", 0), ("119.55", 200)]
                 ) == pytest.approx(119.55)
    assert total([("Total:", 0), ("6", 200)], [("Total:", 0), ("18.40", 200)]
                 ) == pytest.approx(18.40)
    assert total([("TOTAL INCLUDES 6% GST", 0), ("1.08", 200)], [("Total Rounded", 0),
                 ("19.00", 200)]) == pytest.approx(19.00)
    assert total([("Total 0% suppltes:", 0), ("6.78", 200)],
                 [("Total", 0), ("32.46", 200)]) == pytest.approx(32.46)


def test_a_page_key_value_pair_is_ranked_with_the_text_labels():
    """The layout's own key/value pair 'Total: 60' (a count of items) does not win over a
    line that says the total includes the tax."""
    from docvlm.fields import fields_from_document

    doc = _lines_doc([("Total Sales (Inclusive of GST)", 0), ("119.55", 200)])
    box = Box(page=1, x0=0, y0=50, x1=100, y1=58)
    doc.pages[0].regions.append(Region(
        id="kv", label=RegionLabel.KEY_VALUE, box=box, text="Total: 60", source=Source.VISION,
        order=9, lines=[Line(text="Total: 60", box=box)], field=FormField(key="Total",
                                                                            value="60")))
    schema = json.loads((Path(__file__).parents[1] / "schemas" / "examples" /
                         "receipt.json").read_text())
    assert fields_from_document(doc, schema)["values"]["total"] == pytest.approx(119.55)


def test_a_currency_set_apart_from_its_amount_is_passed_over():
    assert _receipt_rows([("Sub-Total : RM", 0), ("139.00", 300)],
                         [("Total:", 0), ("RM", 100), ("152.90", 300)],
                         [("Total Qty:", 0), ("6", 300)])["total"] == pytest.approx(152.90)


def test_a_label_misread_by_one_letter_is_found_where_no_line_has_it_right():
    from docvlm.fields import _after_label

    assert _receipt_values("Ttal Sales (Inclusive GST) RM 262.20")["total"] == \
        pytest.approx(262.20)
    assert _receipt_rows([("Totai:", 0), ("9.00", 200)])["total"] == pytest.approx(9.00)
    # the label read right wins over one read wrong
    assert _receipt_rows([("Totai", 0), ("9.00", 200)],
                         [("Total", 0), ("5.00", 200)])["total"] == pytest.approx(5.00)
    # one letter, on labels of five letters or more only; a different word is no label
    assert _after_label("total", "Hotel 5.00", misread=True) is None
    assert _after_label("date", "Data 5", misread=True) is None
    assert _after_label("total", "Tota1: 7.00", misread=True) == "7.00"
