"""Structured values out of LLM completions: lists, JSON, fenced code.

Input: a completion's text. Output: ``extract_list`` (numbered, bulleted or one-per-line
items), ``extract_json`` (the first JSON value, fenced or bare), ``extract_code`` (a
fenced block, by language). Raises ``ExtractError`` (a ``ValueError``) with a short
human reason ("no fenced code block found", ...) that becomes the record's drop reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["ExtractError", "extract_code", "extract_json", "extract_list"]


class ExtractError(ValueError):
    """An LLM output did not contain what an extractor looked for; the message says why."""


# --------------------------------------------------------------------------- quotes

_QUOTE_PAIRS = {
    '"': '"',
    "'": "'",
    "`": "`",
    "“": "”",
    "‘": "’",
    "«": "»",
    "„": "“",
    "「": "」",
    "『": "』",
}


def _strip_quotes(item: str) -> str:
    """``item`` without whitespace and one pair of quotes wrapping all of it."""
    item = item.strip()
    while len(item) >= 2 and _QUOTE_PAIRS.get(item[0]) == item[-1]:
        inner = item[1:-1]
        # '"a" and "b"' is not wrapped by one pair: keep it.
        if item[0] in inner and _QUOTE_PAIRS[item[0]] == item[0]:
            break
        item = inner.strip()
    return item


# --------------------------------------------------------------------------- lists

# List markers at the start of a line. Each requires whitespace (or the end of the
# line) after it, so "1.5 cups" or "**bold**" do not count.
_MARKER_RE = re.compile(
    r"""^(?P<indent>[ \t]*)
    (?:
        (?P<num>\(?\d{1,4}[.):])                     # 1.  1)  (1)  1:
      | (?P<bullet>[-*+•‣◦▪●])                       # - * + • ...
      | (?P<label>[^\W\d_]{1,20}[ \t]*\#?\d{1,4}[ \t]*[.:)])   # Task 3:  Q1.  Step #2)
    )
    (?:[ \t]+|$)""",
    re.VERBOSE,
)


@dataclass
class _Marker:
    kind: str
    indent: int
    rest: str


def _marker(line: str) -> _Marker | None:
    m = _MARKER_RE.match(line)
    if m is None:
        return None
    kind = "num" if m.group("num") else "bullet" if m.group("bullet") else "label"
    indent = len(m.group("indent").expandtabs(4))
    return _Marker(kind, indent, line[m.end() :])


def extract_list(text: str, *, min_len: int = 1) -> list[str]:
    """The items of a list in an LLM completion.

    Items start at numbered markers (``1.``, ``1)``, ``(1)``, ``1:``), bullets (``-``,
    ``*``, ``+``, ``•``) or labels (``Task 3:``, ``Q1.``). The list's marker kind is the
    kind of the first least-indented marker; other markers (nested bullets under a
    numbered item, say) stay inside the item they follow. Lines before the first item
    (a preamble) are dropped. A line after an item joins it when it follows directly or
    is indented; after a blank line, unindented prose ("Hope this helps!") is dropped.
    Without any marker, each non-empty line is an item.

    Markers, surrounding whitespace and one pair of wrapping quotes are stripped, empty
    items dropped and exact repeats removed (first occurrence kept).

    Raises ``ExtractError`` when fewer than ``min_len`` items remain.
    """
    lines = text.splitlines()
    markers = [_marker(line) for line in lines]
    found = [m for m in markers if m is not None]
    raw: list[str] = []
    if found:
        top_indent = min(m.indent for m in found)
        top_kind = next(m.kind for m in found if m.indent == top_indent)
        current: list[str] | None = None
        blank_since_item = False
        for line, mark in zip(lines, markers, strict=True):
            if mark is not None and mark.kind == top_kind and mark.indent == top_indent:
                current = [mark.rest]
                raw.append("")  # filled in below
                blank_since_item = False
            elif current is None:
                continue  # preamble
            elif not line.strip():
                blank_since_item = True
                current.append("")
            elif not blank_since_item or line[:1] in (" ", "\t"):
                current.append(line)
            else:
                current = None  # trailing prose ends the list item
            if current is not None:
                raw[-1] = "\n".join(current)
    else:
        raw = [line for line in lines if line.strip()]

    items: list[str] = []
    seen: set[str] = set()
    for chunk in raw:
        item = _strip_quotes(_dedent(chunk))
        if item and item not in seen:
            seen.add(item)
            items.append(item)
    if len(items) < min_len:
        if not text.strip():
            raise ExtractError("empty output: expected a list")
        raise ExtractError(
            f"expected a list of at least {min_len} item{'s' if min_len != 1 else ''}, "
            f"found {len(items)}"
        )
    return items


def _dedent(chunk: str) -> str:
    """Strip each line of a multi-line item and drop blank edges, keeping inner lines."""
    lines = [line.strip() for line in chunk.split("\n")]
    return "\n".join(lines).strip()


# --------------------------------------------------------------------------- fences


@dataclass(frozen=True)
class _Fence:
    info: str
    body: str
    closed: bool


_FENCE_OPEN_RE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*?)[ \t]*$"
)


def _fenced_blocks(text: str) -> list[_Fence]:
    """Every fenced code block (CommonMark-style ``` or ~~~ fences), in order.

    A closing fence uses the opening character, at least as many times, and nothing
    else on its line. Unlike CommonMark, fences may be indented any amount (LLMs put
    code inside list items); the opening fence's indentation is removed from the code
    lines. A block left open runs to the end of the text; if its last line ends with
    the fence (``code```), that fence is cut off.
    """
    lines = text.splitlines()
    blocks: list[_Fence] = []
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN_RE.match(lines[i])
        if m is None or (m.group("fence")[0] == "`" and "`" in m.group("info")):
            i += 1
            continue
        fence = m.group("fence")
        info = m.group("info")
        indent = m.group("indent")
        close_re = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        j = i + 1
        closed = False
        while j < len(lines):
            if close_re.match(lines[j]):
                closed = True
                break
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip(" \t"))
            j += 1
        if not closed:
            while body and not body[-1].strip():
                body.pop()
            if body and body[-1].rstrip().endswith(fence):
                body[-1] = body[-1].rstrip()[: -len(fence)]
                if not body[-1].strip():
                    body.pop()
        blocks.append(_Fence(info, "\n".join(body), closed))
        i = j + 1
    return blocks


def _fence_language(info: str) -> str:
    """The language named by an info string: ``python``, ``{.py}`` and ``py title=x`` give py."""
    first = info.split()[0] if info.split() else ""
    return first.strip("{}.").lower()


_LANGUAGE_ALIASES: dict[str, frozenset[str]] = {
    "python": frozenset({"python", "py", "python3", "py3"}),
    "javascript": frozenset({"javascript", "js", "node", "mjs"}),
    "typescript": frozenset({"typescript", "ts"}),
    "bash": frozenset({"bash", "sh", "shell", "zsh", "console"}),
    "c++": frozenset({"c++", "cpp", "cxx", "cc"}),
    "csharp": frozenset({"csharp", "c#", "cs"}),
    "rust": frozenset({"rust", "rs"}),
    "go": frozenset({"go", "golang"}),
    "yaml": frozenset({"yaml", "yml"}),
    "json": frozenset({"json", "jsonc", "json5"}),
    "markdown": frozenset({"markdown", "md"}),
}


def _aliases(language: str) -> frozenset[str]:
    lang = language.strip().lower()
    for names in _LANGUAGE_ALIASES.values():
        if lang in names:
            return names
    return frozenset({lang})


def extract_code(text: str, language: str | None = None) -> str:
    """The code of a fenced block in an LLM completion.

    With ``language`` (``"python"`` also accepts ``py``, ``python3``; other common
    aliases likewise), the first block tagged with that language wins; failing that, the
    first untagged block; failing that, the first block. With ``language=None``, the
    first block. Handles ``` and ~~~ fences of any length and a final fence that was
    never closed (the rest of the text is the code).

    Raises ``ExtractError`` when the text holds no fenced block.
    """
    blocks = _fenced_blocks(text)
    if not blocks:
        raise ExtractError("no fenced code block found")
    if language is not None:
        wanted = _aliases(language)
        for block in blocks:
            if _fence_language(block.info) in wanted:
                return block.body
        for block in blocks:
            if not _fence_language(block.info):
                return block.body
    return blocks[0].body


# --------------------------------------------------------------------------- JSON

_MAX_JSON_SCAN = 2_000_000  # characters scanned for balanced spans before giving up


def _balanced_end(text: str, start: int, budget: list[int]) -> int | None:
    """Index of the bracket closing the one at ``start``, or None.

    String-aware: brackets inside JSON strings (with backslash escapes) do not count.
    None when a closing bracket does not match, or the text ends first. ``budget``
    holds the characters still allowed to scan, shared by all calls.
    """
    closer = {"{": "}", "[": "]"}
    stack: list[str] = []
    in_string = False
    escaped = False
    for i in range(start, len(text)):
        budget[0] -= 1
        if budget[0] < 0:
            return None
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in closer:
            stack.append(closer[ch])
        elif ch in "}]":
            if not stack or stack.pop() != ch:
                return None
            if not stack:
                return i
    return None


def extract_json(text: str) -> Any:
    """The first JSON value in an LLM completion.

    Tried in order: the whole text; each ```json fenced block, then each other fenced
    block; then the first balanced ``{...}`` or ``[...]`` span (string-aware, so braces in
    JSON strings do not count) that parses, scanning from left to right. A span that
    does not parse is skipped and the scan goes on inside it, so an object nested in
    broken JSON can still be found.

    Raises ``ExtractError`` when nothing parses.
    """
    stripped = text.strip()
    if not stripped:
        raise ExtractError("empty output: expected JSON")
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    blocks = _fenced_blocks(text)
    tagged = [b for b in blocks if _fence_language(b.info) in _LANGUAGE_ALIASES["json"]]
    others = [b for b in blocks if b not in tagged]
    for block in tagged + others:
        try:
            return json.loads(block.body)
        except ValueError:
            continue
    budget = [_MAX_JSON_SCAN]
    saw_bracket = False
    for start, ch in enumerate(text):
        if ch not in "{[":
            continue
        saw_bracket = True
        end = _balanced_end(text, start, budget)
        if budget[0] < 0:
            break
        if end is None:
            continue
        try:
            return json.loads(text[start : end + 1])
        except ValueError:
            continue
    if not saw_bracket:
        raise ExtractError("no JSON found: no object or array in the output")
    raise ExtractError("no JSON found: no object or array in the output parses")
