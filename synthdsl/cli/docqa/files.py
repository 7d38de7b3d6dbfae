"""The document-QA verbs without an LLM: ``ingest`` and ``save-as``.

- ``ingest(args)``: reads documents (``args.paths``: Markdown, text, HTML, PDF files
  and folders of them) and writes ``args.out/documents.jsonl``, one row per document:
  ``{"path", "title", "text", "pages"}``; warns on stderr about arguments without
  documents and documents without text.
- ``save_as(args)``: converts records (``args.input``: a file, or a run directory's
  ``dataset.jsonl``) to the shape ``args.format`` through
  ``synthdsl.io.shaped_output.ShapedOutput``, the path ``synthdsl run`` writes with: the
  same shapes, field mapping and provenance rule (``synthdsl.io.provenance``: a row's
  ``_provenance`` goes beside the file for training shapes unless ``--provenance``
  says otherwise).

Both print what they wrote and return 0. Raise ``RunError`` (exit 1): no documents,
an output that cannot be written or would overwrite the input, a record that does
not fit the format (``file:line: message``).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from synthdsl.cli.docqa.inputs import (
    DOCUMENT_SUFFIXES,
    DOCUMENTS_FILE,
    document_files,
    pairs_file,
    rows,
)
from synthdsl.errors import RunError
from synthdsl.io.dataset_files import DatasetFiles
from synthdsl.io.provenance import placement
from synthdsl.io.readers import SourceReader
from synthdsl.io.shaped_output import ShapedOutput
from synthdsl.io.writers import JsonlWriter
from synthdsl.ir import OutputDecl, PairsFrom
from synthdsl.textproc.plural import plural

__all__ = ["FORMATS", "ingest", "make_dir", "save_as"]

#: save-as formats: ``jsonl`` is the plain records; the others are the output shapes.
FORMATS = ("openai", "chatml", "alpaca", "sharegpt", "preference", "conversation", "jsonl")


def make_dir(path: Path, what: str) -> None:
    """Create the folder ``path`` (and its parents); RunError ``cannot create WHAT``."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create {what}: {exc.strerror}") from None


def ingest(args: argparse.Namespace) -> int:
    """``synthdsl ingest PATH... --out DIR``; see the module docstring."""
    found: list[tuple[Path, str]] = []
    for arg in args.paths:
        files = document_files(arg)
        if not files:
            sys.stderr.write(
                f"synthdsl: warning: {arg}: no documents ({', '.join(DOCUMENT_SUFFIXES)})\n"
            )
        found += files
    if not found:
        raise RunError("no documents to ingest")
    out_dir = Path(args.out)
    make_dir(out_dir, f"output directory {out_dir}")
    target = out_dir / DOCUMENTS_FILE
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
        f"wrote {plural(len(found), 'document')} ({chars:,} characters{pdfs}) to {target}\n"
        f"  next: synthdsl create {target} --type qa"
    )
    return 0


class _SaveAsEvents:
    """``OutputEvents`` for save-as: a row that does not fit stops the conversion with
    its line; drops (``--pairs-from``) are counted by reason."""

    def __init__(self) -> None:
        self.drops: Counter[str] = Counter()

    def kept(self, item: str) -> None:
        pass

    def dropped(self, item: str, reason: str) -> None:
        self.drops[reason] += 1

    def failed(self, item: str, error: str) -> None:
        raise RunError(f"{item}: {error}")


def output_decl(args: argparse.Namespace, fmt: str) -> OutputDecl:
    """The ``output:`` block that the save-as options amount to."""
    shape = "records" if args.format == "jsonl" else args.format
    pairs = None
    if args.pairs_from is not None:
        pairs = PairsFrom(*args.pairs_from)
    return OutputDecl(
        from_=None,
        dir=None,
        format=fmt,
        shape=shape,
        instruction_field=args.instruction_field,
        input_field=args.input_field,
        response_field=args.response_field,
        system=args.system,
        provenance=placement(shape, args.provenance),
        prompt_field=args.prompt_field,
        chosen_field=args.chosen_field,
        rejected_field=args.rejected_field,
        preference_style=args.preference_style,
        pairs_from=pairs,
        turns_field=args.turns_field,
        style=args.style,
    )


def save_as(args: argparse.Namespace) -> int:
    """``synthdsl save-as INPUT --format F [--out FILE]``; see the module docstring."""
    source = pairs_file(args.input)
    target = Path(args.out) if args.out else source.parent / f"{args.format}.jsonl"
    if target.resolve() == source.resolve():
        raise RunError(f"{target}: the output would overwrite the input")
    fmt = "parquet" if target.suffix.lower() in (".parquet", ".pq") else "jsonl"
    decl = output_decl(args, fmt)
    make_dir(target.parent, str(target.parent))
    files = DatasetFiles(target, fmt, decl.provenance)
    events = _SaveAsEvents()
    out: ShapedOutput[str] = ShapedOutput(decl, files, events)
    try:
        for where, row in rows(source):
            data = {k: v for k, v in row.items() if k != "_provenance"}
            prov = row.get("_provenance")
            out.add(where, data, prov if isinstance(prov, dict) else None)
        out.finish()
    except BaseException:
        files.abort()
        raise
    files.close()
    beside = f", provenance in {files.provenance_path}" if files.provenance_path.exists() else ""
    print(f"wrote {plural(files.rows, 'record')} ({args.format}) to {target}{beside}")
    for reason, count in sorted(events.drops.items()):
        print(f"  dropped {count}: {reason}")
    return 0
