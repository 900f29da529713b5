"""Form extraction: the fields a user's schema asks for, typed, with confidence and provenance.

``extract_fields(path, schema)`` takes a JSON Schema (a dict, a ``.json`` file) or a pydantic
model (a class, or ``"module:Class"``) describing an object of the wanted fields. For each
field it tries, in order:

1. AcroForm: a PDF form field whose name matches (values typed into the PDF, exact);
2. the model: the ``<task_json>`` task on the page (when a model is installed);
3. the text (text layer or read from pixels): a line that starts with the field's label
   (its title or name) followed by the value, the text right of it, or the next line;
4. patterns, for fields without a printed label: a date-shaped string for a date field;
   the issuer (first line with words) and its address block for ``company``/``address``
   style names, as printed at the top of receipts and invoices.

Values are coerced to the schema's type (numbers from amounts such as ``1,234.50``, booleans
from checkboxes, ISO dates from common date formats). A field not found is ``null`` with a
reason, never invented; the result validates against the schema.
"""

from __future__ import annotations

import difflib
import importlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from docvlm import errors
from docvlm.eval.metrics import edit_distance
from docvlm.ingest import open_document
from docvlm.pipeline import ExtractOptions, extract
from schemas import Box

# day-first before month-first where both parse (most of the world writes 05/01/17 for
# 5 January)
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d/%m/%y", "%m/%d/%Y", "%m/%d/%y",
                "%d.%m.%Y", "%d.%m.%y", "%d-%m-%Y", "%d-%m-%y", "%d %B %Y", "%d %b %Y",
                "%d %b %y", "%B %d, %Y", "%b %d, %Y", "%d %B, %Y", "%b. %d, %Y")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
DATE_RE = re.compile(rf"\b(\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|"
                     rf"\d{{1,2}} {_MONTH},? \d{{2,4}}|{_MONTH} \d{{1,2}},? \d{{4}})\b", re.I)


@dataclass
class FieldSpec:
    name: str
    title: str
    type: str  # string | number | integer | boolean
    format: str | None = None

    @property
    def labels(self) -> list[str]:
        return list(dict.fromkeys([self.title, self.name.replace("_", " ")]))

    @property
    def date_like(self) -> bool:
        """A date (``format: date``), or a string field named as one ("Date", "due_date";
        not "Date and time"): its value is the date printed, without the time that
        receipts print after it."""
        if self.format == "date":
            return True
        words = set(re.findall(r"[a-z]+", " ".join(self.labels).lower().replace("_", " ")))
        return self.type == "string" and self.format is None and "date" in words and not (
            words & {"time", "datetime", "timestamp"})


def load_schema(schema: Any) -> dict:
    """A JSON Schema dict from a dict, a path to a .json file, a pydantic model class or a
    ``'module:Class'`` string."""
    if isinstance(schema, dict):
        return schema
    if isinstance(schema, str | Path) and Path(schema).suffix == ".json":
        p = Path(schema)
        if not p.exists():
            raise errors.UsageError("schema file not found", file=p)
        try:
            return json.loads(p.read_text())
        except json.JSONDecodeError as e:
            raise errors.UsageError(f"schema is not valid JSON: {e}", file=p) from None
    if isinstance(schema, str) and ":" in schema:
        mod, _, cls = schema.partition(":")
        try:
            schema = getattr(importlib.import_module(mod), cls)
        except (ImportError, AttributeError) as e:
            raise errors.UsageError(f"cannot import {mod}:{cls}: {e}") from None
    if hasattr(schema, "model_json_schema"):
        return schema.model_json_schema()
    raise errors.UsageError(f"not a schema: {schema!r} (expected a JSON Schema file, a dict, "
                            "a pydantic model or 'module:Class')")


def field_specs(schema: dict) -> list[FieldSpec]:
    props = schema.get("properties")
    if schema.get("type", "object") != "object" or not isinstance(props, dict) or not props:
        raise errors.UsageError("the schema must describe an object with properties")
    out = []
    for name, p in props.items():
        types = p.get("type", "string")
        if isinstance(types, list):
            types = next((t for t in types if t != "null"), "string")
        if "anyOf" in p:  # pydantic's Optional[...]
            types = next((a.get("type") for a in p["anyOf"] if a.get("type") != "null"),
                         "string")
            p = {**p, **next((a for a in p["anyOf"] if a.get("type") != "null"), {})}
        out.append(FieldSpec(name, p.get("title") or name.replace("_", " ").title(), types,
                             p.get("format")))
    return out


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def coerce(value: Any, spec: FieldSpec) -> tuple[Any, str | None]:
    """(typed value, None) or (None, reason it cannot be typed)."""
    if value is None:
        return None, "empty"
    if spec.type == "boolean":
        if isinstance(value, bool):
            return value, None
        v = str(value).strip().lower()
        if v in ("true", "yes", "y", "x", "on", "1", "checked", "✓", "☒"):
            return True, None
        if v in ("false", "no", "n", "off", "0", "unchecked", "", "☐"):
            return False, None
        return None, f"not a yes/no value: {value!r}"
    if spec.type in ("number", "integer"):
        m = re.search(r"-?\d[\d,. ]*", str(value))
        if not m:
            return None, f"no number in {value!r}"
        num = m.group(0).replace(" ", "").rstrip(".,")
        if "," in num and "." in num:
            num = num.replace(",", "") if num.rfind(".") > num.rfind(",") else \
                num.replace(".", "").replace(",", ".")
        elif "," in num:
            num = num.replace(",", ".") if len(num.split(",")[-1]) == 2 else num.replace(",", "")
        try:
            x = float(num)
        except ValueError:
            return None, f"no number in {value!r}"
        return (int(x) if spec.type == "integer" else x), None
    text = " ".join(str(value).split())
    if spec.format == "date":
        # the whole text, else each date-shaped part of it ("Oct 12, 2005 11:03")
        for part in [text, *(m.group(1) for m in DATE_RE.finditer(text))]:
            part = part.replace(" ,", ",").rstrip(".")
            for fmt in DATE_FORMATS:
                try:
                    return datetime.strptime(part, fmt).date().isoformat(), None
                except ValueError:
                    continue
        return None, f"not a date: {value!r}"
    if spec.date_like:  # the date as printed, without a time or words around it
        m = DATE_RE.search(text)
        if m:
            return m.group(1), None
    return text, None


@dataclass
class Found:
    value: Any
    confidence: float
    source: str
    page: int | None = None
    box: Box | None = None
    text: str | None = None
    label: str | None = None  # the line that holds the label it was found by


def _acroform(path: Path, password: str | None) -> dict[str, Found]:
    out: dict[str, Found] = {}
    with open_document(path, password=password, digest=False) as doc:
        if doc.pdf is None or not doc.pdf.is_form_pdf:
            return out
        for page in doc.pdf:
            for w in page.widgets() or []:
                name = w.field_name or ""
                value = w.field_value
                if w.field_type_string in ("CheckBox", "RadioButton"):
                    value = value not in (None, "", "Off", False)
                r = w.rect * page.rotation_matrix
                out[_norm(name)] = Found(value, 1.0, "acroform", page.number + 1, Box(
                    page=page.number + 1, x0=round(r.x0, 2), y0=round(r.y0, 2),
                    x1=round(r.x1, 2), y1=round(r.y1, 2)), str(w.field_value))
    return out


# words before an amount's label that make it the final one: "NET TOTAL", "Grand Total",
# "Rounded Total (RM):", "Nett Amount"
FINAL = r"(?:net|nett|grand|rounded|final)"
# and words after it: "Total Payable:", "Total Due", "Total After Adj Incl GST"
FINAL_AFTER = re.compile(r"\b(payable|due|after|rounded)\b", re.I)


def _after_label(label: str, text: str, final: bool = False,
                 misread: bool = False) -> str | None:
    """What follows ``label`` (and a ':' or '#') when ``text`` starts with it, else None.
    ``final``: the label may follow a word of :data:`FINAL` ("NET TOTAL 39.80").
    ``misread``: a one-word label of five letters or more may be read with one letter
    wrong, missing or extra ("Ttal Sales", "Totai:", "Tota1")."""
    pre = rf"(?:{FINAL}\s+)?" if final else ""
    if not misread:
        m = re.match(rf"\s*{pre}{re.escape(label)}(?![a-z0-9])\s*[:#]?\s*(.*)$", text, re.I)
        return m.group(1).strip() if m else None
    if len(label) < 5 or not label.isalpha():
        return None
    m = re.match(rf"\s*{pre}([a-z0-9]{{{len(label) - 1},{len(label) + 1}}})(?![a-z0-9])"
                 rf"\s*[:#]?\s*(.*)$", text, re.I)
    if m is None or edit_distance(m.group(1).casefold(), label.casefold()) != 1:
        return None
    return m.group(2).strip()


def _from_layout(doc, spec: FieldSpec) -> tuple[list[Found], list[Found]]:
    """Candidates from the page's own form fields (key/value regions, checkboxes and their
    labels, as the layout found them): (keys equal to the field's label, keys at least 75 %
    alike: difflib's ratio on letters and digits, a misread key), each best first. A blank
    field yields a candidate whose value is None."""
    labels = [_norm(label) for label in spec.labels]
    hits = []
    for page in doc.pages:
        for r in page.regions:
            f = r.field
            if f is None or not _norm(f.key):
                continue
            key = _norm(f.key)
            sim = max(difflib.SequenceMatcher(None, key, label).ratio() for label in labels)
            if sim >= 0.75:
                hits.append((sim, Found(f.value, round(0.9 * sim * f.confidence, 4),
                                        "layout", page.number, f.value_box or r.box,
                                        r.text, f.key)))
    hits.sort(key=lambda h: -h[0])
    return [c for sim, c in hits if sim == 1.0], [c for sim, c in hits if sim < 1.0]


# an amount alone (a currency before or after it): what a number field's label is followed by
AMOUNT = re.compile(r"(?:[A-Z]{1,3}\.?|[$€£¥])?\s*-?\d[\d,. ]*(?:\s*[A-Z]{1,3})?", re.I)
TRAILING_AMOUNT = re.compile(r"(?:^|\s)((?:[A-Z]{1,3}\.?|[$€£¥])?\s*-?\d[\d,.]*\d)\s*$", re.I)
# words that make a 'total' line a part of the total, not the total: "Total excl. VAT",
# "Total GST", "Sub total", "Total qty", "Total discount", one tax rate's "Total 6% supplies";
# as they are misread too ("Total Oty", "Total O% suppltes")
PART_OF_TOTAL = re.compile(r"\b(excl\w*|exc|sub|gst|vat|tax|[qo0]ty|quantity|items?|"
                           r"discount|saving|savings|rounding|round|paid|tendered|change|"
                           r"suppl\w*)\b|[\dO]\s*%", re.I)
# a total that says it includes the tax ("Total Sales (Inclusive of GST)", "Total incl.
# VAT", 'I' misread 'l'): the sum paid, after a plain "Total" (a count of items, on many
# tills) and before one that excludes it
INCLUDED = re.compile(r"\b[il1]ncl(?:\.|usive|uding|\b)", re.I)  # not "Total includes
# 6% GST 1.08", which gives the tax
# an amount with cents ("119.55", "RM 8,00"): a sum of money, where a bare "60" beside a
# 'Total' is as often a count of items
CENTS = re.compile(r"\d[.,]\d\d\b")


def _label_rest(rest: str, spec: FieldSpec) -> str | None:
    """What follows a label on its line, as the field's value: for a number field only an
    amount (the label's own words, "Total INCL. GST@6%", are no value; an amount at the end
    of them is: "Total Sales (Excl GST) 96.00")."""
    if not rest or spec.type not in ("number", "integer") or AMOUNT.fullmatch(rest):
        return rest or None
    m = TRAILING_AMOUNT.search(rest)
    return m.group(1) if m else None


def _from_text_layer(doc, spec: FieldSpec):
    """Candidates from lines that start with the field's label: the rest of the line, the
    nearest text to its right on the same baseline (values set in their own column), and the
    next line (labels above their values), in reading order; a number field's are ranked
    with the page's own pairs by :func:`_amount_rank` (in :func:`fields_from_document`)."""
    found = list(_label_candidates(doc, spec))
    if spec.name.lower() in ISSUER:  # a name: not a number ("Company Res #1101085-T", its
        # label misread), nor a line with an amount on it
        found = [f for f in found if _name_like(f.value) and not re.search(
            r"\d\.\d\d\b", f.value) and sum(c.isalpha() for c in f.value) >= sum(
            c.isdigit() for c in f.value)]
    yield from found


def _amount_rank(f: Found) -> tuple[bool, ...]:
    """Sort key of a number field's candidates by their labels: parts last; the final
    amount ("NET TOTAL", "Total Payable": after rounding, discounts and tax) first, then one
    that includes the tax, then a plain "Total"; sums with cents before bare counts."""
    label = f.label or ""
    included = bool(INCLUDED.search(label))
    return (bool(PART_OF_TOTAL.search(label)) and not included,
            not (re.match(rf"\s*{FINAL}\b", label, re.I) or FINAL_AFTER.search(label)),
            not included, not CENTS.search(str(f.value or "")))


# a text field's label followed by one of these is another field's label: "Company Reg No.
# : 001055194X", "Company ID", "Address line 2", "Name of bank"
OTHER_LABEL = re.compile(r"(reg(istration)?|no|number|id|code|tel|phone|fax|e-?mail|line|"
                         r"of)\b\.?", re.I)


def _label_candidates(doc, spec: FieldSpec):
    """Candidates after lines that start with the field's label; where no line does, after
    lines that start with it misread by one letter."""
    found = False
    for misread in (False, True):
        if found:
            return
        for f in _labelled(doc, spec, misread):
            found = True
            yield f


def _labelled(doc, spec: FieldSpec, misread: bool):
    for page in doc.pages:
        lines = [ln for r in page.regions for ln in r.lines]
        for i, ln in enumerate(lines):
            for label in spec.labels:
                rest = _after_label(label, ln.text, spec.type in ("number", "integer"),
                                    misread)
                if rest is None:
                    continue
                if spec.type == "string" and not spec.date_like and OTHER_LABEL.match(rest):
                    continue
                value = _label_rest(rest, spec)
                if value:
                    yield Found(value, 0.9, "text-layer", page.number, ln.box, ln.text, ln.text)
                cy = (ln.box.y0 + ln.box.y1) / 2
                right = [o for o in lines if o is not ln and o.box.x0 >= ln.box.x1 - 1
                         and o.box.y0 <= cy <= o.box.y1]
                if spec.type in ("number", "integer"):  # past a currency set apart from
                    right = [o for o in right if re.search(r"\d", o.text)]  # its amount
                if right:
                    o = min(right, key=lambda o: o.box.x0)
                    yield Found(o.text.strip(), 0.85, "text-layer", page.number, o.box, o.text,
                                ln.text)
                if i + 1 < len(lines):
                    o = lines[i + 1]
                    yield Found(o.text.strip(), 0.7, "text-layer", page.number, o.box, o.text,
                                ln.text)


ISSUER = {"company", "merchant", "vendor", "seller", "store", "shop", "issuer", "supplier"}
ADDRESS = {"address", "merchant_address", "vendor_address", "store_address",
           "company_address", "seller_address"}
# lines that end the issuer's address block on receipts and invoices
ADDRESS_STOP = re.compile(r"\b(tel|fax|phone|gst|vat|tax|invoice|receipt|date|cashier|"
                          r"table|order|bill|e-?mail|www|http|reg|co\.? ?no|member|welcome|"
                          r"thank)\b", re.I)
REGISTRATION = re.compile(r"\b(reg(istration)?\.? ?no|co(mpany)?\.? ?(reg|no)|roc|ssm)\b", re.I)
# and so does the first line of the sale (a receipt without a phone line goes on to its
# items): an amount, or a word of the sale; not words to skip as the issuer's name ("Cash
# & Carry" stores, "Total" petrol stations)
SALE_LINE = re.compile(r"\b(total|subtotal|qty|cash|amount|paid|change|item|price)\b|"
                       r"\d\.\d\d\b", re.I)
# a telephone number ("03-5542 3228", "+603-9130 2672"), or a run of seven digits or more
# (a tax or company number): also the end of an address, whatever label (or misread label)
# stands before it
NUMBER_LINE = re.compile(r"\+?\b\d{2,4} ?- ?\d{3,4} ?\d{3,4}\b|\d{7,}")
# the legal form that ends a company's name; a name broken over two lines ends on it
LEGAL_FORM = re.compile(r"\b(sdn\.? ?bhd|bhd|berhad|ltd|limited|inc|llc|corp|corporation|plc|"
                        r"gmbh|ag|s/b|pte|pty|co)\.?$", re.I)
# a company number after the name: "AEON CO. (M) BHD (126926-H)", "... SDN BHD(1077469-V)"
COMPANY_NUMBER = re.compile(r"\s*[(\[]\s*[A-Z0-9]{0,2}\d{4,}[\s-]*[A-Z0-9]?\s*[)\]]?\s*$",
                            re.I)


def _name_like(text: str) -> bool:
    """Whether a line reads as words, as a name does, rather than as a logo or a stamp read
    as letters ("9b&asc-", "3 1@oaolC"): a word of three letters or more ('&' counts:
    "H&M"), and more words of two letters or more than pieces mixing letters with digits or
    signs ("3M" and "7UP" are words). The line is cut at spaces, '-' and '/' ("7-ELEVEN",
    "S/B"); numbers, and codes of four digits or more, are neither."""
    words = junk = 0
    long_word = False
    for part in re.split(r"[\s/-]+", text):
        part = part.strip("()[].,:;'\"*·•#=_~")
        if not part:
            continue
        if re.fullmatch(r"\d{1,2}[A-Z]{1,2}", part):  # "3M", "7UP"
            words += 1
        elif re.fullmatch(r"[A-Za-z][A-Za-z.'&]*", part):
            n = sum(c.isalpha() or c == "&" for c in part)
            words += n >= 2
            long_word |= n >= 3
        elif not (re.fullmatch(r"[\d.,:%&]+", part) or len(re.findall(r"\d", part)) >= 4):
            junk += 1
    return long_word and words > junk


def _date_line(text: str) -> bool:
    """A line that holds a date (and perhaps a time) and no other words."""
    m = DATE_RE.search(text)
    if m is None:
        return False
    rest = text[: m.start()] + text[m.end():]
    return not re.search(r"[A-Za-z]{3,}", rest)


def _lines(doc) -> list:
    return [(page.number, ln) for page in doc.pages for r in page.regions for ln in r.lines
            if ln.text.strip()]


def _by_pattern(doc, spec: FieldSpec):
    """Candidates found without a label: a date-shaped string for a date field; the issuer
    (the first line with words) and its address block (the lines after it, up to a line of
    phone, tax or document details) for issuer and address fields, as printed at the top of
    receipts and invoices."""
    if spec.type == "boolean":
        yield from _checkbox(doc, spec)
        return
    lines = _lines(doc)
    if spec.date_like:
        yield from sorted(_dates(lines), key=lambda f: -f.confidence)
        return
    name = spec.name.lower()
    if name not in ISSUER | ADDRESS or spec.type != "string":
        return
    first = next((i for i, (_, ln) in enumerate(lines)
                  if _name_like(ln.text) and not ADDRESS_STOP.search(ln.text)), None)
    if first is None:
        return
    n, ln = lines[first]
    name_lines = [ln]
    if first + 1 < len(lines) and lines[first + 1][0] == n:
        nxt = lines[first + 1][1]
        if (LEGAL_FORM.search(_company(nxt.text)) and not LEGAL_FORM.search(_company(ln.text))
                and _name_like(nxt.text)):
            name_lines.append(nxt)  # "WESTERN EASTERN" / "STATIONERY SDN. BHD."
    if name in ISSUER:
        yield Found(" ".join(_company(o.text) for o in name_lines), 0.5, "pattern", n,
                    _union_box(name_lines), "\n".join(o.text for o in name_lines))
        return
    block = []
    for n2, o in lines[first + len(name_lines) : first + 8]:
        if n2 != n:
            break
        if not block and (REGISTRATION.search(o.text) or COMPANY_NUMBER.search(o.text)
                          or _date_line(o.text)):
            continue  # the company's number (alone or after its name), or the date, between
            # the name and the address
        if not block and re.fullmatch(r"\W*\(?[\w:-]{4,}\)?\W*", o.text.strip()) and any(
                c.isdigit() for c in o.text):
            continue  # a registration number under the name, e.g. "(1365663-P)"
        if ADDRESS_STOP.search(o.text) or SALE_LINE.search(o.text) or NUMBER_LINE.search(
                o.text):
            break
        block.append(o)
    if block:
        yield Found(" ".join(o.text.strip() for o in block), 0.5, "pattern", n,
                    _union_box(block), "\n".join(o.text for o in block))


def _company(text: str) -> str:
    """A company's name as printed on a line, without a bullet before it or its company
    number after it."""
    t = text.strip().lstrip("-*·•#=_~ ")
    return (COMPANY_NUMBER.sub("", t) or t).strip()


def _union_box(lines) -> Box:
    return Box(page=lines[0].box.page, x0=min(o.box.x0 for o in lines),
               y0=min(o.box.y0 for o in lines), x1=max(o.box.x1 for o in lines),
               y1=max(o.box.y1 for o in lines))


def _dates(lines):
    """Every date-shaped string of the text, in reading order, each a candidate (the first
    may be no date: a time '10.41.00', a code '18.8.22'): more likely on a line that says
    'date', with a four-digit year, and written with '/', '-' or a month's name (each
    counts)."""
    for n, ln in lines:
        said = re.search(r"\bdate", ln.text, re.I) is not None
        for m in DATE_RE.finditer(ln.text):
            d = m.group(1)
            sure = said + bool(re.search(r"\d{4}", d)) + bool(re.search(r"[/-]|[a-z]", d, re.I))
            yield Found(d, round(0.45 + 0.05 * sure, 2), "pattern", n, ln.box, ln.text)


def _checkbox(doc, spec: FieldSpec):
    """A yes/no field: the checkbox on the row of the line that carries its label (nearest
    one left or right of it), checked or not."""
    for page in doc.pages:
        boxes = [r for r in page.regions if r.label.value == "checkbox"]
        if not boxes:
            continue
        for r in page.regions:
            for ln in r.lines:
                if not any(_after_label(label, ln.text) is not None for label in spec.labels):
                    continue
                cy, h = (ln.box.y0 + ln.box.y1) / 2, ln.box.y1 - ln.box.y0
                row = [b for b in boxes if b.box.y0 - h / 2 <= cy <= b.box.y1 + h / 2]
                if not row:
                    continue
                b = min(row, key=lambda b: min(abs(b.box.x1 - ln.box.x0),
                                               abs(b.box.x0 - ln.box.x1)))
                if min(abs(b.box.x1 - ln.box.x0), abs(b.box.x0 - ln.box.x1)) <= 4 * h:
                    yield Found(b.text, 0.8, "checkbox", page.number, b.box, ln.text)
                    return


def extract_fields(path: str | Path, schema: Any, *, password: str | None = None,
                   options: ExtractOptions | None = None) -> dict:
    """``{"values": {...}, "fields": {name: {value, confidence, source, page, box, text,
    reason}}}``; ``values`` validates against the schema (missing fields are null)."""
    path = Path(path)
    js = load_schema(schema)
    specs = field_specs(js)
    opts = options or ExtractOptions(password=password)
    doc = extract(path, opts)
    if doc.status.value == "failure":
        e = doc.errors[0]
        raise errors.DocvlmError(e.message, file=path, page=e.page, stage=e.stage)
    acro = _acroform(path, opts.password) if doc.source.format == "pdf" else {}
    model_vals = _from_model(path, doc, specs, opts)
    return fields_from_document(doc, js, acro, model_vals)


def fields_from_document(doc, schema: Any, acro: dict[str, Found] | None = None,
                         model_vals: dict[str, Found] | None = None) -> dict:
    """The field rules on an extracted :class:`schemas.Document` (whatever read it): form
    fields first, then the model's answer, then labels in the text, then patterns."""
    import jsonschema

    js = load_schema(schema)
    specs = field_specs(js)
    acro, model_vals = acro or {}, model_vals or {}
    values, fields = {}, {}
    for spec in specs:
        cands = [c for c in (acro.get(_norm(spec.name)) or acro.get(_norm(spec.title)),
                             model_vals.get(spec.name)) if c]
        exact, alike = _from_layout(doc, spec)  # misread keys after the text's labels
        labelled = exact + list(_from_text_layer(doc, spec))
        if spec.type in ("number", "integer"):  # the page's own pairs and the text's
            labelled.sort(key=_amount_rank)  # labels ranked alike (a stable sort)
        cands += labelled + alike
        cands += list(_by_pattern(doc, spec))
        chosen, reason = None, "not found in the form fields, the model output or the text"
        for c in cands:
            if c.value is None and c.source == "layout":
                reason = "the form's field for it is blank"
                break
            v, why = coerce(c.value, spec)
            if why is None:
                chosen = c
                chosen.value = v
                break
            reason = f"found {c.value!r} ({c.source}) but {why}"
        values[spec.name] = chosen.value if chosen else None
        fields[spec.name] = ({"value": chosen.value, "confidence": chosen.confidence,
                              "source": chosen.source, "page": chosen.page,
                              "box": chosen.box.model_dump() if chosen.box else None,
                              "text": chosen.text, "reason": None} if chosen else
                             {"value": None, "confidence": 0.0, "source": None, "page": None,
                              "box": None, "text": None, "reason": reason})
    nullable = {**js, "properties": {k: {"anyOf": [v, {"type": "null"}]}
                                     for k, v in js["properties"].items()}}
    nullable.pop("required", None)
    jsonschema.validate(values, nullable)
    return {"values": values, "fields": fields, "document": {
        "name": doc.source.name, "sha256": doc.source.sha256, "status": doc.status.value}}


def _from_model(path: Path, doc, specs: list[FieldSpec], opts: ExtractOptions
                ) -> dict[str, Found]:
    """The model's ``<task_json>`` answer on the first page, when the installed model was
    trained on that task."""
    from docvlm.pipeline import _model_for

    ref = _model_for(opts) if opts.mode != "text" else None
    if ref is None or "json" not in ref.tasks or not doc.pages:
        return {}
    model = ref.get()
    from docvlm.model.processor import Sample, collate
    from docvlm.model.vision import prepare_image
    from docvlm.render import render_page

    with open_document(path, password=opts.password, digest=False) as od:
        img = render_page(od, doc.pages[0].number, dpi=110).image
    keys = [s.title for s in specs]
    batch = collate(model.tokenizer, [Sample(prepare_image(img, model.cfg, "tiles"),
                                             "<task_json>" + json.dumps(keys))], left_pad=True)
    g = model.generate(batch, max_new_tokens=256)[0]
    try:
        obj = json.loads(g.text)
    except json.JSONDecodeError:
        return {}
    return {s.name: Found(obj[s.title], round(g.confidence, 4), "vision", doc.pages[0].number)
            for s in specs if isinstance(obj, dict) and obj.get(s.title) is not None}
