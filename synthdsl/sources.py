"""Streaming readers for recipe sources.

Input: a path to a JSONL, CSV, Parquet, text or Markdown file, or a folder of them.
Output: plain ``dict`` rows, yielded lazily (memory does not grow with the file: JSONL
is read line by line, CSV through ``csv.DictReader``, Parquet batch by batch); plus
``peek_fields`` (field names of the first rows, for compile-time template checks) and
``source_fingerprint`` (a cheap identity of the files, for manifests).

Formats, when ``fmt="auto"``, come from the extension: ``.jsonl``/``.ndjson`` → jsonl,
``.csv`` → csv, ``.parquet``/``.pq`` → parquet, ``.txt``/``.md``/``.markdown`` → text.
A text file is one row ``{text_field: content, "path": relative path}``. A folder is
walked recursively in sorted order (hidden files and folders skipped); without
``glob`` every file with a known extension is read, with ``glob`` every matching file
(a pattern without ``/`` matches file names, one with ``/`` the path relative to the
folder). A forced ``fmt`` applies to every file read.

Raises ``SourceError`` (a ``RunError``): missing path, unknown format, a bad JSONL line
(``file:line`` and the JSON error) or a JSONL value that is not an object, a malformed
CSV row, a text file that is not UTF-8, and Parquet without pyarrow installed. With
``on_error="skip"`` bad lines and rows are skipped and recorded in
``SourceReader.problems`` instead (missing files and a missing pyarrow still raise).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from synthdsl.errors import RunError

__all__ = [
    "FORMATS",
    "SourceError",
    "SourceReader",
    "detect_format",
    "peek_fields",
    "read_source",
    "source_files",
    "source_fingerprint",
]

FORMATS = ("auto", "jsonl", "csv", "parquet", "text")
_EXTENSIONS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
}
_PARQUET_BATCH = 1024
OnError = Literal["raise", "skip"]


class SourceError(RunError):
    """A source could not be read."""


def detect_format(path: Path) -> str | None:
    """The format of ``path`` from its extension, or None when it is not known."""
    return _EXTENSIONS.get(path.suffix.lower())


def _check_fmt(fmt: str) -> None:
    if fmt not in FORMATS:
        raise SourceError(f"unknown source format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _glob_matches(rel: PurePosixPath, pattern: str) -> bool:
    if "/" not in pattern:
        return fnmatchcase(rel.name, pattern)
    text = rel.as_posix()
    return fnmatchcase(text, pattern) or fnmatchcase(text, pattern.replace("**/", ""))


def _walk(root: Path) -> Iterator[Path]:
    """Every non-hidden file under ``root`` (symlinked folders are not entered; linked
    files are). Callers sort the result by ``_sort_key``."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def _sort_key(root: Path, path: Path) -> tuple[str, ...]:
    return path.relative_to(root).parts


def source_files(path: Path, *, fmt: str = "auto", glob: str | None = None) -> list[Path]:
    """The files a source reads, in reading order. Raises SourceError when missing."""
    _check_fmt(fmt)
    path = Path(path)
    if path.is_dir():
        files = []
        for file in _walk(path):
            rel = PurePosixPath(file.relative_to(path).as_posix())
            if glob is not None:
                if _glob_matches(rel, glob):
                    files.append(file)
            elif detect_format(file) is not None:
                files.append(file)
        return sorted(files, key=lambda f: _sort_key(path, f))
    if path.is_file():
        return [path]
    if path.exists():
        raise SourceError(f"{path}: not a regular file or folder")
    raise SourceError(f"{path}: no such file or folder")


def _import_pyarrow_parquet() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SourceError("reading Parquet needs pyarrow: install synthdsl[parquet]") from exc
    return pq


class SourceReader:
    """An iterable over a source's rows; bad lines are reported or skipped.

    ``problems`` lists ``(line, message)`` for every line or row skipped with
    ``on_error="skip"`` (line 0 for a whole-file problem); messages start with
    ``file:line:``. Each ``iter()`` reads the source again from the start and clears
    ``problems``; ``rows_read`` counts the rows yielded by the last iteration.
    """

    def __init__(
        self,
        path: Path,
        *,
        fmt: str = "auto",
        text_field: str = "text",
        limit: int | None = None,
        glob: str | None = None,
        on_error: OnError = "raise",
    ) -> None:
        _check_fmt(fmt)
        if limit is not None and limit < 0:
            raise SourceError(f"{path}: limit must be >= 0, got {limit}")
        if on_error not in ("raise", "skip"):
            raise SourceError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.path = Path(path)
        self.fmt = fmt
        self.text_field = text_field
        self.limit = limit
        self.glob = glob
        self.on_error: OnError = on_error
        self.problems: list[tuple[int, str]] = []
        self.rows_read = 0

    def files(self) -> list[Path]:
        """The files read, in order."""
        return source_files(self.path, fmt=self.fmt, glob=self.glob)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.problems = []
        self.rows_read = 0
        if self.limit == 0:
            return
        for file in self.files():
            for row in self._read_file(file):
                yield row
                self.rows_read += 1
                if self.limit is not None and self.rows_read >= self.limit:
                    return

    # -- one file -------------------------------------------------------------------

    def file_format(self, file: Path) -> str:
        if self.fmt != "auto":
            return self.fmt
        found = detect_format(file)
        if found is None:
            raise SourceError(
                f"{file}: cannot tell the format from the extension {file.suffix!r}; "
                "set the source format (jsonl, csv, parquet or text)"
            )
        return found

    def _rel(self, file: Path) -> str:
        if self.path.is_dir():
            return file.relative_to(self.path).as_posix()
        return file.name

    def _problem(self, file: Path, line: int, message: str) -> None:
        text = f"{file}:{line}: {message}" if line else f"{file}: {message}"
        if self.on_error == "raise":
            raise SourceError(text)
        self.problems.append((line, text))

    def _read_file(self, file: Path) -> Iterator[dict[str, Any]]:
        kind = self.file_format(file)
        try:
            if kind == "jsonl":
                yield from self._read_jsonl(file)
            elif kind == "csv":
                yield from self._read_csv(file)
            elif kind == "parquet":
                yield from self._read_parquet(file)
            else:
                yield from self._read_text(file)
        except FileNotFoundError as exc:
            raise SourceError(f"{file}: no such file") from exc
        except OSError as exc:
            raise SourceError(f"{file}: cannot read: {exc}") from exc

    def _read_jsonl(self, file: Path) -> Iterator[dict[str, Any]]:
        with file.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if not raw.strip():
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    self._problem(file, number, f"not UTF-8: {exc}")
                    continue
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    self._problem(file, number, f"invalid JSON: {exc}")
                    continue
                if not isinstance(value, dict):
                    self._problem(
                        file, number, f"expected a JSON object, got {type(value).__name__}"
                    )
                    continue
                yield value

    def _read_csv(self, file: Path) -> Iterator[dict[str, Any]]:
        _raise_csv_field_limit()
        with file.open("r", encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    self._problem(file, reader.line_num, f"malformed CSV: {exc}")
                    continue
                except UnicodeDecodeError as exc:
                    # The decoder's position is lost: the rest of the file is unreadable.
                    self._problem(file, reader.line_num + 1, f"not UTF-8: {exc}")
                    return
                if None in row:
                    extra = row.pop(None)
                    width = len(reader.fieldnames or ())
                    self._problem(
                        file,
                        reader.line_num,
                        f"row has {width + len(extra)} fields, the header has {width}",
                    )
                    continue
                yield dict(row)

    def _read_parquet(self, file: Path) -> Iterator[dict[str, Any]]:
        pq = _import_pyarrow_parquet()
        try:
            pf = pq.ParquetFile(str(file))
        except ValueError as exc:  # pyarrow's ArrowInvalid: not a Parquet file
            raise SourceError(f"{file}: not a readable Parquet file: {exc}") from exc
        try:
            remaining = None if self.limit is None else self.limit - self.rows_read
            size = _PARQUET_BATCH if remaining is None else max(1, min(_PARQUET_BATCH, remaining))
            for batch in pf.iter_batches(batch_size=size):
                yield from batch.to_pylist()
        finally:
            pf.close()

    def _read_text(self, file: Path) -> Iterator[dict[str, Any]]:
        data = file.read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._problem(file, 0, f"not UTF-8 text: {exc}")
            return
        yield {self.text_field: content, "path": self._rel(file)}


def _raise_csv_field_limit() -> None:
    # Documents in CSV cells easily pass the default 128 KiB field limit.
    limit = min(sys.maxsize, 2**31 - 1)
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def read_source(
    path: Path,
    *,
    fmt: str = "auto",
    text_field: str = "text",
    limit: int | None = None,
    glob: str | None = None,
    on_error: OnError = "raise",
) -> Iterator[dict[str, Any]]:
    """The rows of a source, lazily; see ``SourceReader`` (for skipped-line reports).

    A missing path raises SourceError here, before the first row is asked for.
    """
    if not Path(path).exists():
        raise SourceError(f"{path}: no such file or folder")
    return iter(
        SourceReader(
            path, fmt=fmt, text_field=text_field, limit=limit, glob=glob, on_error=on_error
        )
    )


def peek_fields(
    path: Path,
    fmt: str = "auto",
    text_field: str = "text",
    sample: int = 20,
    *,
    glob: str | None = None,
) -> list[str]:
    """Field names in the first ``sample`` rows, in order of first appearance.

    Cheap: CSV fields come from the header, Parquet fields from the schema (no data
    read), text files give ``[text_field, "path"]``, JSONL reads the first rows (bad
    lines are skipped here). Raises SourceError when the source is missing.
    """
    reader = SourceReader(path, fmt=fmt, text_field=text_field, glob=glob, on_error="skip")
    seen: dict[str, None] = {}
    budget = max(sample, 1)
    for file in reader.files():
        if budget <= 0:
            break
        kind = reader.file_format(file)
        if kind == "text":
            seen.update(dict.fromkeys([text_field, "path"]))
            budget -= 1
        elif kind == "csv":
            seen.update(dict.fromkeys(_csv_header(file)))
            budget -= sample
        elif kind == "parquet":
            pq = _import_pyarrow_parquet()
            try:
                schema = pq.read_schema(str(file))
            except OSError as exc:
                raise SourceError(f"{file}: cannot read: {exc}") from exc
            except ValueError as exc:  # pyarrow's ArrowInvalid
                raise SourceError(f"{file}: not a readable Parquet file: {exc}") from exc
            seen.update(dict.fromkeys(schema.names))
            budget -= sample
        else:
            for count, row in enumerate(reader._read_file(file), start=1):
                seen.update(dict.fromkeys(row))
                budget -= 1
                if budget <= 0 or count >= sample:
                    break
    return list(seen)


def _csv_header(file: Path) -> list[str]:
    _raise_csv_field_limit()
    try:
        with file.open("r", encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh).fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"{file}: cannot read the CSV header: {exc}") from exc


def source_fingerprint(path: Path) -> str:
    """A cheap identity of a source: sha256 over (path, size, mtime_ns) of its files.

    For a folder, every non-hidden file under it counts (not only the ones read), with
    paths relative to the folder. No file content is read. Raises SourceError when the
    path is missing.
    """
    path = Path(path)
    entries: list[list[Any]] = []
    try:
        if path.is_dir():
            for file in sorted(_walk(path), key=lambda f: _sort_key(path, f)):
                st = file.stat()
                entries.append([file.relative_to(path).as_posix(), st.st_size, st.st_mtime_ns])
        else:
            st = path.stat()
            entries.append([path.name, st.st_size, st.st_mtime_ns])
    except FileNotFoundError as exc:
        raise SourceError(f"{path}: no such file or folder") from exc
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from exc
    payload = json.dumps([str(path), entries], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
