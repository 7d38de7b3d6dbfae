"""Load a recipe file: bytes → plain Python values plus a table of source positions.

Input: a path (or text). Output: a ``Document`` holding the parsed value (dicts, lists,
scalars, exactly as ``yaml.safe_load`` would give) and ``Spans``: the position of every
mapping key and every value, addressed by its path (``("steps", 2, "filter")``).
Raises ``RecipeError`` for: an unreadable or binary file, a file that is not UTF-8,
YAML syntax errors, duplicate keys, an empty file and a top level that is not a mapping.
Nothing here executes code: PyYAML's safe loader composes nodes, and we build values
from them ourselves so that every position is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synthdsl.errors import Diagnostic, RecipeError, Span

__all__ = ["Document", "Path_", "Spans", "load_document", "parse_document"]

Path_ = tuple[str | int, ...]


@dataclass
class Spans:
    """Source positions of a document's keys and values, by path."""

    file: str
    values: dict[Path_, Span] = field(default_factory=dict)
    keys: dict[Path_, Span] = field(default_factory=dict)

    def value(self, path: Path_) -> Span:
        """The span of the value at ``path``, or of its closest ancestor."""
        p = tuple(path)
        while p:
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), Span(self.file, 1, 1))

    def key(self, path: Path_) -> Span:
        """The span of the key naming ``path`` (falls back to the value's span)."""
        p = tuple(path)
        if p in self.keys:
            return self.keys[p]
        return self.value(p)

    def add_prefixed(self, other: Spans, prefix: Path_) -> None:
        for p, s in other.values.items():
            self.values[prefix + p] = s
        for p, s in other.keys.items():
            self.keys[prefix + p] = s


@dataclass
class Document:
    """A loaded recipe: its value, positions and source text."""

    path: str
    text: str
    data: Any
    spans: Spans


def _span(file: str, mark: Any) -> Span:
    return Span(file, int(mark.line) + 1, int(mark.column) + 1)


class _Builder:
    def __init__(self, file: str, loader: yaml.SafeLoader) -> None:
        self.file = file
        self.loader = loader
        self.spans = Spans(file)
        self.diagnostics: list[Diagnostic] = []
        self._active: set[int] = set()

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.spans.values[path] = _span(self.file, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            if id(node) in self._active:
                self.diagnostics.append(
                    Diagnostic(self.spans.values[path], "recursive YAML alias is not allowed")
                )
                return {}
            self._active.add(id(node))
            try:
                return self._mapping(node, path)
            finally:
                self._active.discard(id(node))
        if isinstance(node, yaml.SequenceNode):
            if id(node) in self._active:
                self.diagnostics.append(
                    Diagnostic(self.spans.values[path], "recursive YAML alias is not allowed")
                )
                return []
            self._active.add(id(node))
            try:
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            finally:
                self._active.discard(id(node))
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        try:
            self.loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            span = _span(self.file, mark) if mark else self.spans.values[path]
            self.diagnostics.append(Diagnostic(span, f"YAML error: {exc.problem}"))
            return {}
        out: dict[Any, Any] = {}
        first_seen: dict[Any, Span] = {}
        for key_node, value_node in node.value:
            key_span = _span(self.file, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                self.diagnostics.append(Diagnostic(key_span, "mapping keys must be plain scalars"))
                continue
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                self.diagnostics.append(Diagnostic(key_span, "mapping keys must be plain scalars"))
                continue
            if key in first_seen:
                prev = first_seen[key]
                self.diagnostics.append(
                    Diagnostic(
                        key_span,
                        f"duplicate key '{key}' (first defined at line {prev.line})",
                        hint="YAML keeps only one of them; remove or rename the other",
                    )
                )
                continue
            first_seen[key] = key_span
            child: Path_ = (*path, key if isinstance(key, str | int) else str(key))
            self.spans.keys[child] = key_span
            out[key] = self.build(value_node, child)
        return out


def parse_document(text: str, file: str) -> Document:
    """Parse recipe ``text`` (named ``file`` in messages) into a ``Document``."""
    if "\x00" in text:
        raise RecipeError.single(
            Span(file, 1, 1),
            "file is not a text file (it contains NUL bytes)",
            hint="a recipe is a YAML text file",
        )
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise RecipeError.single(
            Span(file, 1, 1),
            "recipe file is empty",
            hint="a recipe starts with 'synthdsl: 1' and defines steps",
        )
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            span = _span(file, mark) if mark else Span(file, 1, 1)
            problem = exc.problem or str(exc)
            context = f" {exc.context}" if exc.context and exc.problem else ""
            raise RecipeError.single(span, f"YAML syntax error: {problem}{context}") from None
        except yaml.YAMLError as exc:
            raise RecipeError.single(Span(file, 1, 1), f"YAML error: {exc}") from None
        if root is None:
            raise RecipeError.single(Span(file, 1, 1), "recipe file is empty")
        builder = _Builder(file, loader)
        try:
            data = builder.build(root, ())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            span = _span(file, mark) if mark else Span(file, 1, 1)
            raise RecipeError.single(span, f"YAML error: {exc.problem or exc}") from None
    finally:
        loader.dispose()
    if builder.diagnostics:
        raise RecipeError(builder.diagnostics)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__} value"
        raise RecipeError.single(
            builder.spans.value(()),
            f"a recipe must be a YAML mapping, found {kind}",
            hint="start the file with 'synthdsl: 1' and top-level keys such as 'steps:'",
        )
    return Document(path=file, text=text, data=data, spans=builder.spans)


def load_document(path: str | Path, display_name: str | None = None) -> Document:
    """Read and parse the recipe at ``path``. Messages name it ``display_name`` or the path."""
    file = display_name or str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise RecipeError.single(None, f"recipe file not found: {file}") from None
    except IsADirectoryError:
        raise RecipeError.single(None, f"{file} is a directory, not a recipe file") from None
    except OSError as exc:
        raise RecipeError.single(None, f"cannot read {file}: {exc.strerror}") from None
    if b"\x00" in raw[:8192]:
        raise RecipeError.single(
            Span(file, 1, 1),
            "file is not a text file (it looks binary)",
            hint="a recipe is a YAML text file",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise RecipeError.single(
            Span(file, line, col), "file is not valid UTF-8 text (binary file?)"
        ) from None
    return parse_document(text, file)
