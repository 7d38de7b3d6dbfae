"""Errors and diagnostics: one place for every failure synthdsl reports.

Input: spans (file, line, col) gathered by the loader, the expression parser and
the template checker. Output: exceptions with exit codes, and one renderer that turns
diagnostics into ``file:line:col: error: ...`` text with the source line and a caret.

Exception tree::

    SynthdslError                 exit 1
    ├── RecipeError               exit 2: the recipe (or the command line) is invalid;
    │                             carries every Diagnostic found in one pass
    └── RunError                  exit 1: a run could not go on
        └── LLMError              one LLM call failed (after retries, or not retryable)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Diagnostic",
    "LLMError",
    "RecipeError",
    "RunError",
    "Span",
    "SynthdslError",
    "closest",
    "did_you_mean",
    "render_diagnostics",
]


@dataclass(frozen=True, order=True)
class Span:
    """A position in a source file; lines and columns count from 1."""

    file: str
    line: int
    col: int

    def shifted(self, line_offset: int, col_offset: int) -> Span:
        """A span inside an embedded text (an inline template or expression).

        ``line_offset``/``col_offset`` are the 0-based offsets of the position within the
        embedded text; the column offset applies only on the embedded text's first line.
        """
        if line_offset == 0:
            return Span(self.file, self.line, self.col + col_offset)
        return Span(self.file, self.line + line_offset, col_offset + 1)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a recipe, with where it is and, maybe, how to fix it."""

    span: Span | None
    message: str
    hint: str | None = None
    severity: str = "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.message)
        return (self.span.file, self.span.line, self.span.col, self.message)


class SynthdslError(Exception):
    """Base of every error synthdsl raises on purpose."""

    exit_code = 1


class RecipeError(SynthdslError):
    """The recipe or the command line is invalid. Holds every diagnostic found, and the
    text of files read under names that are not paths (``pack:NAME@1.0/x.yaml``), so that
    their lines can be quoted."""

    exit_code = 2

    def __init__(
        self, diagnostics: Sequence[Diagnostic], texts: dict[str, str] | None = None
    ) -> None:
        self.diagnostics: list[Diagnostic] = sorted(diagnostics, key=Diagnostic.sort_key)
        self.texts: dict[str, str] = dict(texts or {})
        first = self.diagnostics[0].message if self.diagnostics else "invalid recipe"
        super().__init__(first)

    @classmethod
    def single(cls, span: Span | None, message: str, hint: str | None = None) -> RecipeError:
        return cls([Diagnostic(span, message, hint)])


class RunError(SynthdslError):
    """A run could not go on (provider unreachable, output not writable, ...)."""

    exit_code = 1


@dataclass
class _LLMErrorInfo:
    status: int | None = None
    transient: bool = False
    retry_after: float | None = None
    extra: dict[str, str] = field(default_factory=dict)


class LLMError(RunError):
    """One LLM call failed.

    ``transient`` says whether retrying may help (429, 5xx, timeouts, connection
    errors, malformed or truncated bodies); ``retry_after`` is the server's
    Retry-After in seconds when it sent one; ``kind`` is a short stable label
    ("rate_limit", "server_error", "timeout", "connection", "unreachable", "malformed",
    "bad_request", "auth", "not_found", "missing_api_key", ...) used in rejects and the
    manifest.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        transient: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.transient = transient
        self.status = status
        self.retry_after = retry_after


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name`` (a typo's fix), or None when none is close."""
    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(name.lower())


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """``"did you mean 'x'?"`` for the closest candidate, or None when none is close."""
    match = closest(name, candidates)
    return None if match is None else f"did you mean '{match}'?"


def _source_line(sources: dict[str, str], span: Span) -> str | None:
    text = sources.get(span.file)
    if text is None:
        return None
    lines = text.splitlines()
    if 1 <= span.line <= len(lines):
        return lines[span.line - 1]
    return None


def render_diagnostics(
    diagnostics: Sequence[Diagnostic], sources: dict[str, str], limit: int = 50
) -> str:
    """Render diagnostics as deterministic text, sorted by position.

    ``sources`` maps a span's file name to its text, for the quoted line and caret.
    Past ``limit`` diagnostics, a final line says how many more there are.
    """
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    out: list[str] = []
    for diag in ordered[:limit]:
        where = f"{diag.span}: " if diag.span else ""
        out.append(f"{where}{diag.severity}: {diag.message}")
        if diag.span is not None:
            line = _source_line(sources, diag.span)
            if line is not None:
                expanded = line.replace("\t", " ")
                out.append(f"  {diag.span.line:>4} | {expanded}")
                caret_pad = " " * (max(diag.span.col, 1) - 1)
                out.append(f"       | {caret_pad}^")
        if diag.hint:
            out.append(f"  hint: {diag.hint}")
    if len(ordered) > limit:
        out.append(f"... and {len(ordered) - limit} more")
    n_err = sum(1 for d in ordered if d.severity == "error")
    if n_err:
        out.append(f"{n_err} error{'s' if n_err != 1 else ''} found")
    return "\n".join(out) + "\n"
