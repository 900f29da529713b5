"""Write the sample documents in samples/ (deterministic; re-run to regenerate).

    python scripts/make_samples.py [--out samples]

- invoice.pdf          born-digital invoice with a ruled table (text layer present)
- report.pdf           two-page born-digital report, two columns on page 2
- scanned_letter.jpg   a letter "printed and scanned": rendered at 150 DPI, skewed 2.5
                       degrees, uneven light, noise, JPEG (no text layer)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import pymupdf

PROSE = (
    "Document understanding turns scanned pages and digital files into structured data. "
    "Each page is rendered, cut into tiles and read by a small vision-language model that "
    "returns text, tables and regions with their boxes. Results are validated against a "
    "schema so that downstream systems can trust every field they receive."
)


def invoice(path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)  # A4
    page.insert_text((50, 70), "INVOICE", fontsize=26, fontname="hebo")
    page.insert_text((400, 60), "Invoice no: INV-2026-0147", fontsize=10)
    page.insert_text((400, 76), "Date: 14 March 2026", fontsize=10)
    page.insert_text((400, 92), "Due: 13 April 2026", fontsize=10)
    y = 130
    for line in ("Northwind Traders Ltd", "48 Harbour Street", "Bristol BS1 4DJ"):
        page.insert_text((50, y), line, fontsize=11)
        y += 15
    y = 130
    page.insert_text((330, y - 16), "Bill to:", fontsize=10, fontname="hebo")
    for line in ("Contoso Analytics GmbH", "Friedrichstrasse 120", "10117 Berlin"):
        page.insert_text((330, y), line, fontsize=11)
        y += 15
    rows = [("Description", "Qty", "Unit price", "Amount"),
            ("Document scanning service", "120", "0.45", "54.00"),
            ("Form data extraction", "300", "0.20", "60.00"),
            ("Table reconstruction", "45", "1.10", "49.50"),
            ("Archive storage (month)", "1", "12.00", "12.00")]
    xs = [50, 300, 370, 460, 545]
    top = 230
    for i, row in enumerate(rows):
        yy = top + i * 24
        for j, cell in enumerate(row):
            font = "hebo" if i == 0 else "helv"
            x = xs[j] + 6 if j == 0 else xs[j + 1] - 6 - pymupdf.get_text_length(cell, font, 10)
            page.insert_text((x, yy + 16), cell, fontsize=10, fontname=font)
    for i in range(len(rows) + 1):
        page.draw_line((xs[0], top + i * 24), (xs[-1], top + i * 24), width=0.6)
    for x in xs:
        page.draw_line((x, top), (x, top + len(rows) * 24), width=0.6)
    y = top + len(rows) * 24 + 30
    for label, value in (("Subtotal", "175.50"), ("VAT 20%", "35.10"), ("Total due", "210.60")):
        page.insert_text((370, y), label, fontsize=11, fontname="hebo" if "Total" in label
                         else "helv")
        page.insert_text((545 - pymupdf.get_text_length(value, "helv", 11), y), value,
                         fontsize=11)
        y += 18
    page.insert_textbox(pymupdf.Rect(50, 720, 545, 800),
                        "Payment by bank transfer to GB29 NWBK 6016 1331 9268 19 within 30 "
                        "days. Thank you for your business.", fontsize=9)
    doc.set_metadata({"title": "Invoice INV-2026-0147", "creator": "docvlm samples"})
    doc.save(path, garbage=4, deflate=True)


def report(path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)  # Letter
    page.insert_text((72, 90), "Annual Report on Document Processing", fontsize=20,
                     fontname="tibo")
    page.insert_text((72, 130), "1. Introduction", fontsize=14, fontname="tibo")
    page.insert_textbox(pymupdf.Rect(72, 140, 540, 330), PROSE + " " + PROSE, fontsize=11,
                        fontname="tiro")
    page.insert_text((72, 360), "2. Key figures", fontsize=14, fontname="tibo")
    items = ["Pages processed: 1,284,930", "Median latency: 2.4 s per page",
             "Field accuracy on invoices: 97.8 %"]
    for i, item in enumerate(items):
        page.insert_text((90, 385 + i * 18), "\u2022 " + item, fontsize=11, fontname="tiro")
    page.insert_text((300, 760), "1", fontsize=9)
    page = doc.new_page(width=612, height=792)
    page.insert_text((72, 80), "3. Methods", fontsize=14, fontname="tibo")
    page.insert_textbox(pymupdf.Rect(72, 95, 296, 700), (PROSE + " ") * 3, fontsize=10,
                        fontname="tiro")
    page.insert_textbox(pymupdf.Rect(316, 95, 540, 700), (PROSE + " ") * 3, fontsize=10,
                        fontname="tiro")
    page.insert_text((300, 760), "2", fontsize=9)
    doc.save(path, garbage=4, deflate=True)


def scanned_letter(path: Path, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((60, 80), "Meridian Insurance", fontsize=18, fontname="hebo")
    page.insert_text((60, 98), "22 Castle Road, Leeds LS2 7HX", fontsize=10)
    page.insert_text((400, 150), "Leeds, 2 October 2026", fontsize=10)
    page.insert_text((60, 200), "Dear Ms Patel,", fontsize=11)
    body = ("Thank you for your claim dated 18 September 2026 regarding policy number "
            "MI-448-2291. We have reviewed the documents you sent and approved a payment of "
            "GBP 1,250.00, which will reach your account within five working days. "
            "Please keep this letter for your records. If you have any questions, call us "
            "on 0113 496 0000 quoting the reference above.")
    page.insert_textbox(pymupdf.Rect(60, 215, 535, 400), body, fontsize=11)
    page.insert_text((60, 430), "Yours sincerely,", fontsize=11)
    page.insert_text((60, 480), "Daniel Okafor, Claims Team", fontsize=11)
    pix = page.get_pixmap(dpi=150, colorspace=pymupdf.csGRAY, alpha=False)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w).astype(np.float32)
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 2.5, 1.0)
    img = cv2.warpAffine(img, m, (w, h), borderValue=255)
    yy, xx = np.mgrid[0:h, 0:w]
    light = 1.0 - 0.12 * (xx / w) - 0.06 * (yy / h)  # uneven illumination
    img = img * light + rng.normal(0, 6, img.shape)
    img = cv2.GaussianBlur(np.clip(img, 0, 255).astype(np.uint8), (3, 3), 0.6)
    from PIL import Image

    Image.fromarray(img).save(path, quality=60, dpi=(150, 150))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="samples", help="output folder (default: samples)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    invoice(out / "invoice.pdf")
    report(out / "report.pdf")
    scanned_letter(out / "scanned_letter.jpg")
    for p in sorted(out.iterdir()):
        print(f"{p}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
