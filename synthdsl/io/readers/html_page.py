"""HTML pages: one row of readable text per file, with the stdlib ``html.parser``.

Input: an ``.html``/``.htm`` file and the ``ReadContext`` of the reader driving it.
Output: one row ``{text_field: readable text, "path": relative path, "title": ...}``
(``FIELDS`` names the fields besides the text field), and ``html_to_text`` for markup
already in memory. The bytes are decoded by BOM, else ``<meta charset>``, else UTF-8
(Latin-1 and ASCII labels mean windows-1252, as browsers do). The text drops script,
style, noscript, template, svg, iframe, nav and footer content, puts headings,
paragraphs and other blocks on their own paragraphs (blank line between), list items
and table rows on their own lines, decodes entities and collapses whitespace (except
inside ``<pre>``); ``title`` is the ``<title>``, else the first ``<h1>``, else "".

Raises nothing itself: bytes that do not decode are reported through ``ctx.problem``
(raises ``SourceError`` or skips the file); ``html_to_text`` never raises on ``str``.
``OSError`` passes through.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from synthdsl.io.readers.base import ReadContext

__all__ = ["FIELDS", "html_to_text", "read_html"]

FIELDS = ("path", "title")

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


def read_html(file: Path, ctx: ReadContext) -> Iterator[dict[str, Any]]:
    """``file`` as one row of readable text with its title."""
    try:
        markup = _decode_html(file.read_bytes())
    except (UnicodeDecodeError, LookupError) as exc:
        ctx.problem(file, 0, f"cannot decode the HTML: {exc}")
        return
    text, title = html_to_text(markup)
    yield {ctx.text_field: text, "path": ctx.rel(file), "title": title}
