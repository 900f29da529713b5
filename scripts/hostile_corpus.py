"""Run ``docvlm extract`` over every PDF in ../shared/eval/pdfs/ and classify each outcome.

    python scripts/hostile_corpus.py [--root ../shared/eval/pdfs] [--timeout 30]

One line per file: ok (exit 0/3), typed (exit 1 with a typed error item), crash (a
traceback, another exit code, or output that is not a Document), hang (over the timeout).
Encrypted files that ask for a password are retried with the passwords their upstream test
suites state (UPSTREAM_EXPECTATIONS.json). The folder is for measurement only; the script
skips with a message when it is absent.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCVLM = str(Path(sys.executable).with_name("docvlm"))


def known_passwords(root: Path) -> list[str]:
    f = root / "UPSTREAM_EXPECTATIONS.json"
    if not f.exists():
        return []
    found = []
    for item in json.loads(f.read_text())["items"]:
        exp = item.get("expect")
        pw = exp.get("password") if isinstance(exp, dict) else None
        if isinstance(pw, str):
            found += re.findall(r"'([^']*)'", pw) + pw.split()[:1]
    return list(dict.fromkeys(p for p in found if " " not in p))


def run_one(path: Path, timeout: float, password: str | None) -> tuple[str, str, float]:
    args = [DOCVLM, "extract", str(path), "-q"]
    if password is not None:
        args += ["--password", password]
    t0 = time.perf_counter()
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hang", f"over {timeout:.0f} s", time.perf_counter() - t0
    dt = time.perf_counter() - t0
    if "Traceback" in r.stderr or r.returncode not in (0, 1, 3):
        return "crash", f"exit {r.returncode}: {r.stderr.strip()[-200:]}", dt
    try:
        doc = json.loads(r.stdout)
    except json.JSONDecodeError:
        return "crash", "output is not JSON", dt
    codes = ",".join(sorted({e["code"] for e in doc["errors"]}))
    if r.returncode == 1:
        return "typed", codes, dt
    return "ok", f"{doc['status']} {len(doc['pages'])}/{doc['page_count']} pages {codes}", dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=str(REPO.parent / "shared" / "eval" / "pdfs"),
                    help="folder of PDFs (default: ../shared/eval/pdfs)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per file")
    args = ap.parse_args()
    root = Path(args.root)
    if not root.is_dir():
        print(f"skipped: {root} is absent (the evaluation corpus is not in this checkout)")
        return 0
    passwords = known_passwords(root)
    totals: Counter[str] = Counter()
    for path in sorted(root.rglob("*.pdf")):
        kind, detail, dt = run_one(path, args.timeout, None)
        if kind == "typed" and "password_required" in detail:
            for pw in passwords:
                k2, d2, dt2 = run_one(path, args.timeout, pw)
                if k2 != "typed" or "wrong_password" not in d2:
                    kind, detail, dt = k2, f"{d2} (password {pw!r})", dt + dt2
                    break
        totals[kind] += 1
        print(f"{kind:6s} {dt:6.2f}s  {path.relative_to(root)}  {detail}", flush=True)
    print(f"total {sum(totals.values())}: " + ", ".join(
        f"{k} {totals[k]}" for k in ("ok", "typed", "crash", "hang")))
    return 1 if totals["crash"] or totals["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
