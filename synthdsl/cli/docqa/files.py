"""The document-QA verbs without an LLM: ``ingest`` and ``save-as``.

- ``ingest(args)``: reads documents (``args.paths``: Markdown, text, HTML, PDF files
  and folders of them) and writes ``args.out/documents.jsonl``, one row per document:
  ``{"path", "title", "text", "pages"}``; warns on stderr about arguments without
  documents and documents without text.
- ``save_as(args)``: converts pairs (``args.input``: a file, or a run directory's
  ``dataset.jsonl``) to ``args.format`` with ``synthdsl.io.chat.to_format``.

Both print what they wrote and return 0. Raise ``RunError`` (exit 1): no documents,
an output that cannot be written or would overwrite the input, a record that does
not fit the format (``file:line: message``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from synthdsl.cli.docqa.inputs import (
    DOCUMENT_SUFFIXES,
    DOCUMENTS_FILE,
    document_files,
    pairs_file,
    rows,
)
from synthdsl.errors import RunError
from synthdsl.io.chat import to_format
from synthdsl.io.readers import SourceReader
from synthdsl.io.writers import JsonlWriter, SinkError, open_writer
from synthdsl.textproc.plural import plural

__all__ = ["FORMATS", "ingest", "make_dir", "save_as"]

#: save-as formats: ``jsonl`` is the plain records; the others are ``to_format`` shapes.
FORMATS = ("openai", "chatml", "alpaca", "sharegpt", "jsonl")


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


def save_as(args: argparse.Namespace) -> int:
    """``synthdsl save-as INPUT --format F [--out FILE]``; see the module docstring."""
    source = pairs_file(args.input)
    target = Path(args.out) if args.out else source.parent / f"{args.format}.jsonl"
    if target.resolve() == source.resolve():
        raise RunError(f"{target}: the output would overwrite the input")
    shape = "records" if args.format == "jsonl" else args.format
    written = 0
    make_dir(target.parent, str(target.parent))
    with open_writer(target) as writer:
        for where, row in rows(source):
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
    print(f"wrote {plural(written, 'record')} ({args.format}) to {target}")
    return 0
