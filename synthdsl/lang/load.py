"""Load a recipe file: bytes → plain Python values plus a table of source positions.

Input: a path (or text). Output: a ``Document`` holding the parsed value (dicts, lists,
scalars, exactly as ``yaml.safe_load`` would give) and ``Spans``: the position of every
mapping key and every value, addressed by its path (``("steps", 2, "filter")``).
Raises ``RecipeError`` for: an unreadable or binary file, a file that is not UTF-8,
YAML syntax errors (explained in plain words: an unclosed bracket or quote points at
where it opens, a bad indentation at the line that breaks it), duplicate keys, an
empty file and a top level that is not a mapping.
Multi-line strings also get a layout (``Spans.layouts``): where each of their lines
starts in the file, so that positions inside an embedded template or expression can be
mapped back to the recipe (see ``content_span``).
Nothing here executes code: PyYAML's safe loader composes nodes, and we build values
from them ourselves so that every position is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synthdsl.errors import Diagnostic, RecipeError, Span
from synthdsl.lang.boundary import ReadBoundary

MAX_RECIPE_BYTES = 2 * 1024 * 1024
"""Largest recipe file: inline data belongs in a source file."""

MAX_VALUES = 200_000
"""Most values (mappings, lists, scalars) a recipe may expand to. YAML aliases repeat
what they name, so ten lines can expand to billions ("billion laughs"); counting as
values are built stops that after this many, in well under a second."""

__all__ = [
    "Document",
    "Path_",
    "Segment",
    "Spans",
    "TextSpan",
    "content_span",
    "load_document",
    "parse_document",
]

Path_ = tuple[str | int, ...]

Segment = tuple[int, int, int, int]
"""(text line, text column, file line, file column): where a piece of a multi-line
string's text starts in the file. Text positions count from 0, file positions from 1."""


@dataclass
class Spans:
    """Source positions of a document's keys and values, by path."""

    file: str
    values: dict[Path_, Span] = field(default_factory=dict)
    keys: dict[Path_, Span] = field(default_factory=dict)
    layouts: dict[Span, tuple[Segment, ...]] = field(default_factory=dict)

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

    def alias(self, old: Path_, new: Path_) -> None:
        """Positions under ``old`` also under ``new`` (a key renamed by a parameter)."""
        n = len(old)
        for table in (self.values, self.keys):
            for p, s in list(table.items()):
                if p[:n] == old:
                    table.setdefault(new + p[n:], s)

    def add_prefixed(self, other: Spans, prefix: Path_) -> None:
        for p, s in other.values.items():
            self.values[prefix + p] = s
        for p, s in other.keys.items():
            self.keys[prefix + p] = s
        self.layouts.update(other.layouts)


@dataclass
class Document:
    """A loaded recipe: its value, positions and source text.

    ``path`` is how messages name it; ``base_dir`` is the folder of the file it was read
    from (what its relative paths resolve against), when that is not ``path``'s folder;
    ``boundary``, when set, is where it may read files from (a pack's recipe).
    """

    path: str
    text: str
    data: Any
    spans: Spans
    base_dir: str | None = None
    boundary: ReadBoundary | None = None

    @property
    def folder(self) -> Path:
        """The folder the document's relative paths (sources, prompts, uses) start from."""
        return Path(self.base_dir) if self.base_dir is not None else Path(self.path).parent


def _span(file: str, mark: Any) -> Span:
    return Span(file, int(mark.line) + 1, int(mark.column) + 1)


def _text_position(text: str, offset: int) -> tuple[int, int]:
    """0-based (line, column) of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def _layout(lines: list[str], node: yaml.ScalarNode) -> tuple[Segment, ...]:
    """Where each line of a multi-line string scalar's text starts in the file.

    Each source line's content (indentation, quotes and the block indicator left out) is
    looked up in the string's value, in order; lines that cannot be found (escapes in a
    quoted string) are skipped, and positions on them are estimated from the last one.
    """
    value = str(node.value)
    start, end = node.start_mark, node.end_mark
    first = start.line + (1 if node.style in ("|", ">") else 0)
    segments: list[Segment] = []
    cursor = 0
    for index in range(first, min(end.line, len(lines) - 1) + 1):
        line = lines[index]
        quoted = node.style in ("'", '"')
        begin = start.column + (1 if quoted else 0) if index == start.line else 0
        stop = end.column if index == end.line else len(line)
        piece = line[begin:stop]
        content = piece.lstrip(" \t")
        if quoted and index == end.line:
            content = content[:-1] if content.endswith(node.style) else content
        content = content.rstrip(" \t")
        if not content:
            continue
        pos = value.find(content, cursor)
        if pos < 0:
            continue
        text_line, text_col = _text_position(value, pos)
        col = begin + (len(piece) - len(piece.lstrip(" \t"))) + 1
        segments.append((text_line, text_col, index + 1, col))
        cursor = pos + len(content)
    return tuple(segments)


_CLOSERS = {"flow mapping": ("{", "}"), "flow sequence": ("[", "]")}
_TEMPLATE_HINT = 'put the whole value in quotes, e.g. template: "Ask about {{ topic }}"'


def _syntax_diagnostic(exc: yaml.MarkedYAMLError, file: str, lines: list[str]) -> Diagnostic:
    """A YAML parser error, explained in plain words at the most useful position."""
    problem = str(exc.problem or exc)
    context = str(exc.context or "")
    pmark, cmark = exc.problem_mark, exc.context_mark
    at_problem = _span(file, pmark) if pmark else Span(file, 1, 1)
    at_context = _span(file, cmark) if cmark else at_problem
    found = problem.split("but got ", 1)[-1] if "but got " in problem else ""
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    span, hint = at_problem, None
    kind = context.replace("while parsing a ", "")
    if kind in _CLOSERS and problem.startswith("expected ','"):
        opener, closer = _CLOSERS[kind]
        if _unclosed(lines, pmark, cmark):
            span = at_context
            message = f"YAML syntax error: this '{opener}' is never closed"
            hint = f"add the missing '{closer}' (YAML reached line {at_problem.line} without it)"
        else:
            message = f"YAML syntax error: expected ',' or '{closer}' here, found {found}"
            hint = (
                f"separate the items inside {opener}...{closer} with ','; quote values that "
                "contain ':', ',' or brackets"
            )
    elif problem.startswith("expected <block end>") and "block" in context:
        message = "YAML syntax error: bad indentation"
        hint = (
            f"this line must line up with the keys or '- ' items it belongs to (the block "
            f"starting at line {at_context.line}, column {at_context.col})"
        )
    elif problem == "mapping values are not allowed here":
        message = "YAML syntax error: unexpected ':'"
        hint = "quote a value that contains ': ', or check the indentation of this line"
    elif problem.startswith("found character '\\t'"):
        message = "YAML syntax error: a tab character is not allowed here"
        hint = "indent YAML with spaces, not tabs"
    elif "that cannot start any token" in problem:
        char = problem.split("'", 2)[1] if problem.count("'") >= 2 else "?"
        message = f"YAML syntax error: a value cannot start with '{char}'"
        hint = "put the value in quotes"
    elif "while scanning a quoted scalar" in context and "end of stream" in problem:
        span = at_context
        message = "YAML syntax error: this quoted string is never closed"
        hint = "add the closing quote (YAML reached the end of the file without finding it)"
    elif problem == "could not find expected ':'" and cmark is not None:
        span = at_context
        message = "YAML syntax error: expected 'key: value' or a '- ' item on this line"
        hint = "add ':' after the key, or indent this line as part of the value above it"
    elif problem.startswith("found undefined alias"):
        name = problem.split("'", 2)[1] if problem.count("'") >= 2 else ""
        message = f"YAML syntax error: alias '*{name}' has no matching anchor '&{name}'"
    elif "another document" in problem:
        message = "YAML syntax error: a recipe file holds a single YAML document"
        hint = "remove the '---' line and what follows, or put it in another file"
    elif problem.startswith("could not determine a constructor for the tag"):
        tag = problem.split("'", 2)[1] if problem.count("'") >= 2 else "?"
        message = f"YAML syntax error: unknown tag '{tag}'"
        hint = "recipes use plain YAML values; remove the tag or quote the value"
    line = lines[span.line - 1] if 1 <= span.line <= len(lines) else ""
    if _has_unquoted_template(line):
        message = "YAML syntax error: a value holding a template must be quoted"
        hint = _TEMPLATE_HINT
    return Diagnostic(span, message, hint)


def _unclosed(lines: list[str], pmark: Any, cmark: Any) -> bool:
    """Whether a flow collection's error comes from it never being closed: the parser
    ran into a later line indented no deeper than the line where it opened."""
    if pmark is None or cmark is None or pmark.line <= cmark.line:
        return False
    if pmark.line >= len(lines):
        return True

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    return indent(lines[pmark.line]) <= indent(lines[cmark.line])


def _has_unquoted_template(line: str) -> bool:
    for marker in ("{{", "{%"):
        at = line.find(marker)
        if at >= 0 and line.count('"', 0, at) % 2 == 0 and line.count("'", 0, at) % 2 == 0:
            return True
    return False


class _Builder:
    def __init__(self, file: str, loader: yaml.SafeLoader, text: str = "") -> None:
        self.file = file
        self.loader = loader
        self.text = text
        self.lines = text.splitlines()
        self.spans = Spans(file)
        self.diagnostics: list[Diagnostic] = []
        self._active: set[int] = set()
        self._count = 0

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self._count += 1
        if self._count > MAX_VALUES:
            top = self.spans.keys.get(path[:1]) if path else None
            raise RecipeError.single(
                top or _span(self.file, node.start_mark),
                f"the recipe expands to more than {MAX_VALUES:,} values",
                hint="YAML aliases (*name) repeat what they name; put large data in a source file",
            )
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
        value = self.loader.construct_object(node, deep=True)
        if (
            isinstance(value, str)
            and isinstance(node, yaml.ScalarNode)
            and (node.end_mark.line > node.start_mark.line or node.style in ("|", ">"))
        ):
            self.spans.layouts[self.spans.values[path]] = _layout(self.lines, node)
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        own = {id(key_node) for key_node, _ in node.value}
        try:
            self.loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        except yaml.MarkedYAMLError as exc:
            self.diagnostics.append(_syntax_diagnostic(exc, self.file, self.lines))
            return {}
        if node.flow_style and self.text.startswith("{{", node.start_mark.index):
            self.diagnostics.append(
                Diagnostic(
                    self.spans.values[path],
                    "a value holding a template must be quoted "
                    "(YAML reads '{{' as the start of a mapping)",
                    hint=_TEMPLATE_HINT,
                )
            )
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
            if id(key_node) not in own:
                pass  # merged in by '<<': keys written in this mapping override it
            elif key in first_seen:
                prev = first_seen[key]
                self.diagnostics.append(
                    Diagnostic(
                        key_span,
                        f"duplicate key '{key}' (first defined at line {prev.line})",
                        hint="YAML keeps only one of them; remove or rename the other",
                    )
                )
                continue
            else:
                first_seen[key] = key_span
            child: Path_ = (*path, key if isinstance(key, str | int) else str(key))
            self.spans.keys[child] = key_span
            out[key] = self.build(value_node, child)
        return out


def _reader_error(exc: yaml.reader.ReaderError, text: str, file: str) -> RecipeError:
    """A character YAML does not allow (a control character), at its position."""
    line, col = _text_position(text, exc.position)
    return RecipeError.single(
        Span(file, line + 1, col + 1),
        f"character U+{exc.character:04X} is not allowed in a recipe (a control character)",
        hint="remove it, or write it as an escape inside a double-quoted string "
        f"(\\x{exc.character:02x})",
    )


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
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, file) from None
    try:
        try:
            root = loader.get_single_node()
        except yaml.reader.ReaderError as exc:
            raise _reader_error(exc, text, file) from None
        except yaml.MarkedYAMLError as exc:
            raise RecipeError([_syntax_diagnostic(exc, file, text.splitlines())]) from None
        except yaml.YAMLError as exc:
            raise RecipeError.single(Span(file, 1, 1), f"YAML error: {exc}") from None
        if root is None:
            raise RecipeError.single(Span(file, 1, 1), "recipe file is empty")
        builder = _Builder(file, loader, text)
        try:
            data = builder.build(root, ())
        except yaml.MarkedYAMLError as exc:
            raise RecipeError([_syntax_diagnostic(exc, file, text.splitlines())]) from None
    finally:
        loader.dispose()
    if builder.diagnostics:
        raise RecipeError(builder.diagnostics)
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string", int: "a number", float: "a number"}.get(
            type(data), f"a {type(data).__name__} value"
        )
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
        with open(path, "rb") as fh:
            raw = fh.read(MAX_RECIPE_BYTES + 1)
    except FileNotFoundError:
        raise RecipeError.single(None, f"recipe file not found: {file}") from None
    except IsADirectoryError:
        raise RecipeError.single(None, f"{file} is a directory, not a recipe file") from None
    except OSError as exc:
        raise RecipeError.single(None, f"cannot read {file}: {exc.strerror}") from None
    if len(raw) > MAX_RECIPE_BYTES:
        raise RecipeError.single(
            Span(file, 1, 1),
            f"recipe file is larger than {MAX_RECIPE_BYTES:,} bytes",
            hint="put inline records in a source file (sources: {name: {path: data.jsonl}})",
        )
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
    doc = parse_document(text, file)
    doc.base_dir = str(Path(path).parent)
    return doc


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
