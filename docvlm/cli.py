"""The ``docvlm`` command line.

Exit codes: 0 every document succeeded, 1 failure (every document failed), 2 usage error,
3 partial (some pages or some documents failed).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from docvlm import errors
from docvlm.batch import Summary, run_batch
from docvlm.crops import READ_SCALES, READ_WIDTHS
from docvlm.ingest import Limits, expand_inputs, parse_page_ranges
from docvlm.output import to_html, to_json, to_markdown, write_atomic
from docvlm.pipeline import ExtractOptions
from docvlm.render import BACKENDS, DEFAULT_DPI
from schemas import Document, SourceFile, Status

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's default exit code is already 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_extract(sub) -> None:
    p = sub.add_parser(
        "extract", help="extract structured content from PDFs and images",
        description="Extract pages, regions, lines and words from documents. Accepts files, "
                    "folders (searched recursively) and globs; a bad file is reported in the "
                    "output and the batch goes on.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, folders or glob patterns")
    p.add_argument("-o", "--out", metavar="OUT",
                   help="output file (one input) or folder (one file per input); "
                        "default: standard output (JSON Lines for several inputs)")
    p.add_argument("--format", choices=("json", "markdown", "html"), default="json",
                   help="output format (default: json; JSON Lines on stdout for several "
                        "inputs)")
    p.add_argument("--pages", metavar="RANGES", help="pages to process, e.g. 1-3,7 or 5-")
    p.add_argument("--dpi", type=float, default=DEFAULT_DPI,
                   help=f"rendering resolution for PDF pages (default: {DEFAULT_DPI})")
    p.add_argument("--password", help="password for encrypted PDFs")
    p.add_argument("--backend", choices=BACKENDS, default="pymupdf",
                   help="PDF rasterizer: pymupdf (default) or pdf2image (poppler)")
    p.add_argument("--rgb", action="store_true", help="render in colour (default: gray)")
    p.add_argument("--no-preprocess", action="store_true",
                   help="skip light/orientation/deskew/contrast/denoise on scanned pages")
    d = Limits()
    p.add_argument("--max-file-mb", type=float, default=d.max_file_bytes / 2**20,
                   help="refuse files larger than this (default: %(default)s)")
    p.add_argument("--max-pages", type=int, default=d.max_pages,
                   help="refuse documents with more pages (default: %(default)s)")
    p.add_argument("--max-pixels", type=int, default=d.max_page_pixels,
                   help="pixel budget per rendered page; the DPI is lowered to fit "
                        "(default: %(default)s)")
    p.add_argument("--mode", choices=("auto", "vision", "anchored", "text"), default="auto",
                   help="vision: read pixels with the model; anchored: the model's layout "
                        "with the PDF text layer's exact text; text: text layer only, no "
                        "model; auto (default): anchored where a usable text layer exists, "
                        "vision elsewhere (text layer only when no model is installed)")
    p.add_argument("--model", metavar="DIR", help="model folder (default: $DOCVLM_MODEL or "
                   "the shipped weights)")
    p.add_argument("--render-workers", type=int, default=1,
                   help="render pages in this many processes (default: 1)")
    p.add_argument("--fast-read", action="store_true",
                   help="read each text line once, at one scale and width (about 4x "
                        "faster reading, many times the character errors; default: lines the "
                        "first two readings disagree on are read at five scales and two "
                        "widths, the consensus kept)")
    p.add_argument("--no-lexicon", action="store_true",
                   help="keep every word as the reading head read it (default: a word that "
                        "is no English word but one letter away from a common one is read "
                        "as that word where the line's own frames find it nearly as likely)")
    add_precision_option(p)
    p.add_argument("--schema", metavar="SCHEMA", help="extract these fields instead of the "
                   "document: a JSON Schema file or a pydantic model as module:Class")
    p.add_argument("--overlay", metavar="DIR", help="also write a PNG per page with regions, "
                   "lines and table cells drawn")
    p.add_argument("-j", "--jobs", type=int, default=1,
                   help="documents processed in parallel processes (default: 1)")
    p.add_argument("--timeout", type=float, help="seconds per document; a document over it "
                   "fails with a timeout error and the batch goes on")
    p.add_argument("--skip-existing", action="store_true",
                   help="with -o FOLDER: skip inputs whose output file exists (resume a batch)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar, per-file report or summary on stderr")
    p.set_defaults(func=cmd_extract)


def _add_schema(sub) -> None:
    p = sub.add_parser("schema", help="write the JSON Schema files of the output contract",
                       description="Write document.schema.json and job.schema.json.")
    p.add_argument("--out", metavar="DIR", help="folder (default: the installed schemas/)")
    p.set_defaults(func=cmd_schema)


def _add_train(sub) -> None:
    from docvlm.train.stages import STAGES

    p = sub.add_parser(
        "train", help="train one stage of the VLM (resumable)",
        description="Train one stage (reading | ctc | lm | align | instruct) into a run folder. "
                    "Stages are presets of per-module learning rates, a task mix and a step "
                    "budget; flags override the budget.")
    p.add_argument("--stage", choices=list(STAGES), required=True, help="training stage")
    p.add_argument("--run", required=True, metavar="DIR", help="run folder (checkpoints, logs)")
    p.add_argument("--preset", default="small", choices=("tiny", "small", "base"),
                   help="model size preset for a new model (default: small)")
    p.add_argument("--config", metavar="DIR", help="folder holding a config.json to use "
                   "instead of a preset")
    p.add_argument("--init", metavar="DIR", help="start from these weights (a previous "
                   "stage's run/last or run/best)")
    p.add_argument("--vision-from", metavar="DIR", help="local SigLIP checkpoint to load")
    p.add_argument("--lm-from", metavar="DIR", help="local Qwen2/Llama checkpoint to load "
                   "(with its tokenizer.json)")
    p.add_argument("--line-px", type=int, help="text scale of a new model: line-crop height "
                   "in pixels it reads at (default: the preset's)")
    p.add_argument("--line-widen", type=float, help="draw lines this much wider than their "
                   "height scales them (more reading-head frames per letter), for a new model "
                   "or one started with --init (default: the model's; presets 1.0)")
    p.add_argument("--resume", action="store_true", help="continue RUN/last exactly")
    p.add_argument("--steps", type=int, help="override the stage's step budget")
    p.add_argument("--batch-size", type=int, help="override the stage's batch size")
    p.add_argument("--lr-scale", type=float, default=1.0, help="multiply every learning rate")
    p.add_argument("--ctc-weight", type=float, help="override the reading head's loss weight "
                   "(0 trains the fused model without reading-first)")
    p.add_argument("--mix", metavar="TASK=W,...", help="override the stage's task mix, e.g. "
                   "read_line=0.8,read_receipt_line=0.2 (tasks: docvlm.train.tasks.BUILDERS)")
    p.add_argument("--seed", type=int, default=0, help="data and init seed (default: 0)")
    p.add_argument("--workers", type=int, default=1, help="data worker processes (default: 1)")
    p.add_argument("--threads", type=int, help="torch threads for the trainer")
    p.add_argument("--eval-every", type=int, default=500, help="steps between evaluations")
    p.add_argument("--save-every", type=int, default=200, help="steps between checkpoints")
    p.add_argument("--eval-samples", type=int, default=64, help="held-out lines per eval")
    p.add_argument("--max-minutes", type=float, help="stop and save after this many minutes")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (default: auto)")
    p.set_defaults(func=cmd_train)


def _add_eval(sub) -> None:
    from docvlm.eval import SETS

    p = sub.add_parser(
        "eval", help="measure a model on held-out synthetic or real evaluation sets",
        description="Evaluate a model: CER/WER, TEDS, field F1, box precision/recall, "
                    "tokens/s. Real sets are read from ../shared/eval (measurement only) and "
                    "skipped with a message when absent.")
    p.add_argument("--model", required=True, metavar="DIR", help="model folder")
    p.add_argument("--set", dest="sets", action="append", choices=SETS, required=True,
                   help="evaluation set (repeat for several)")
    p.add_argument("-n", type=int, default=50, help="samples per task (default: 50)")
    p.add_argument("--data", metavar="DIR", help="folder holding the real sets "
                   "(default: ../shared/eval)")
    p.add_argument("-o", "--out", metavar="FILE", help="write the results as JSON")
    p.add_argument("--threads", type=int, help="torch threads")
    add_precision_option(p)
    p.set_defaults(func=cmd_eval)


def add_precision_option(p) -> None:
    """``--precision`` (extract, eval, and the queue's submit)."""
    p.add_argument("--precision", choices=("auto", "int8", "fp32"), default="auto",
                   help="the model's linear layers: int8 (quantized on the fly, about twice "
                        "as fast on a CPU, the same character error rate on the measured "
                        "sets) or fp32; auto (default): int8 on a CPU")


def _add_export(sub) -> None:
    p = sub.add_parser(
        "export", help="copy a trained model's weights (no optimizer state) for shipping",
        description="Write config.json, tokenizer.json and model.safetensors of a model, in "
                    "bfloat16 or float16 by default (half the size; loaded back as float32), "
                    "plus the run's stage and metrics as the recipe record.")
    p.add_argument("--model", required=True, metavar="DIR", help="model folder (run/best)")
    p.add_argument("--out", required=True, metavar="DIR", help="destination folder")
    p.add_argument("--dtype", choices=("bfloat16", "float16", "float32"), default="bfloat16")
    p.add_argument("--read-with", choices=("decoder", "ctc"), default=None,
                   help="how the exported model reads text lines (default: unchanged)")
    p.set_defaults(func=cmd_export)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="docvlm", description="OCR-free document understanding: PDFs and "
                     "scans to structured JSON.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    parser.commands = sub  # so outer layers (workers.cli) can add their commands
    _add_extract(sub)
    _add_schema(sub)
    _add_train(sub)
    _add_eval(sub)
    _add_export(sub)
    return parser


def _output_names(files: list[Path]) -> dict[Path, str]:
    """A distinct output stem per input (same-named inputs get -2, -3...)."""
    used: set[str] = set()
    names = {}
    for f in files:
        stem = f.stem or "document"
        name, i = stem, 1
        while name in used:
            i += 1
            name = f"{stem}-{i}"
        used.add(name)
        names[f] = name
    return names


class _Writer:
    """Writes each document as it completes, so an interrupted batch keeps what it did."""

    def __init__(self, args, n_inputs: int) -> None:
        self.args = args
        self.render = {"markdown": to_markdown, "html": to_html}.get(args.format, to_json)
        self.suffix = {"markdown": ".md", "html": ".html"}.get(args.format, ".json")
        self.out = Path(args.out) if args.out else None
        self.as_dir = self.out is not None and (n_inputs > 1 or self.out.is_dir()
                                                or args.out.endswith(("/", "\\")))
        self.many = n_inputs > 1
        if self.as_dir:
            self.out.mkdir(parents=True, exist_ok=True)

    def path_for(self, stem: str) -> Path | None:
        return self.out / f"{stem}{self.suffix}" if self.as_dir else None

    def write(self, doc: Document, stem: str) -> None:
        a = self.args
        if self.out is None:
            if a.format == "json" and self.many:
                sys.stdout.write(to_json(doc, indent=None) + "\n")
            else:
                if a.format != "json" and self.many:
                    sys.stdout.write(f"<!-- file: {doc.source.name} -->\n\n")
                sys.stdout.write(self.render(doc) + ("\n" if a.format == "json" else ""))
            sys.stdout.flush()
        elif self.as_dir:
            write_atomic(self.path_for(stem), self.render(doc))
        else:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.out.write_text(self.render(doc), encoding="utf-8")


def cmd_extract(args) -> int:
    if args.dpi < 18 or args.dpi > 1200:
        raise errors.UsageError(f"--dpi {args.dpi:g} is outside 18..1200")
    if args.pages:
        parse_page_ranges(args.pages, 10**9)  # syntax check before any work
    limits = Limits(max_file_bytes=int(args.max_file_mb * 2**20), max_pages=args.max_pages,
                    max_page_pixels=args.max_pixels)
    if args.jobs < 1:
        raise errors.UsageError(f"--jobs {args.jobs} must be at least 1")
    opts = ExtractOptions(pages=args.pages, dpi=args.dpi, password=args.password,
                          gray=not args.rgb, backend=args.backend,
                          preprocess=not args.no_preprocess, limits=limits,
                          render_workers=args.render_workers, mode=args.mode,
                          model=args.model,
                          read_scales=(1.0,) if args.fast_read else READ_SCALES,
                          read_widths=(1.0,) if args.fast_read else READ_WIDTHS,
                          lexicon=not args.no_lexicon, precision=args.precision)
    files, problems = expand_inputs(args.paths)
    if args.schema:
        return _extract_fields(files, problems, args, opts)
    if args.skip_existing and not args.out:
        raise errors.UsageError("--skip-existing needs -o FOLDER")
    writer = _Writer(args, len(files) + len(problems))
    bad = [Path(p.file or "input") for p in problems]
    names = _output_names(files + bad)
    summary = Summary()
    t0 = time.perf_counter()
    for p, path in zip(problems, bad):
        doc = Document(source=SourceFile(name=path.name, path=p.file), status=Status.FAILURE,
                       errors=[p.to_item()])
        summary.add(doc)
        writer.write(doc, names[path])

    def skip(f: Path) -> bool:
        path = writer.path_for(names[f])
        return bool(args.skip_existing and path is not None and path.exists())

    summary.skipped = sum(skip(f) for f in files)
    by_path = {str(f): f for f in files}
    for doc in run_batch(files, opts, jobs=args.jobs, timeout=args.timeout, skip=skip,
                         progress=False if args.quiet else None):
        f = by_path.get(doc.source.path or "", Path(doc.source.path or doc.source.name))
        summary.add(doc)
        writer.write(doc, names.get(f, f.stem))
        if args.overlay and doc.pages:
            from docvlm.overlay import write_overlays

            write_overlays(doc, args.overlay, password=args.password)
        if not args.quiet and not sys.stderr.isatty():
            first = doc.errors[0] if doc.errors else None
            detail = f": {first.code}: {first.message}" if first else ""
            print(f"{doc.status.value:8s} {f} ({len(doc.pages)}/{doc.page_count} pages)"
                  f"{detail}", file=sys.stderr)
    summary.seconds = time.perf_counter() - t0
    if not args.quiet:
        print(summary.line(), file=sys.stderr)
    statuses = set(summary.statuses)
    if not statuses or statuses == {Status.SUCCESS}:
        return EXIT_OK
    if statuses == {Status.FAILURE}:
        return EXIT_FAILURE
    return EXIT_PARTIAL


def _extract_fields(files, problems, args, opts) -> int:
    """``--schema``: one fields object per input (JSON Lines for several)."""
    import json

    from docvlm.fields import extract_fields, load_schema

    schema = load_schema(args.schema)  # a bad schema is a usage error before any work
    results, failed = [], 0
    for p in problems:
        results.append({"file": p.file, "error": p.to_item().model_dump()})
        failed += 1
    for f in files:
        try:
            results.append({"file": str(f), **extract_fields(f, schema, options=opts)})
        except errors.UsageError:
            raise
        except errors.DocvlmError as e:
            results.append({"file": str(f), "error": e.to_item().model_dump()})
            failed += 1
    text = (json.dumps(results[0], indent=2, ensure_ascii=False) if len(results) == 1 else
            "\n".join(json.dumps(r, ensure_ascii=False) for r in results)) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if failed == len(results):
        return EXIT_FAILURE
    return EXIT_PARTIAL if failed else EXIT_OK


def cmd_train(args) -> int:
    import json

    from docvlm.train.loop import TrainOptions, train
    from docvlm.train.stages import get_stage, parse_mix

    stage = get_stage(args.stage)
    if args.steps:
        stage.steps = args.steps
    if args.batch_size:
        stage.batch_size = args.batch_size
    stage.lr = {k: v * args.lr_scale for k, v in stage.lr.items()}
    if args.mix:
        try:
            stage.mix = parse_mix(args.mix)
        except ValueError as e:
            raise errors.UsageError(f"--mix: {e}") from None
    if args.line_widen is not None and not 0.5 <= args.line_widen <= 3.0:
        raise errors.UsageError(f"--line-widen: {args.line_widen} is outside 0.5..3.0")
    if args.ctc_weight is not None:
        stage.ctc_weight = args.ctc_weight
        if args.ctc_weight == 0:
            stage.lr["ctc"] = 0.0
    opts = TrainOptions(
        run=Path(args.run), stage=stage, preset=args.preset,
        config_path=Path(args.config) if args.config else None,
        init_from=Path(args.init) if args.init else None, vision_from=args.vision_from,
        lm_from=args.lm_from, resume=args.resume, seed=args.seed, workers=args.workers,
        threads=args.threads, eval_every=args.eval_every, save_every=args.save_every,
        eval_samples=args.eval_samples, device=args.device, max_minutes=args.max_minutes,
        line_px=args.line_px, line_widen=args.line_widen)
    result = train(opts)
    print(json.dumps(result, default=str))
    return EXIT_OK


def cmd_eval(args) -> int:
    import json

    import torch

    from docvlm.eval.run import DEFAULT_DATA, evaluate, print_table
    from docvlm.model.vlm import DocVLM
    from docvlm.passes import int8_for

    if args.threads:
        torch.set_num_threads(args.threads)
    model = DocVLM.load(args.model)
    if int8_for(args.precision):
        model.quantize_int8()
    data = Path(args.data) if args.data else DEFAULT_DATA
    results = {name: evaluate(model, name, args.n, data) for name in args.sets}
    print(print_table(results))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return EXIT_OK


def cmd_export(args) -> int:
    import shutil

    import torch

    from docvlm.model.vlm import DocVLM

    model = DocVLM.load(args.model)
    if args.read_with:
        if args.read_with == "ctc" and model.ctc is None:
            print(f"docvlm: error: {args.model} has no reading head to read with",
                  file=sys.stderr)
            return EXIT_USAGE
        model.cfg.read_with = args.read_with
    out = model.save(args.out, dtype=getattr(torch, args.dtype))
    run = Path(args.model).parent
    for name in ("stage.json",):
        for src in (Path(args.model) / name, run / "last" / name):
            if src.exists():
                shutil.copy(src, out / name)
                break
    if (run / "metrics.jsonl").exists():
        shutil.copy(run / "metrics.jsonl", out / "metrics.jsonl")
    size = (out / "model.safetensors").stat().st_size
    print(f"{out}: model.safetensors {size / 2**20:.1f} MiB ({args.dtype})")
    return EXIT_OK


def cmd_schema(args) -> int:
    import schemas

    for path in schemas.write_json_schemas(args.out or schemas.SCHEMA_DIR):
        print(path)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    return run(build_parser(), argv)


def run(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse and dispatch, mapping errors to exit codes (never a traceback)."""
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2),
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except errors.UsageError as e:
        print(f"docvlm: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except errors.DocvlmError as e:
        print(f"docvlm: error: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug, not bad input: say so in one line, no traceback
        logging.getLogger("docvlm").debug("internal error", exc_info=e)
        print(f"docvlm: internal error: {type(e).__name__}: {e} (run with -vv for details)",
              file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
