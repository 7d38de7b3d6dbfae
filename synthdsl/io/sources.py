"""Streaming readers for recipe sources.

Input: a path to a JSONL, CSV, Parquet, text/Markdown, HTML, PDF or YAML file, or a
folder of them. Output: plain ``dict`` rows, yielded lazily (memory does not grow with
the file: JSONL is read line by line, CSV through ``csv.DictReader``, Parquet batch by
batch; a document file is one row, a YAML list is loaded whole); plus ``peek_fields``
(field names of the first rows, for compile-time template checks) and
``source_fingerprint`` (a cheap identity of the files, for manifests).

Formats, when ``fmt="auto"``, come from the extension: ``.jsonl``/``.ndjson`` → jsonl,
``.csv`` → csv, ``.parquet``/``.pq`` → parquet, ``.txt``/``.md``/``.markdown`` → text,
``.html``/``.htm`` → html, ``.pdf`` → pdf, ``.yaml``/``.yml`` → yaml.

- A text file is one row ``{text_field: content, "path": relative path}``.
- An HTML file is one row ``{text_field: readable text, "path": ..., "title": ...}``:
  the stdlib ``html.parser`` drops script, style, noscript, template, svg, iframe, nav
  and footer content, puts headings, paragraphs and other blocks on their own
  paragraphs (blank line between), list items and table rows on their own lines,
  decodes entities, collapses whitespace (except inside ``<pre>``); ``title`` is the
  ``<title>``, else the first ``<h1>``, else "" (see ``html_to_text``).
- A PDF file is one row ``{text_field: text, "path": ..., "title": ..., "pages": n}``:
  pypdf (imported on first use) extracts each page's text; pages are joined with a
  form feed (``text.split("\f")`` gives the pages back); ``title`` is the document's
  metadata title or "". An encrypted PDF is opened when its user password is empty.
- A YAML file holds a list of mappings (or a mapping with one key holding such a
  list): one row per mapping. Timestamps stay strings; duplicate keys are errors.

A folder is walked recursively in sorted order (hidden files and folders skipped);
without ``glob`` every file with a known extension is read, with ``glob`` every
matching file (a pattern without ``/`` matches file names, one with ``/`` the path
relative to the folder). A forced ``fmt`` applies to every file read.

Raises ``SourceError`` (a ``RunError``): missing path, unknown format, a bad JSONL line
(``file:line`` and the JSON error) or a JSONL value that is not an object, a malformed
CSV row, a text, HTML or YAML file that cannot be decoded, a YAML file that is not a
list of mappings (or has a syntax error or duplicate key, with its line), a PDF that
is encrypted with a password, broken or otherwise unreadable (the message names the
file), and Parquet without pyarrow or PDF without pypdf installed. With
``on_error="skip"`` bad lines, rows, list items and whole unreadable documents are
skipped and recorded in ``SourceReader.problems`` instead (missing files and a missing
pyarrow or pypdf still raise).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import re
import sys
from collections.abc import Hashable, Iterator
from fnmatch import fnmatchcase
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml

from synthdsl.errors import RunError

__all__ = [
    "FORMATS",
    "SourceError",
    "SourceReader",
    "detect_format",
    "html_to_text",
    "peek_fields",
    "read_source",
    "source_files",
    "source_fingerprint",
]

FORMATS = ("auto", "jsonl", "csv", "parquet", "text", "lines", "html", "pdf", "yaml")
_EXTENSIONS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".yaml": "yaml",
    ".yml": "yaml",
}
# The fields of a document row besides its text field, by format.
_DOCUMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("path",),
    "lines": ("path", "line"),
    "html": ("path", "title"),
    "pdf": ("path", "title", "pages"),
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
                "set the source format (jsonl, csv, parquet, text, html, pdf or yaml)"
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
            elif kind == "html":
                yield from self._read_html(file)
            elif kind == "pdf":
                yield from self._read_pdf(file)
            elif kind == "yaml":
                yield from self._read_yaml(file)
            elif kind == "lines":
                yield from self._read_lines(file)
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

    def _read_lines(self, file: Path) -> Iterator[dict[str, Any]]:
        """One row per non-empty line: ``{text_field: line, path, line: number}``."""
        with file.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    line = raw.decode("utf-8").strip()
                except UnicodeDecodeError as exc:
                    self._problem(file, number, f"not UTF-8 text: {exc}")
                    continue
                if line:
                    yield {self.text_field: line, "path": self._rel(file), "line": number}

    def _read_html(self, file: Path) -> Iterator[dict[str, Any]]:
        try:
            markup = _decode_html(file.read_bytes())
        except (UnicodeDecodeError, LookupError) as exc:
            self._problem(file, 0, f"cannot decode the HTML: {exc}")
            return
        text, title = html_to_text(markup)
        yield {self.text_field: text, "path": self._rel(file), "title": title}

    def _read_pdf(self, file: Path) -> Iterator[dict[str, Any]]:
        pypdf = _import_pypdf()
        try:
            title, pages = _pdf_pages(pypdf, file)
        except _DocumentProblem as exc:
            self._problem(file, 0, str(exc))
            return
        yield {
            self.text_field: "\f".join(pages),
            "path": self._rel(file),
            "title": title,
            "pages": len(pages),
        }

    def _read_yaml(self, file: Path) -> Iterator[dict[str, Any]]:
        data = file.read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._problem(file, 0, f"not UTF-8 text: {exc}")
            return
        loader = _RowLoader(text)
        try:
            try:
                root = loader.get_single_node()
            except yaml.YAMLError as exc:
                self._problem(file, _yaml_line(exc), f"invalid YAML: {_yaml_message(exc)}")
                return
            items = _yaml_items(root)
            if isinstance(items, str):
                line = root.start_mark.line + 1 if root is not None else 0
                self._problem(file, line, items)
                return
            for number, item in enumerate(items, start=1):
                line = item.start_mark.line + 1
                if not isinstance(item, yaml.MappingNode):
                    kind = _YAML_NODE_NAMES.get(type(item).__name__, "value")
                    self._problem(file, line, f"item {number} is a {kind}, expected a mapping")
                    continue
                try:
                    value = loader.construct_object(item, deep=True)
                except yaml.YAMLError as exc:
                    self._problem(file, _yaml_line(exc) or line, _yaml_message(exc))
                    continue
                yield {str(k): v for k, v in value.items()}
        finally:
            loader.dispose()


# -- HTML -------------------------------------------------------------------------------

# Elements whose content is not part of the readable text.
_HTML_SKIP = frozenset(
    {"script", "style", "noscript", "template", "svg", "iframe", "nav", "footer"}
)
# Elements that make their own paragraph (a blank line before and after).
_HTML_PARAGRAPH = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "details",
        "dialog", "div", "dl", "fieldset", "figcaption", "figure", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "main", "p", "section",
        "summary", "table",
    }
)  # fmt: skip
# Elements that start a new line.
_HTML_LINE = frozenset({"br", "dd", "dt", "li", "tr"})
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
# WHATWG: documents labelled Latin-1 or ASCII are decoded as windows-1252.
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252"}


def _decode_html(data: bytes) -> str:
    """HTML bytes as text: a BOM wins, then ``<meta charset>``, then UTF-8.

    Raises UnicodeDecodeError when the bytes do not fit the chosen encoding.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    encoding = "utf-8"
    found = _META_CHARSET.search(data[:4096])
    if found is not None:
        label = found.group(1).decode("ascii").lower()
        label = _CHARSET_ALIASES.get(label, label)
        try:
            encoding = codecs.lookup(label).name
        except LookupError:
            encoding = "utf-8"
    return data.decode(encoding)


class _TextExtractor(HTMLParser):
    """Collects the readable lines of an HTML document (see ``html_to_text``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._blank_pending = False
        self._prefix = ""
        self._skip = 0
        self._pre = 0
        self._pre_text: list[str] = []
        self._lists: list[list[Any]] = []  # [tag, next number] per open ul/ol
        self._cells = 0
        self._in_title = False
        self._title: list[str] = []
        self._title_done = False
        self._h1: list[str] | None = None
        self.h1 = ""

    @property
    def title(self) -> str:
        return " ".join("".join(self._title).split())

    # -- output -----------------------------------------------------------------

    def _emit(self, line: str) -> None:
        if self._blank_pending and self.lines:
            self.lines.append("")
        self._blank_pending = False
        self.lines.append(line)

    def _flush_line(self) -> None:
        text = " ".join("".join(self._line).split())
        self._line = []
        if text:
            self._emit(self._prefix + text)
            self._prefix = ""

    def _break(self, paragraph: bool) -> None:
        self._flush_line()
        if paragraph:
            self._blank_pending = True

    def _flush_pre(self) -> None:
        block = "".join(self._pre_text).replace("\r\n", "\n").replace("\r", "\n")
        self._pre_text = []
        lines = [line.rstrip() for line in block.split("\n")]
        while lines and not lines[0]:
            lines.pop(0)
        while lines and not lines[-1]:
            lines.pop()
        self._blank_pending = True
        for line in lines:
            if line:
                self._emit(line)
            else:
                self.lines.append("")
        self._blank_pending = True

    # -- parser events ------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_SKIP:
            self._skip += 1
            return
        if self._skip:
            return
        if tag == "title":
            self._in_title = not self._title_done
            return
        if self._pre:
            if tag == "br":
                self._pre_text.append("\n")
            return
        if tag == "pre":
            self._break(True)
            self._pre = 1
            return
        if tag == "h1" and self._h1 is None and not self.h1:
            self._h1 = []
        if tag in ("ul", "ol"):
            nested = bool(self._lists)
            self._lists.append([tag, 1])
            self._break(not nested)  # a nested list continues its item's lines
            return
        if tag in _HTML_PARAGRAPH:
            self._break(True)
        elif tag in _HTML_LINE:
            self._break(False)
        if tag == "li":
            indent = "  " * max(0, len(self._lists) - 1)
            if self._lists and self._lists[-1][0] == "ol":
                self._prefix = f"{indent}{self._lists[-1][1]}. "
                self._lists[-1][1] += 1
            else:
                self._prefix = f"{indent}- "
        elif tag == "tr":
            self._cells = 0
        elif tag in ("td", "th"):
            if self._cells:
                self._line.append(" | ")
            self._cells += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag == "title":
            if self._in_title:
                self._title_done = True
            self._in_title = False
            return
        if tag == "pre" and self._pre:
            self._pre = 0
            self._flush_pre()
            return
        if self._pre:
            return
        if tag == "h1" and self._h1 is not None:
            self.h1 = " ".join("".join(self._h1).split())
            self._h1 = None
        if tag in ("ul", "ol"):
            if self._lists and self._lists[-1][0] == tag:
                self._lists.pop()
            self._break(not self._lists)
            return
        if tag in _HTML_PARAGRAPH:
            self._break(True)
        elif tag in _HTML_LINE and tag != "br":
            self._break(False)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self._title.append(data)
        elif self._pre:
            self._pre_text.append(data)
        else:
            self._line.append(data)
            if self._h1 is not None:
                self._h1.append(data)

    def close(self) -> None:
        super().close()
        if self._pre:
            self._flush_pre()
        self._flush_line()


def html_to_text(markup: str) -> tuple[str, str]:
    """The readable text and the title of an HTML document.

    Drops the content of script, style, noscript, template, svg, iframe, nav and footer
    elements; headings, paragraphs, divs, tables, lists and other blocks become
    paragraphs separated by a blank line; list items (``- `` or ``1. ``, nested lists
    indented by two spaces a level), table rows
    (cells joined by `` | ``), ``<br>``, ``<dt>`` and ``<dd>`` start new lines.
    Entities are decoded and whitespace runs collapse to one space, except inside
    ``<pre>``, whose lines are kept as written. The title is the first ``<title>``,
    else the first ``<h1>``, else "". Never raises on ``str`` input: unclosed tags
    simply extend to the end (an unclosed ``<nav>`` hides the rest of the page).
    """
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    while parser.lines and not parser.lines[-1]:
        parser.lines.pop()
    return "\n".join(parser.lines), parser.title or parser.h1


# -- PDF --------------------------------------------------------------------------------


class _DocumentProblem(Exception):
    """A document file cannot be read; the message says why (without the file name)."""


def _import_pypdf() -> Any:
    try:
        import pypdf
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SourceError("reading PDF needs pypdf: pip install pypdf") from exc
    return pypdf


def _clean_page(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return text.replace("\x00", "").strip()


def _pdf_pages(pypdf: Any, file: Path) -> tuple[str, list[str]]:
    """The metadata title and the text of every page of a PDF.

    Raises _DocumentProblem for encrypted (with a password), broken or otherwise
    unreadable PDFs; OSError when the file cannot be opened.
    """
    with file.open("rb") as fh:
        try:
            reader = pypdf.PdfReader(fh)
        except Exception as exc:  # pypdf raises many kinds on broken files
            raise _DocumentProblem(f"not a readable PDF: {_describe(exc)}") from exc
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # e.g. AES without the cryptography package
                raise _DocumentProblem(f"encrypted PDF, cannot decrypt: {_describe(exc)}") from exc
            if not opened:
                raise _DocumentProblem(
                    "encrypted PDF that needs a password; decrypt it first "
                    "(for example: qpdf --decrypt --password=... in.pdf out.pdf)"
                )
        try:
            pages = [_clean_page(page.extract_text()) for page in reader.pages]
            metadata = reader.metadata
            title = metadata.title if metadata is not None else None
        except Exception as exc:
            raise _DocumentProblem(f"not a readable PDF: {_describe(exc)}") from exc
    title_text = " ".join(str(title).replace("\x00", "").split()) if title else ""
    return title_text, pages


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- YAML -------------------------------------------------------------------------------


class _RowLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and keeps timestamps as strings."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _timestamp_as_text(loader: _RowLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


_RowLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)

_YAML_NODE_NAMES = {"ScalarNode": "scalar", "SequenceNode": "list", "MappingNode": "mapping"}


def _yaml_items(root: Any) -> list[Any] | str:
    """The item nodes of a YAML list file, or a message saying why it is not one."""
    if root is None:
        return "empty YAML file; expected a list of mappings"
    if isinstance(root, yaml.SequenceNode):
        items: list[Any] = root.value
        return items
    if isinstance(root, yaml.MappingNode):
        if len(root.value) == 1 and isinstance(root.value[0][1], yaml.SequenceNode):
            inner: list[Any] = root.value[0][1].value
            return inner
        keys = len(root.value)
        return (
            f"expected a list of mappings, or a mapping with one key holding such a list; "
            f"got a mapping with {keys} key{'s' if keys != 1 else ''}"
        )
    kind = _YAML_NODE_NAMES.get(type(root).__name__, "value")
    return f"expected a list of mappings, got a {kind}"


def _yaml_line(exc: Exception) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return int(mark.line) + 1 if mark is not None else 0


def _yaml_message(exc: Exception) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem:
        return f"{context} {problem}".strip() if context else str(problem)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


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
    read), document files are not opened (text gives ``[text_field, "path"]``, HTML
    adds ``"title"``, PDF ``"title"`` and ``"pages"``), JSONL and YAML read the first
    rows (bad lines and items are skipped here). Raises SourceError when the source is
    missing.
    """
    reader = SourceReader(path, fmt=fmt, text_field=text_field, glob=glob, on_error="skip")
    seen: dict[str, None] = {}
    budget = max(sample, 1)
    for file in reader.files():
        if budget <= 0:
            break
        kind = reader.file_format(file)
        if kind in _DOCUMENT_FIELDS:
            seen.update(dict.fromkeys([text_field, *_DOCUMENT_FIELDS[kind]]))
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
