"""Recipe documents → typed declarations, with overrides and parameters applied.

Input: a ``Document`` (see ``load``). Output: ``ModelDecl``, ``SourceDecl`` and
``OutputDecl`` values, ``--set`` overrides applied to the raw document, ``${param}``
references substituted. Raises nothing itself: problems are returned as ``Diagnostic``s
so that all of them reach the user in one pass.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synthdsl.errors import Diagnostic, RecipeError, Span, did_you_mean
from synthdsl.lang.load import Document, Path_, Segment
from synthdsl.lang.schema.check import PARAM_RE, check_substituted

__all__ = [
    "DEFAULT_MODEL",
    "ModelDecl",
    "ModelEntry",
    "OutputDecl",
    "SourceDecl",
    "TextSpan",
    "apply_set_overrides",
    "content_span",
    "default_model",
    "parse_models",
    "parse_output",
    "parse_sources",
    "substitute_params",
]

DEFAULT_MODEL = "local/smollm2"
SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "seed", "stop")


def default_model() -> str:
    """The model used where a recipe names none: $SYNTHDSL_MODEL or the embedded model."""
    return os.environ.get("SYNTHDSL_MODEL") or DEFAULT_MODEL


@dataclass(frozen=True)
class ModelEntry:
    """One concrete model of an alias (an alias is a weighted pool of these)."""

    model: str
    weight: float = 1.0
    params: tuple[tuple[str, Any], ...] = ()
    api_base: str | None = None
    api_key_env: str | None = None
    concurrency: int = 16
    rpm: float | None = None
    tpm: float | None = None
    timeout: float = 120.0
    max_retries: int = 6
    backend: str = "auto"
    extra: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ModelDecl:
    alias: str
    entries: tuple[ModelEntry, ...]
    span: Span

    @property
    def is_pool(self) -> bool:
        return len(self.entries) > 1


@dataclass(frozen=True)
class SourceDecl:
    name: str
    span: Span
    path: str | None = None
    records: tuple[dict[str, Any], ...] | None = None
    is_input: bool = False
    format: str = "auto"
    text_field: str = "text"
    glob: str | None = None
    limit: int | None = None
    fields: tuple[str, ...] | None = None
    base_dir: str = "."


@dataclass(frozen=True)
class OutputDecl:
    from_: str | None
    dir: str | None
    format: str = "jsonl"
    shape: str = "records"
    fields: tuple[str, ...] | None = None
    instruction_field: str = "instruction"
    input_field: str = "input"
    response_field: str = "response"
    system: str | None = None
    provenance: bool = True
    span: Span | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _entry(raw: dict[str, Any], weight: float = 1.0) -> ModelEntry:
    params = tuple(sorted((k, raw[k]) for k in SAMPLING_KEYS if k in raw))
    extra = tuple(sorted((raw.get("extra") or {}).items()))
    return ModelEntry(
        model=str(raw["model"]),
        weight=float(raw.get("weight", weight)),
        params=params,
        api_base=raw.get("api_base"),
        api_key_env=raw.get("api_key_env"),
        concurrency=int(raw.get("concurrency", 16)),
        rpm=raw.get("rpm"),
        tpm=raw.get("tpm"),
        timeout=float(raw.get("timeout", 120.0)),
        max_retries=int(raw.get("max_retries", 6)),
        backend=str(raw.get("backend", "auto")),
        extra=extra,
    )


def parse_models(doc: Document, prefix: Path_ = ("models",)) -> dict[str, ModelDecl]:
    out: dict[str, ModelDecl] = {}
    for alias, raw in (doc.data.get("models") or {}).items():
        span = doc.spans.key((*prefix, alias))
        entries = tuple(_entry(e) for e in raw["pool"]) if "pool" in raw else (_entry(raw),)
        out[str(alias)] = ModelDecl(str(alias), entries, span)
    return out


def parse_sources(
    doc: Document, base_dir: Path, *, check_files: bool = True
) -> tuple[dict[str, SourceDecl], list[Diagnostic]]:
    """The recipe's sources; with ``check_files``, a ``path:`` that does not exist
    (relative to ``base_dir``, the recipe's directory) is reported at the path's value."""
    out: dict[str, SourceDecl] = {}
    diags: list[Diagnostic] = []
    for name, raw in (doc.data.get("sources") or {}).items():
        span = doc.spans.key(("sources", name))
        kinds = [k for k in ("path", "records", "input") if k in raw]
        if len(kinds) != 1:
            if kinds:
                quoted = [f"'{k}'" for k in kinds]
                both = "both " if len(kinds) == 2 else ""
                diags.append(
                    Diagnostic(
                        doc.spans.key(("sources", name, kinds[1])),
                        f"source '{name}' has {both}{', '.join(quoted[:-1])} and {quoted[-1]}",
                        "keep only one of them",
                    )
                )
            else:
                diags.append(
                    Diagnostic(
                        span,
                        f"source '{name}' has no 'path', 'records' or 'input'",
                        "give it 'path:' (a JSONL, CSV, Parquet or text file), inline "
                        "'records:', or 'input: true' to make it an input of a strategy",
                    )
                )
            # Still declare it, with unknown fields, so that steps reading it are not
            # reported as well.
            out[str(name)] = SourceDecl(
                name=str(name), span=span, records=(), fields=("*",), base_dir=str(base_dir)
            )
            continue
        if check_files and "path" in raw:
            problem = _missing_path(
                str(raw["path"]), base_dir, doc.spans.value(("sources", name, "path"))
            )
            if problem is not None:
                diags.append(problem)
        fields = tuple(raw["fields"]) if "fields" in raw else None
        records = tuple(raw["records"]) if "records" in raw else None
        out[str(name)] = SourceDecl(
            name=str(name),
            span=span,
            path=raw.get("path"),
            records=records,
            is_input=bool(raw.get("input", False)),
            format=raw.get("format", "auto"),
            text_field=raw.get("text_field", "text"),
            glob=raw.get("glob"),
            limit=raw.get("limit"),
            fields=fields,
            base_dir=str(base_dir),
        )
    return out, diags


def _missing_path(path: str, base_dir: Path, span: Span) -> Diagnostic | None:
    """A diagnostic when the source ``path`` (relative to ``base_dir``) does not exist."""
    written = Path(path).expanduser()
    full = written if written.is_absolute() else base_dir / written
    if full.exists():
        return None
    relative = "source paths are relative to the recipe's folder"
    if base_dir not in (Path(""), Path(".")):
        relative += f" ({base_dir.as_posix()})"
    hint: str | None = None
    parent = full.parent
    if parent.is_dir():
        names = sorted(p.name for p in parent.iterdir() if not p.name.startswith("."))
        close = did_you_mean(written.name, names)
        if close is not None:
            match = close.split("'")[1]
            prefix = path[: len(path) - len(written.name)] if path.endswith(written.name) else ""
            hint = f"did you mean '{prefix}{match}'?"
    else:
        hint = f"folder '{written.parent.as_posix()}' does not exist; {relative}"
    if hint is None:
        hint = relative
    return Diagnostic(span, f"source file not found: {path}", hint)


def parse_output(doc: Document) -> OutputDecl:
    raw = doc.data.get("output") or {}
    return OutputDecl(
        from_=raw.get("from"),
        dir=raw.get("dir"),
        format=raw.get("format", "jsonl"),
        shape=raw.get("shape", "records"),
        fields=tuple(raw["fields"]) if "fields" in raw else None,
        instruction_field=raw.get("instruction_field", "instruction"),
        input_field=raw.get("input_field", "input"),
        response_field=raw.get("response_field", "response"),
        system=raw.get("system"),
        provenance=bool(raw.get("provenance", True)),
        span=doc.spans.key(("output",)) if "output" in doc.data else None,
    )


@dataclass(frozen=True, eq=False)
class TextSpan(Span):
    """Where a multi-line embedded text starts, and where each of its lines is in the file.

    ``shifted`` maps a position inside the text to the file, following the text's lines
    (indentation of a ``|`` block, line folding of ``>`` blocks and of multi-line plain or
    quoted strings) instead of assuming the text's lines start in column 1. It equals
    (and hashes like) the plain ``Span`` of the same position.
    """

    segments: tuple[Segment, ...] = field(default=(), repr=False)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Span):
            return (self.file, self.line, self.col) == (other.file, other.line, other.col)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.file, self.line, self.col))

    def shifted(self, line_offset: int, col_offset: int) -> Span:
        target = (line_offset, col_offset)
        best: Segment | None = None
        for seg in self.segments:
            if (seg[0], seg[1]) <= target:
                best = seg
            else:
                break
        if best is None:
            return super().shifted(line_offset, col_offset)
        text_line, text_col, file_line, file_col = best
        if text_line == line_offset:
            return Span(self.file, file_line, file_col + col_offset - text_col)
        # A line that could not be located: estimate from the last located one.
        indent = file_col - 1 if text_col == 0 else 0
        return Span(self.file, file_line + line_offset - text_line, indent + col_offset + 1)


def content_span(doc: Document, span: Span) -> Span:
    """Where the text of a scalar starts (past an opening quote or a block indicator).

    For a multi-line string the result is a ``TextSpan`` that also maps positions on
    the text's later lines back to the file.
    """
    segments = doc.spans.layouts.get(span)
    if segments:
        text_line, text_col, file_line, file_col = segments[0]
        if text_line > 0:  # the text starts with empty lines
            return TextSpan(span.file, file_line - text_line, 1, segments)
        return TextSpan(span.file, file_line, file_col - text_col, segments)
    lines = doc.text.splitlines()
    if not 1 <= span.line <= len(lines):
        return span
    line = lines[span.line - 1]
    ch = line[span.col - 1 : span.col]
    if ch in ("'", '"'):
        return Span(span.file, span.line, span.col + 1)
    if ch in ("|", ">"):
        for i in range(span.line, len(lines)):
            stripped = lines[i].lstrip(" ")
            if stripped:
                return Span(span.file, i + 1, len(lines[i]) - len(stripped) + 1)
    return span


# --- --set overrides --------------------------------------------------------


def apply_set_overrides(doc: Document, assignments: list[str]) -> None:
    """Apply ``dotted.path=value`` assignments to ``doc.data`` in place.

    A path segment after ``steps`` may be a step id instead of an index. Values are
    parsed as YAML scalars/flow values (``--set models.gen.temperature=0.2``).
    Raises ``RecipeError`` for a malformed assignment or a path that does not exist.
    """
    diags: list[Diagnostic] = []
    for text in assignments:
        span = Span("--set", 1, 1)
        if "=" not in text:
            diags.append(Diagnostic(span, f"--set expects path=value, got {text!r}"))
            continue
        dotted, raw_value = text.split("=", 1)
        try:
            value = yaml.safe_load(raw_value) if raw_value.strip() else ""
        except yaml.YAMLError:
            value = raw_value
        segments = [s for s in dotted.strip().split(".") if s]
        if not segments:
            diags.append(Diagnostic(span, f"--set has an empty path in {text!r}"))
            continue
        target: Any = doc.data
        path: list[str | int] = []
        ok = True
        for i, seg in enumerate(segments[:-1]):
            nxt: Any
            if isinstance(target, list):
                idx = _list_index(target, seg, path)
                if idx is None:
                    diags.append(
                        Diagnostic(
                            span, f"--set {dotted}: no item {seg!r} in {'.'.join(map(str, path))}"
                        )
                    )
                    ok = False
                    break
                path.append(idx)
                nxt = target[idx]
            elif isinstance(target, dict):
                if seg not in target:
                    target[seg] = {}
                path.append(seg)
                nxt = target[seg]
            else:
                diags.append(
                    Diagnostic(span, f"--set {dotted}: {'.'.join(segments[:i])} is not a mapping")
                )
                ok = False
                break
            target = nxt
        if not ok:
            continue
        last = segments[-1]
        if isinstance(target, list):
            idx = _list_index(target, last, path)
            if idx is None:
                diags.append(Diagnostic(span, f"--set {dotted}: no item {last!r}"))
                continue
            target[idx] = value
        elif isinstance(target, dict):
            target[last] = value
        else:
            diags.append(Diagnostic(span, f"--set {dotted}: parent is not a mapping"))
    if diags:
        raise RecipeError(diags)


def _list_index(items: list[Any], seg: str, path: list[str | int]) -> int | None:
    if seg.isdigit():
        idx = int(seg)
        return idx if idx < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == seg:
            return i
    return None


# --- parameters ---------------------------------------------------------------


def substitute_params(
    value: Any, params: dict[str, Any], doc: Document, path: Path_, diags: list[Diagnostic]
) -> Any:
    """Replace ``${name}`` references in ``value`` (recursively).

    A string that is exactly ``${name}`` takes the parameter's value with its type;
    references inside longer strings are interpolated as text. When ``value`` is a
    top-level part of the recipe or a step, values that came from parameters are checked
    against the schema again (a using recipe's ``with:`` may give a value of the wrong
    type); on a problem, ``value`` gets the parameters' declared defaults instead, which
    the schema check already accepted, so that later stages see valid values.
    """
    changed: dict[Path_, str] = {}
    result = _substitute(value, params, doc, path, diags, changed)
    if changed:
        declared = doc.data.get("params")
        defaults = declared if isinstance(declared, dict) else {}
        hints = {
            name: f"'{name}' is set by the 'with:' of the step that uses this recipe"
            for name in changed.values()
            if name in defaults and params.get(name) != defaults[name]
        }
        problems = check_substituted(doc, path, result, changed, hints)
        if problems:
            diags.extend(problems)
            result = _substitute(value, defaults, doc, path, [], {})
    return result


def _substitute(
    value: Any,
    params: dict[str, Any],
    doc: Document,
    path: Path_,
    diags: list[Diagnostic],
    changed: dict[Path_, str],
) -> Any:
    if isinstance(value, dict):
        return {
            k: _substitute(v, params, doc, (*path, k), diags, changed) for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _substitute(v, params, doc, (*path, i), diags, changed) for i, v in enumerate(value)
        ]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = PARAM_RE.fullmatch(value)
    if whole:
        name = whole.group(1)
        if name in params:
            changed[path] = name
            return params[name]
        _unknown_param(name, params, doc, path, diags)
        return value

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in params:
            return str(params[name])
        _unknown_param(name, params, doc, path, diags)
        return m.group(0)

    return PARAM_RE.sub(repl, value)


def _unknown_param(
    name: str, params: dict[str, Any], doc: Document, path: Path_, diags: list[Diagnostic]
) -> None:
    hint = did_you_mean(name, params) or (
        "declare it under 'params:' with a default" if not params else None
    )
    diags.append(Diagnostic(doc.spans.value(path), f"unknown parameter '${{{name}}}'", hint))
