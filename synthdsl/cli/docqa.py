"""The document-QA verbs: ``synthdsl ingest | create | curate | save-as``.

The synthetic-data-kit workflow, step by step, on top of the doc_qa strategy
(``recipes/doc_qa.yaml``, made of ``recipes/doc_qa_generate.yaml`` and
``recipes/doc_qa_curate.yaml``; see ``docs/strategies/doc_qa.md``):

- ``ingest PATH... --out DIR``: reads documents (Markdown, text, HTML, PDF files and
  folders of them, with ``synthdsl.io.sources``) and writes ``DIR/documents.jsonl``, one row
  per document: ``{"path", "title", "text", "pages"}``. ``path`` is the file as reached
  from the argument (``docs/guide.md``); ``title`` is the HTML or PDF title, else "";
  ``pages`` is the PDF page count, else null. No LLM.
- ``create INPUT --type qa|cot|summary --out DIR``: runs ``doc_qa_generate`` on INPUT (a
  ``documents.jsonl``, a folder holding one, a folder of documents or one document file)
  and writes the pairs as a run directory (``dataset.jsonl``, ``rejects.jsonl``,
  ``manifest.json``, ``report.html``).
- ``curate INPUT --threshold 8.5 --out DIR``: runs ``doc_qa_curate`` on pairs (a JSONL
  file or a run directory holding ``dataset.jsonl``); the judge prompt follows the pairs'
  mode (``doc_qa.mode``, else the fields present) unless ``--type`` is given.
- ``save-as INPUT --format openai|chatml|alpaca|sharegpt|jsonl --out FILE``: converts
  pairs to a fine-tuning layout with ``synthdsl.io.writers.to_format``. No LLM.

``create`` and ``curate`` run the strategy's recipes through the ordinary runtime
(``synthdsl.api.execute``): the verb writes a small recipe into the run directory
(``doc_qa-create.yaml`` / ``doc_qa-curate.yaml``: one source, one ``use:`` step) and
compiles it with ``CompileOptions``: its options become ``--set
steps.<verb>.with.<param>=...`` overrides, ``--model``/``--api-base`` the model
overrides, and ``--set`` passes any further override. The recipe's header shows the
equivalent ``synthdsl run`` command line. The strategy is looked up as ``use:`` does from
the current directory (``recipes/<name>.yaml``), then in the synthdsl source tree.

Errors: ``RunError`` (exit 1) for inputs that cannot be used, as ``file:line: message``
when a line is at fault (a record without the fields the step needs, a line that is not
JSON); ``RecipeError`` (exit 2) from compiling, as for ``synthdsl run``; usage errors
exit 2. The module imports only the standard library and ``synthdsl.errors`` at load
time.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthdsl.errors import RunError, SynthdslError

if TYPE_CHECKING:
    from synthdsl.api import RunResult
    from synthdsl.compile import CompileOptions

__all__ = [
    "COMMANDS",
    "DOCUMENT_SUFFIXES",
    "FORMATS",
    "MODES",
    "add_parser",
    "infer_mode",
    "main",
    "run",
]

#: The command names this module registers, with their one-line help.
COMMANDS: dict[str, str] = {
    "ingest": "read documents (Markdown, text, HTML, PDF) into documents.jsonl",
    "create": "generate QA pairs, chain-of-thought pairs or summaries from documents",
    "curate": "rate pairs with an LLM judge and keep those above a threshold",
    "save-as": "convert pairs to a fine-tuning format (OpenAI, ChatML, Alpaca, ShareGPT)",
}
MODES = ("qa", "cot", "summary")
#: save-as formats: ``jsonl`` is the plain records; the others are ``to_format`` shapes.
FORMATS = ("openai", "chatml", "alpaca", "sharegpt", "jsonl")
#: Files ``ingest`` reads (the text, HTML and PDF formats of ``synthdsl.io.sources``).
DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
#: Fields a pair needs, per mode (checked on the first record by ``curate``).
MODE_FIELDS: dict[str, tuple[str, ...]] = {
    "qa": ("question", "answer"),
    "cot": ("question", "reasoning", "answer"),
    "summary": ("summary",),
}
_GENERATE = "doc_qa_generate"
_CURATE = "doc_qa_curate"
_DOCUMENTS_FILE = "documents.jsonl"
_DATASET_FILE = "dataset.jsonl"
_DEFAULT_OUT = Path("out") / "doc_qa"


# --------------------------------------------------------------------------- parser


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``ingest``, ``create``, ``curate`` and ``save-as`` on the sub-parsers."""
    p = subparsers.add_parser(
        "ingest",
        help=COMMANDS["ingest"],
        description=(
            "Read documents (Markdown, text, HTML, PDF; files or folders, walked "
            "recursively) and write DIR/documents.jsonl, one row per document: path, "
            "title, text, pages. See docs/strategies/doc_qa.md."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="document files or folders")
    p.add_argument(
        "--out",
        metavar="DIR",
        default=str(_DEFAULT_OUT / "documents"),
        help="output directory (default out/doc_qa/documents)",
    )

    c = subparsers.add_parser(
        "create",
        help=COMMANDS["create"],
        description=(
            "Cut documents into chunks and generate, per chunk, question-answer pairs "
            "(qa), question-reasoning-answer triples (cot) or a summary, one record each, "
            "with the doc_qa_generate recipe. Writes a run directory: dataset.jsonl, "
            "rejects.jsonl, manifest.json."
        ),
    )
    c.add_argument(
        "input",
        metavar="INPUT",
        help="documents.jsonl (from ingest), a folder holding it, a folder of documents "
        "or one document",
    )
    c.add_argument("--type", dest="mode", choices=MODES, default="qa", help="what to generate")
    c.add_argument(
        "--num-pairs", type=_positive, metavar="N", help="pairs per chunk, at most (default 5)"
    )
    c.add_argument(
        "--chunk-size", type=_positive, metavar="N", help="tokens per chunk (default 512)"
    )
    c.add_argument(
        "--chunk-overlap",
        type=_non_negative,
        metavar="N",
        help="tokens shared by consecutive chunks (default 64)",
    )
    _add_run_options(c, _DEFAULT_OUT / "generated")

    u = subparsers.add_parser(
        "curate",
        help=COMMANDS["curate"],
        description=(
            "Rate each pair from 1 to 10 with an LLM judge and keep those scoring at "
            "least the threshold, with the doc_qa_curate recipe. Scores are integers: "
            "8.5 keeps 9 and 10. Dropped pairs go to rejects.jsonl with their score and "
            "the judge's reason."
        ),
    )
    u.add_argument(
        "input", metavar="INPUT", help="pairs: a JSONL file, or a run directory from create"
    )
    u.add_argument(
        "--threshold", type=float, metavar="SCORE", help="lowest score kept (default 8.5)"
    )
    u.add_argument(
        "--type",
        dest="mode",
        choices=MODES,
        help="judge prompt (default: the pairs' own mode, from doc_qa.mode or their fields)",
    )
    _add_run_options(u, _DEFAULT_OUT / "curated")

    s = subparsers.add_parser(
        "save-as",
        help=COMMANDS["save-as"],
        description=(
            "Convert pairs to a fine-tuning format: openai (chat messages), chatml "
            "(messages plus the ChatML text), alpaca, sharegpt, or jsonl (the records "
            "themselves). No LLM call."
        ),
    )
    s.add_argument(
        "input", metavar="INPUT", help="pairs: a JSONL file, or a run directory (dataset.jsonl)"
    )
    s.add_argument("--format", choices=FORMATS, default="jsonl", help="output layout")
    s.add_argument(
        "--out",
        metavar="FILE",
        help="output file (.parquet writes Parquet; default: FORMAT.jsonl next to the input)",
    )
    s.add_argument("--system", metavar="TEXT", help="chat formats: a fixed system message")
    s.add_argument("--instruction-field", default="instruction", metavar="NAME")
    s.add_argument("--input-field", default="input", metavar="NAME")
    s.add_argument("--response-field", default="response", metavar="NAME")
    s.add_argument(
        "--provenance", action="store_true", help="keep each record's _provenance object"
    )


def _add_run_options(p: argparse.ArgumentParser, out: Path) -> None:
    from synthdsl.cli import add_override_options

    p.add_argument("--out", metavar="DIR", default=str(out), help=f"run directory (default {out})")
    add_override_options(
        p,
        "any other override of the run's recipe, e.g. --set steps.create.with.temperature=0.2",
    )
    p.add_argument("--limit", type=_non_negative, metavar="N", help="read at most N input rows")
    p.add_argument(
        "--concurrency", type=_positive, metavar="N", help="max concurrent calls per model"
    )
    p.add_argument("--fresh", action="store_true", help="ignore cached calls (still cache new)")
    p.add_argument("--cache", metavar="PATH", help="call cache (default .synthdsl/cache.sqlite)")
    p.add_argument("--quiet", action="store_true", help="no progress display")


def _positive(value: str) -> int:
    number = _integer(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _non_negative(value: str) -> int:
    number = _integer(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {number}")
    return number


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None


# --------------------------------------------------------------------------- inputs


def _first_record(path: Path) -> tuple[int, dict[str, Any]] | None:
    """The line number and value of the first record of a JSONL file; None when empty.

    Raises RunError ``file:line: ...`` when that line is not a JSON object.
    """
    try:
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if not raw.strip():
                    continue
                return number, _json_object(path, number, raw)
    except OSError as exc:
        raise RunError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return None


def _json_object(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RunError(f"{path}:{number}: not UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise RunError(f"{path}:{number}: invalid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RunError(f"{path}:{number}: expected a JSON object, got {type(value).__name__}")
    return value


def _jsonl_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(file:line, record)`` for every record of a JSONL file (RunError on a bad line)."""
    try:
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if raw.strip():
                    yield f"{path}:{number}", _json_object(path, number, raw)
    except OSError as exc:
        raise RunError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(location, record)`` for a JSONL file (``file:line``) or any other dataset file
    ``synthdsl.io.sources`` reads, e.g. Parquet (``file: record N``)."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        yield from _jsonl_rows(path)
        return
    from synthdsl.io.readers import SourceReader

    for number, row in enumerate(SourceReader(path), start=1):
        yield f"{path}: record {number}", row


def _exists(path: Path) -> Path:
    if not path.exists():
        raise RunError(f"{path}: no such file or directory")
    return path


def _pairs_file(text: str) -> Path:
    """The pairs file named by INPUT: the file itself, or DIR/dataset.jsonl."""
    path = _exists(Path(text))
    if path.is_dir():
        candidate = path / _DATASET_FILE
        if not candidate.is_file():
            raise RunError(
                f"{path}: a directory without {_DATASET_FILE}; give the pairs file "
                "(a run directory of synthdsl create or curate holds one)"
            )
        return candidate
    return path


def _fields(row: dict[str, Any]) -> str:
    return ", ".join(sorted(k for k in row if k != "_provenance")) or "none"


def infer_mode(row: dict[str, Any]) -> str:
    """The mode of a pair: ``doc_qa.mode`` when the record has it, else ``summary`` when
    it has a summary, ``cot`` when it has a reasoning, ``qa`` otherwise."""
    meta = row.get("doc_qa")
    if isinstance(meta, dict) and meta.get("mode") in MODES:
        return str(meta["mode"])
    if "summary" in row:
        return "summary"
    if "reasoning" in row:
        return "cot"
    return "qa"


# --------------------------------------------------------------------------- ingest


def _document_files(arg: str) -> list[tuple[Path, str]]:
    """``(file, path shown)`` of the documents an ``ingest`` argument names."""
    from synthdsl.io.readers import source_files

    root = _exists(Path(arg))
    if root.is_file():
        if root.suffix.lower() not in DOCUMENT_SUFFIXES:
            raise RunError(
                f"{root}: not a document (expected one of {', '.join(DOCUMENT_SUFFIXES)})"
            )
        return [(root, root.as_posix())]
    files = [f for f in source_files(root) if f.suffix.lower() in DOCUMENT_SUFFIXES]
    return [(f, (root / f.relative_to(root)).as_posix()) for f in files]


def _ingest(args: argparse.Namespace) -> int:
    from synthdsl.io.readers import SourceReader
    from synthdsl.io.writers import JsonlWriter

    found: list[tuple[Path, str]] = []
    for arg in args.paths:
        files = _document_files(arg)
        if not files:
            sys.stderr.write(
                f"synthdsl: warning: {arg}: no documents ({', '.join(DOCUMENT_SUFFIXES)})\n"
            )
        found += files
    if not found:
        raise RunError("no documents to ingest")
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create output directory {out_dir}: {exc.strerror}") from None
    target = out_dir / _DOCUMENTS_FILE
    pages = chars = 0
    empty: list[str] = []
    with JsonlWriter(target) as writer:
        for file, shown in found:
            for row in SourceReader(file):
                text = row.get("text", "")
                doc = {
                    "path": shown,
                    "title": row.get("title") or "",
                    "text": text,
                    "pages": row.get("pages"),
                }
                writer.write(doc)
                pages += int(doc["pages"] or 0)
                chars += len(text)
                if not text.strip():
                    empty.append(shown)
    for shown in empty:
        sys.stderr.write(
            f"synthdsl: warning: {shown}: no text (a scanned PDF?); create will drop it\n"
        )
    pdfs = f", {pages} PDF pages" if pages else ""
    print(
        f"wrote {len(found)} documents ({chars:,} characters{pdfs}) to {target}\n"
        f"  next: synthdsl create {target} --type qa"
    )
    return 0


# --------------------------------------------------------------------------- create / curate


def _strategy(name: str) -> Path:
    """``recipes/<name>.yaml`` under the current directory, else in the source tree."""
    import synthdsl

    candidates = [
        Path.cwd() / "recipes" / f"{name}.yaml",
        Path(synthdsl.__file__).resolve().parent.parent / "recipes" / f"{name}.yaml",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise RunError(
        f"cannot find the {name} recipe (looked for {', '.join(map(str, candidates))}); "
        "the doc_qa recipes ship in the synthdsl source tree's recipes/ folder"
    )


def _value(value: Any) -> str:
    """A ``--set`` value: JSON is YAML, so strings stay strings (``a: b``, ``#``, ``~``)."""
    return json.dumps(value, ensure_ascii=False)


def _wrapper_text(verb: str, port: str, source: Path, strategy: Path, command: str) -> str:
    return (
        f"# Written by `synthdsl {verb}`: the {strategy.stem} recipe on {source.name}.\n"
        f"# The same run: {command}\n"
        "synthdsl: 1\n"
        f"name: doc_qa-{verb}\n"
        "sources:\n"
        f"  {port}: {{path: {_value(str(source))}}}\n"
        "steps:\n"
        f"  - id: {verb}\n"
        f"    from: {port}\n"
        f"    use: {_value(str(strategy))}\n"
        f"output: {{from: {verb}}}\n"
    )


def _run_strategy(
    args: argparse.Namespace,
    verb: str,
    port: str,
    source: Path,
    strategy: str,
    with_values: dict[str, Any],
) -> RunResult:
    """Write the verb's recipe into the run directory, compile it with the overrides
    and run it; returns the result (prints the summary)."""
    import asyncio

    from synthdsl.api import RunOptions, execute
    from synthdsl.compile import compile_recipe
    from synthdsl.errors import render_diagnostics
    from synthdsl.plan import build_plan
    from synthdsl.run.progress import make_progress

    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create output directory {out_dir}: {exc.strerror}") from None
    recipe = out_dir / f"doc_qa-{verb}.yaml"
    sets = [
        f"steps.{verb}.with.{name}={_value(value)}"
        for name, value in with_values.items()
        if value is not None
    ] + list(args.set_values)
    options = _compile_options(args, sets)
    command = shlex.join(
        ["synthdsl", "run", str(recipe)]
        + [arg for s in sets for arg in ("--set", s)]
        + [arg for m in args.model for arg in ("--model", m)]
        + (["--api-base", args.api_base] if args.api_base else [])
        + ["--out", str(out_dir)]
    )
    text = _wrapper_text(verb, port, source.resolve(), _strategy(strategy), command)
    try:
        recipe.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RunError(f"cannot write {recipe}: {exc.strerror}") from None

    compiled = compile_recipe(recipe, options)
    if compiled.warnings:
        sys.stderr.write(
            render_diagnostics(compiled.warnings, compiled.texts).replace("0 errors found\n", "")
        )
    plan = build_plan(compiled)
    progress = None if args.quiet else make_progress(compiled, sys.stderr)
    run_options = RunOptions(
        out_dir=str(out_dir),
        limit=args.limit,
        concurrency=args.concurrency,
        fresh=args.fresh,
        cache_path=args.cache,
        on_progress=progress.update if progress else None,
    )
    if progress:
        progress.start()
    try:
        result = asyncio.run(execute(compiled, plan, run_options))
    finally:
        if progress:
            progress.stop()
    totals = result.manifest["totals"]
    print(
        f"wrote {result.records} records to {result.dataset}\n"
        f"  calls {totals['calls']}, cache hits {totals['cache_hits']}, "
        f"retries {totals['retries']}, tokens {totals['prompt_tokens']}+"
        f"{totals['completion_tokens']}, dropped {totals['dropped']}, "
        f"failed {totals['failed']}\n"
        f"  manifest: {out_dir / 'manifest.json'}  rejects: {out_dir / 'rejects.jsonl'}  "
        f"recipe: {recipe}"
    )
    return result


def _compile_options(args: argparse.Namespace, sets: list[str]) -> CompileOptions:
    """``--model``/``--api-base`` exactly as ``synthdsl run`` reads them, plus ``sets``."""
    from synthdsl.cli import compile_options as cli_options

    namespace = argparse.Namespace(set_values=sets, api_base=args.api_base, model=args.model)
    return cli_options(namespace)


def _documents_source(text: str) -> Path:
    """The documents named by ``create``'s INPUT; checks what can be checked up front."""
    from synthdsl.io.readers import source_files

    path = _exists(Path(text))
    if path.is_dir() and (path / _DOCUMENTS_FILE).is_file():
        path = path / _DOCUMENTS_FILE
    if path.is_dir():
        if not any(f.suffix.lower() in DOCUMENT_SUFFIXES for f in source_files(path)):
            raise RunError(f"{path}: no documents ({', '.join(DOCUMENT_SUFFIXES)})")
        return path
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        first = _first_record(path)
        if first is None:
            raise RunError(f"{path}: no documents (the file is empty)")
        number, row = first
        if not isinstance(row.get("text"), str):
            raise RunError(
                f"{path}:{number}: a document needs a 'text' field holding its text; this "
                f"record has: {_fields(row)} (make documents.jsonl with synthdsl ingest)"
            )
        return path
    if path.suffix.lower() not in DOCUMENT_SUFFIXES:
        raise RunError(
            f"{path}: expected documents.jsonl, a folder or a document "
            f"({', '.join(DOCUMENT_SUFFIXES)})"
        )
    return path


def _create(args: argparse.Namespace) -> int:
    source = _documents_source(args.input)
    result = _run_strategy(
        args,
        "create",
        "documents",
        source,
        _GENERATE,
        {
            "mode": args.mode,
            "max_pairs": args.num_pairs,
            "chunk_size": args.chunk_size,
            "chunk_overlap": args.chunk_overlap,
        },
    )
    print(f"  next: synthdsl curate {result.dataset} --threshold 8.5")
    return 0


def _curate(args: argparse.Namespace) -> int:
    source = _pairs_file(args.input)
    first = _first_record(source) if source.suffix.lower() in (".jsonl", ".ndjson") else None
    mode = args.mode
    if first is not None:
        number, row = first
        mode = mode or infer_mode(row)
        missing = [f for f in MODE_FIELDS[mode] if f not in row]
        if missing:
            raise RunError(
                f"{source}:{number}: a {mode} pair needs {', '.join(MODE_FIELDS[mode])}; "
                f"this record has: {_fields(row)}"
                + ("" if args.mode else " (choose the judge prompt with --type)")
            )
    result = _run_strategy(
        args,
        "curate",
        "pairs",
        source,
        _CURATE,
        {"mode": mode or "qa", "threshold": args.threshold},
    )
    print(f"  next: synthdsl save-as {result.dataset} --format openai")
    return 0


# --------------------------------------------------------------------------- save-as


def _save_as(args: argparse.Namespace) -> int:
    from synthdsl.io.chat import to_format
    from synthdsl.io.writers import SinkError, open_writer

    source = _pairs_file(args.input)
    target = Path(args.out) if args.out else source.parent / f"{args.format}.jsonl"
    if target.resolve() == source.resolve():
        raise RunError(f"{target}: the output would overwrite the input")
    shape = "records" if args.format == "jsonl" else args.format
    written = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create {target.parent}: {exc.strerror}") from None
    with open_writer(target) as writer:
        for where, row in _rows(source):
            data = {k: v for k, v in row.items() if k != "_provenance"}
            try:
                out = to_format(
                    data,
                    shape,
                    instruction_field=args.instruction_field,
                    input_field=args.input_field,
                    response_field=args.response_field,
                    system=args.system,
                )
            except SinkError as exc:
                raise RunError(f"{where}: {exc}") from None
            if args.provenance and "_provenance" in row:
                out["_provenance"] = row["_provenance"]
            writer.write(out)
            written += 1
    print(f"wrote {written} records ({args.format}) to {target}")
    return 0


# --------------------------------------------------------------------------- entry points


def run(args: argparse.Namespace) -> int:
    """Run the verb named by ``args.command``; returns the exit code (raises RunError
    and RecipeError, see the module docstring)."""
    handlers = {"ingest": _ingest, "create": _create, "curate": _curate, "save-as": _save_as}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        sys.stderr.write(
            "\ninterrupted: finished calls are cached and the manifest says 'interrupted'.\n"
            "run the same command again to resume (finished calls are not repeated)\n"
        )
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """The verbs on their own (``python -m synthdsl.cli.docqa create ...``)."""
    from synthdsl.errors import RecipeError, render_diagnostics

    parser = argparse.ArgumentParser(prog="synthdsl")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        return run(args)
    except RecipeError as exc:
        sys.stderr.write(render_diagnostics(exc.diagnostics, {}))
        return 2
    except SynthdslError as exc:
        sys.stderr.write(f"synthdsl: error: {exc}\n")
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
