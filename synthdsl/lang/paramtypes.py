"""Typed recipe parameters: declarations under ``params:`` and the values they accept.

Input: a recipe's raw ``params:`` block, in either form: the short ``name: default``
(its type inferred from the default) or the long ``name: {type: T, default: V,
description: ..., min: N, max: N, pattern: REGEX, choices: [...]}``. A mapping is the
long form only when it has a ``type`` key and every key is a declaration key.

Output: ``ParamDecl`` values (``parse_decls``), the values a recipe runs with when
nothing is given (``defaults``), a readable name of what a parameter accepts
(``expected``) and, for a value, the diagnostic saying why it does not fit
(``value_problem``). Problems with the declarations themselves (an enum without
choices, a bad or overlong regex, a default that does not fit) are returned as
diagnostics at their positions. Raises nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from synthdsl.errors import Diagnostic, Span
from synthdsl.lang.expr.functions import Regex, compile_regex
from synthdsl.lang.load import Document

__all__ = [
    "DECL_KEYS",
    "MAX_PATTERN",
    "TYPES",
    "ParamDecl",
    "defaults",
    "expected",
    "is_long_form",
    "param_defaults",
    "parse_decls",
    "show_value",
    "value_problem",
]

TYPES = ("string", "integer", "number", "boolean", "list", "mapping", "model", "path", "enum")
"""The types a long-form declaration may name (``any`` is inferred from a null default)."""

DECL_KEYS = frozenset({"type", "default", "description", "min", "max", "pattern", "choices"})
"""The keys of a long-form declaration."""

MAX_PATTERN = 200
"""The longest regex a ``pattern:`` may hold (short patterns stay reviewable and fast)."""

_ARTICLE = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "list": "a list",
    "mapping": "a mapping",
    "model": "a model alias",
    "path": "a path",
    "any": "any value",
}


@dataclass(frozen=True)
class ParamDecl:
    """One declared parameter."""

    name: str
    type: str
    default: Any = None
    required: bool = False  # long form without a default
    description: str = ""
    min: int | float | None = None
    max: int | float | None = None
    pattern: str | None = None
    choices: tuple[Any, ...] | None = None


def is_long_form(value: Any) -> bool:
    """Whether a ``params:`` entry is a long-form declaration."""
    return isinstance(value, dict) and "type" in value and all(k in DECL_KEYS for k in value)


def _infer(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return "any"


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def parse_decls(doc: Document, recipe: str) -> tuple[dict[str, ParamDecl], list[Diagnostic]]:
    """The declarations of ``doc``'s ``params:`` and the problems with them.

    ``recipe`` names the recipe in messages. A declaration with a problem is still
    returned (with what could be read), so that later stages see its name.
    """
    raw = doc.data.get("params")
    decls: dict[str, ParamDecl] = {}
    diags: list[Diagnostic] = []
    if not isinstance(raw, dict):
        return decls, diags
    for key, entry in raw.items():
        name = str(key)
        if not is_long_form(entry):
            decls[name] = ParamDecl(name, _infer(entry), entry)
            continue
        where = ("params", name)
        kind = str(entry["type"])
        pattern = entry.get("pattern")
        if pattern is not None:
            problem = _pattern_problem(pattern)
            if problem:
                diags.append(Diagnostic(doc.spans.value((*where, "pattern")), problem))
                pattern = None
        choices = entry.get("choices")
        if kind == "enum" and not choices:
            diags.append(
                Diagnostic(
                    doc.spans.value((*where, "type")),
                    f"parameter '{name}' is an enum but lists no 'choices'",
                    "add e.g. 'choices: [a, b]'",
                )
            )
        decl = ParamDecl(
            name,
            kind,
            entry.get("default"),
            "default" not in entry,
            str(entry.get("description") or ""),
            _number(entry.get("min")),
            _number(entry.get("max")),
            str(pattern) if pattern is not None else None,
            tuple(choices) if isinstance(choices, list) and choices else None,
        )
        decls[name] = decl
        if not decl.required:
            span = doc.spans.value((*where, "default"))
            bad_default = value_problem(decl, recipe, decl.default, span)
            if bad_default is not None:
                diags.append(bad_default)
    return decls, diags


def _pattern_problem(pattern: Any) -> str | None:
    if not isinstance(pattern, str):
        return "a 'pattern' must be a string (a regular expression)"
    if len(pattern) > MAX_PATTERN:
        return f"pattern is {len(pattern)} characters long; keep it under {MAX_PATTERN}"
    try:
        _whole(pattern)
    except re.error as exc:
        return f"bad regular expression {pattern!r}: {exc}"
    return None


def _whole(pattern: str) -> Regex:
    """``pattern`` matching a whole string, on the recipe regex engine (RE2)."""
    return compile_regex(f"^(?:{pattern})$")


def defaults(decls: dict[str, ParamDecl]) -> dict[str, Any]:
    """Each parameter that has a default, with it."""
    return {n: d.default for n, d in decls.items() if not d.required}


def param_defaults(raw: Any) -> dict[str, Any]:
    """From a raw ``params:`` block, each parameter with the value it stands for when
    checking the recipe alone: its default, or for a required one a stand-in value of
    its type (so that ``${name}`` checks as a value of the right type)."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    for name, entry in raw.items():
        if not is_long_form(entry):
            out[str(name)] = entry
        elif "default" in entry:
            out[str(name)] = entry["default"]
        else:
            out[str(name)] = _stand_in(entry)
    return out


def _stand_in(entry: dict[str, Any]) -> Any:
    choices = entry.get("choices")
    if isinstance(choices, list) and choices:
        return choices[0]
    low = _number(entry.get("min"))
    kind = entry.get("type")
    if kind == "integer":
        return int(low) if low is not None else 1
    if kind == "number":
        return float(low) if low is not None else 1.0
    return {"boolean": False, "list": [], "mapping": {}}.get(str(kind), "x")


def expected(decl: ParamDecl) -> str:
    """What ``decl`` accepts, in words: ``an integer >= 1``, ``one of 'qa', 'cot'``."""
    if decl.type == "enum" or (decl.choices and decl.type not in ("list", "mapping")):
        options = ", ".join(show_value(c) for c in decl.choices or ())
        return f"one of {options}" if options else "one of its choices (none are listed)"
    text = _ARTICLE.get(decl.type, f"a {decl.type}")
    if decl.min is not None and decl.max is not None:
        text += f" from {decl.min} to {decl.max}"
    elif decl.min is not None:
        text += f" >= {decl.min}"
    elif decl.max is not None:
        text += f" <= {decl.max}"
    if decl.pattern is not None:
        text += f" matching {decl.pattern!r}"
    return text


def _fits(decl: ParamDecl, value: Any) -> bool:
    kind = decl.type
    if kind == "any":
        return True
    if kind == "enum" or decl.choices:
        options = decl.choices or ()
        return value in options and type(value) in {type(c) for c in options}
    if kind in ("string", "model", "path"):
        if not isinstance(value, str) or (kind != "string" and not value):
            return False
        return decl.pattern is None or _whole(decl.pattern).search(value) is not None
    if kind in ("integer", "number"):
        num = _number(value)
        if num is None or (kind == "integer" and not isinstance(num, int)):
            return False
        return (decl.min is None or num >= decl.min) and (decl.max is None or num <= decl.max)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "mapping":
        return isinstance(value, dict)
    return False


def value_problem(decl: ParamDecl, recipe: str, value: Any, span: Span | None) -> Diagnostic | None:
    """The diagnostic for ``value`` given to ``decl`` at ``span``, or None when it fits."""
    if _fits(decl, value):
        return None
    hint = None
    if isinstance(value, str) and decl.type in ("integer", "number") and _looks_numeric(value):
        hint = "write the number without quotes"
    return Diagnostic(
        span,
        f"parameter '{decl.name}' of recipe '{recipe}' must be {expected(decl)}, "
        f"got {show_value(value)}",
        hint,
    )


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def show_value(value: Any) -> str:
    """A value as it reads in a message: ``'lots'``, ``3``, ``true``, ``null``, ``a list``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
