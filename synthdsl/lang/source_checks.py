"""What ``validate`` checks of a source's data before any step runs.

Input: a source's raw mapping from a checked ``Document``, its name, and the recipe's
folder. Output: ``Diagnostic``s at the key or value concerned (``file:line:col``), for
``lang/decls.py`` to report with every other problem of the recipe:

- ``hf:``: the ``datasets`` library is installed (else ``pip install "synthdsl[hf]"``);
  a local value (see ``io.readers.hf_target``) exists, is not a dataset script and
  stays inside the read boundary; any other value is a Hub name (``org/name``); a
  local dataset is opened and its first rows read, so that a bad ``config``, a missing
  or unknown ``split`` and ``columns`` it does not have are found here (Hub datasets
  are not fetched at ``validate``);
- ``path:``: ``revision`` and ``config`` belong to ``hf:``; a folder saved by
  ``datasets`` with several splits needs ``split`` (and one it has); ``columns`` are
  among the fields peeked from the first rows;
- both: a source with no rows is an error unless ``allow_empty: true``.

Checks that cannot be made without reading a broken file are left to the run, which
reports that file with its position. Raises nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthdsl.errors import Diagnostic, Span
from synthdsl.io.readers import (
    HF_INSTALL,
    SourceError,
    SourceReader,
    datasets_available,
    has_rows,
    hf_target,
    hub_fields,
    is_hub_name,
    peek_fields,
)
from synthdsl.lang.load import Document

__all__ = ["check_source_data"]

_EMPTY_HINT = "if it may be empty, say so: allow_empty: true"


def check_source_data(
    doc: Document, name: str, raw: dict[str, Any], base_dir: Path
) -> list[Diagnostic]:
    """Problems of source ``name`` (``raw``: its mapping) found by looking at its data."""
    where = ("sources", name)
    if "hf" in raw:
        return _check_hf(doc, name, raw, base_dir)
    diags = [
        Diagnostic(doc.spans.key((*where, key)), f"'{key}' applies to hf: sources only", None)
        for key in ("revision", "config")
        if key in raw
    ]
    if "path" in raw and not diags:
        diags += _check_path(doc, name, raw, base_dir)
    return diags


def _check_hf(doc: Document, name: str, raw: dict[str, Any], base_dir: Path) -> list[Diagnostic]:
    where = ("sources", name)
    value = str(raw["hf"])
    span = doc.spans.value((*where, "hf"))
    if not datasets_available():
        return [Diagnostic(span, "hf: sources need the datasets library", HF_INSTALL)]
    target = hf_target(value, base_dir)
    if isinstance(target, str):
        if not is_hub_name(target):
            return [
                Diagnostic(
                    span,
                    f"hf: {value!r} is neither a folder here nor a Hub dataset name",
                    "write a Hub name as org/name, or a folder relative to the recipe's folder",
                )
            ]
        return []  # a Hub dataset: not fetched by validate
    if "revision" in raw:
        return [
            Diagnostic(
                doc.spans.key((*where, "revision")),
                "'revision' applies to Hub datasets, not to a local folder",
                None,
            )
        ]
    if doc.boundary is not None:
        outside = doc.boundary.problem(target, span, "source", value)
        if outside is not None:
            return [outside]
    if not target.exists():
        return [Diagnostic(span, f"hf: dataset not found: {value}", _relative_hint(base_dir))]
    if target.suffix == ".py":
        return [
            Diagnostic(
                span,
                "hf: dataset scripts are not run (datasets 4 and later refuse them)",
                "point hf: at a folder of data files (with a README.md listing its configs), "
                "or at a folder saved with save_to_disk",
            )
        ]
    try:
        fields = hub_fields(target, raw.get("split"), None, raw.get("config"), None)
    except SourceError as exc:
        return [Diagnostic(_problem_span(doc, where, raw, str(exc)), str(exc), None)]
    if "columns" in raw and fields:
        return _missing_columns(doc, name, raw, list(fields))
    if not fields and not raw.get("allow_empty", False):
        return [Diagnostic(span, f"source '{name}' ({value}) has no rows", _EMPTY_HINT)]
    return []


def _check_path(doc: Document, name: str, raw: dict[str, Any], base_dir: Path) -> list[Diagnostic]:
    where = ("sources", name)
    span = doc.spans.value((*where, "path"))
    written = Path(str(raw["path"])).expanduser()
    path = written if written.is_absolute() else base_dir / written
    fmt = str(raw.get("format", "auto"))
    glob = raw.get("glob")
    split = raw.get("split")
    try:
        SourceReader(path, fmt=fmt, glob=glob, split=split).files()
    except SourceError as exc:
        return [Diagnostic(_problem_span(doc, where, raw, str(exc)), str(exc), None)]
    if "columns" in raw:
        try:
            fields = peek_fields(path, fmt=fmt, glob=glob, split=split)
        except SourceError:
            fields = []  # unreadable: the run says where
        if fields:
            diags = _missing_columns(doc, name, raw, fields)
            if diags:
                return diags
    try:
        rows = has_rows(path, fmt, glob=glob, split=split)
    except SourceError as exc:  # what the run would stop on, said here at the path
        return [Diagnostic(span, str(exc), None)]
    if not rows and not raw.get("allow_empty", False):
        return [Diagnostic(span, f"source '{name}' ({raw['path']}) has no rows", _EMPTY_HINT)]
    return []


def _missing_columns(
    doc: Document, name: str, raw: dict[str, Any], fields: list[str]
) -> list[Diagnostic]:
    """A diagnostic at each of ``columns`` that is not among ``fields``."""
    columns = list(raw["columns"])
    return [
        Diagnostic(
            doc.spans.value(("sources", name, "columns", i)),
            f"source '{name}' has no column '{column}'",
            f"its columns: {', '.join(fields)}",
        )
        for i, column in enumerate(columns)
        if column not in fields
    ]


def _problem_span(doc: Document, where: tuple[str, str], raw: dict[str, Any], message: str) -> Span:
    """Where a reading problem points: the key it is about when the recipe has it."""
    for key in ("split", "config", "columns"):
        if key in raw and key in message:
            return doc.spans.value((*where, key))
    return doc.spans.value((*where, "hf" if "hf" in raw else "path"))


def _relative_hint(base_dir: Path) -> str:
    relative = "paths are relative to the recipe's folder"
    if base_dir not in (Path(""), Path(".")):
        relative += f" ({base_dir.as_posix()})"
    return relative
