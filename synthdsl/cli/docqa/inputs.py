"""The inputs of the document-QA verbs: what INPUT names, checked before any work.

Takes the INPUT text of a verb (a file or a folder); gives the file or folder to read
(``documents_source``, ``pairs_file``, ``document_files``), the first record of a
JSONL file (``first_record``), every record with where it came from (``rows``), and the
mode of a pair (``infer_mode``). Raises ``RunError`` for inputs that cannot be used, as
``file:line: message`` when a line is at fault (not JSON, not an object, a record
without the fields the step needs).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from synthdsl.errors import RunError
from synthdsl.io.readers import SourceReader, source_files

__all__ = [
    "DATASET_FILE",
    "DOCUMENTS_FILE",
    "DOCUMENT_SUFFIXES",
    "MODES",
    "MODE_FIELDS",
    "document_files",
    "documents_source",
    "existing",
    "fields",
    "first_record",
    "infer_mode",
    "pairs_file",
    "rows",
]

MODES = ("qa", "cot", "summary")
#: Files ``ingest`` reads (the text, HTML and PDF formats of ``synthdsl.io.readers``).
DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
#: Fields a pair needs, per mode (checked on the first record by ``curate``).
MODE_FIELDS: dict[str, tuple[str, ...]] = {
    "qa": ("question", "answer"),
    "cot": ("question", "reasoning", "answer"),
    "summary": ("summary",),
}
DOCUMENTS_FILE = "documents.jsonl"
DATASET_FILE = "dataset.jsonl"
_JSONL = (".jsonl", ".ndjson")


def first_record(path: Path) -> tuple[int, dict[str, Any]] | None:
    """The line number and value of the first record of a JSONL file; None when empty.

    Raises RunError ``file:line: ...`` when that line is not a JSON object.
    """
    records = _jsonl_records(path)
    try:
        return next(records, None)
    finally:
        records.close()  # closes the file now, not when the generator is collected


def rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(location, record)`` for a JSONL file (``file:line``) or any other dataset file
    ``synthdsl.io.readers`` reads, e.g. Parquet (``file: record N``)."""
    if path.suffix.lower() in _JSONL:
        for number, row in _jsonl_records(path):
            yield f"{path}:{number}", row
        return
    for number, row in enumerate(SourceReader(path), start=1):
        yield f"{path}: record {number}", row


def _jsonl_records(path: Path) -> Generator[tuple[int, dict[str, Any]], None, None]:
    """``(line number, record)`` for every record of a JSONL file (RunError on a bad line)."""
    try:
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if raw.strip():
                    yield number, _json_object(path, number, raw)
    except OSError as exc:
        raise RunError(f"{path}: cannot read: {exc.strerror or exc}") from None


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


def existing(path: Path) -> Path:
    """``path``, which exists (else RunError)."""
    if not path.exists():
        raise RunError(f"{path}: no such file or directory")
    return path


def pairs_file(text: str) -> Path:
    """The pairs file named by INPUT: the file itself, or DIR/dataset.jsonl."""
    path = existing(Path(text))
    if path.is_dir():
        candidate = path / DATASET_FILE
        if not candidate.is_file():
            raise RunError(
                f"{path}: a directory without {DATASET_FILE}; give the pairs file "
                "(a run directory of synthdsl create or curate holds one)"
            )
        return candidate
    return path


def fields(row: dict[str, Any]) -> str:
    """The field names of a record, for messages (``none`` when it has none)."""
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


def document_files(arg: str) -> list[tuple[Path, str]]:
    """``(file, path shown)`` of the documents an ``ingest`` argument names."""
    root = existing(Path(arg))
    if root.is_file():
        if root.suffix.lower() not in DOCUMENT_SUFFIXES:
            raise RunError(
                f"{root}: not a document (expected one of {', '.join(DOCUMENT_SUFFIXES)})"
            )
        return [(root, root.as_posix())]
    files = [f for f in source_files(root) if f.suffix.lower() in DOCUMENT_SUFFIXES]
    return [(f, (root / f.relative_to(root)).as_posix()) for f in files]


def documents_source(text: str) -> Path:
    """The documents named by ``create``'s INPUT; checks what can be checked up front."""
    path = existing(Path(text))
    if path.is_dir() and (path / DOCUMENTS_FILE).is_file():
        path = path / DOCUMENTS_FILE
    if path.is_dir():
        if not any(f.suffix.lower() in DOCUMENT_SUFFIXES for f in source_files(path)):
            raise RunError(f"{path}: no documents ({', '.join(DOCUMENT_SUFFIXES)})")
        return path
    if path.suffix.lower() in _JSONL:
        first = first_record(path)
        if first is None:
            raise RunError(f"{path}: no documents (the file is empty)")
        number, row = first
        if not isinstance(row.get("text"), str):
            raise RunError(
                f"{path}:{number}: a document needs a 'text' field holding its text; this "
                f"record has: {fields(row)} (make documents.jsonl with synthdsl ingest)"
            )
        return path
    if path.suffix.lower() not in DOCUMENT_SUFFIXES:
        raise RunError(
            f"{path}: expected documents.jsonl, a folder or a document "
            f"({', '.join(DOCUMENT_SUFFIXES)})"
        )
    return path
