"""The whitelist of functions a filter expression may call.

Input: argument values already evaluated on one record. Output: the function's value.
Errors: an implementation raises ``FunctionArgError`` (a plain message such as
"expects a string, got int"); ``evaluate.py`` turns it into ``ExpressionRuntimeError``
naming the call. Names and arities are checked at parse time by ``parser.py``.

``exists`` is a special form: its argument must be a field path and is not evaluated
the normal way (a missing field gives False instead of an error); it has no
implementation here.

The list, with the documentation each entry carries, is in ``FUNCTION_SPECS``; the
package docstring (``synthdsl/expr/__init__.py``) describes them for users.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, cast

__all__ = [
    "FUNCTION_SPECS",
    "FunctionArgError",
    "FunctionSpec",
    "compile_regex",
    "is_number",
    "type_name",
]


class FunctionArgError(Exception):
    """An argument has the wrong type or value; the message says which and why."""


@dataclass(frozen=True)
class FunctionSpec:
    """One whitelisted function: arity bounds (``max_args`` None: no bound) and doc."""

    name: str
    min_args: int
    max_args: int | None
    impl: Callable[..., Any] | None
    signature: str
    doc: str

    def arity_text(self) -> str:
        """``"1 argument"``, ``"1 or 2 arguments"``, ``"at least 1 argument"``."""
        low, high = self.min_args, self.max_args
        if high is None:
            return f"at least {low} argument{'s' if low != 1 else ''}"
        if low == high:
            return f"{low} argument{'s' if low != 1 else ''}"
        return f"{low} to {high} arguments" if high - low > 1 else f"{low} or {high} arguments"


def type_name(value: object) -> str:
    """The user-facing (JSON-flavoured) type name of a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def is_number(value: object) -> bool:
    """True for int and float, not for bool."""
    kind = type(value)
    if kind is int or kind is float:
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool)


MAX_REGEX_CHARS = 1000
"""Longest regular expression a recipe may hold."""

_RE2_MEMORY = 8 << 20  # bytes of compiled program per pattern


class Regex(Protocol):
    """What recipe code uses of a compiled pattern (``re2`` and ``re`` agree on it)."""

    def search(self, text: str) -> object | None: ...


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str) -> Regex:
    """A recipe's regular expression, compiled for RE2: matching takes linear time in the
    text whatever the pattern (``(a+)+$`` cannot hang a run). Raises ``re.error`` for a
    bad pattern, one RE2 cannot run (backreferences, lookaround) or one too long."""
    import re2  # imported on first use: recipes without regexes never load it

    if len(pattern) > MAX_REGEX_CHARS:
        raise re.error(f"pattern longer than {MAX_REGEX_CHARS} characters")
    options = re2.Options()
    options.log_errors = False
    options.max_mem = _RE2_MEMORY
    try:
        return cast(Regex, re2.compile(pattern, options))
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        raise re.error(
            f"{text} (recipe regexes run on RE2, in linear time: no backreferences or lookaround)"
        ) from None


def _str_arg(value: object, what: str = "a string") -> str:
    if isinstance(value, str):
        return value
    raise FunctionArgError(f"expects {what}, got {type_name(value)}")


def _num_arg(value: object) -> float | int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise FunctionArgError(f"expects a number, got {type_name(value)}")


def _list_arg(value: object) -> list[Any] | tuple[Any, ...]:
    if isinstance(value, (list, tuple)):
        return value
    raise FunctionArgError(f"expects a list, got {type_name(value)}")


def _len(value: object) -> int:
    if isinstance(value, (str, list, tuple, Mapping)):
        return len(value)
    raise FunctionArgError(f"expects a string, list or object, got {type_name(value)}")


def _words(value: object) -> int:
    if isinstance(value, str):
        return len(value.split())
    raise FunctionArgError(f"expects a string, got {type_name(value)}")


def _entropy(value: object) -> float:
    """Shannon entropy in bits of the token distribution of a string (0 for <2 tokens)."""
    from synthdsl.textproc.tokens import token_entropy  # tokenizer tables load on first use

    return token_entropy(_str_arg(value))


def _lines(value: object) -> int:
    return len(_str_arg(value).splitlines())


def _chars(value: object) -> int:
    return len(_str_arg(value))


def _lower(value: object) -> str:
    return _str_arg(value).lower()


def _upper(value: object) -> str:
    return _str_arg(value).upper()


def _strip(value: object) -> str:
    return _str_arg(value).strip()


def _contains(container: object, item: object) -> bool:
    if isinstance(container, str):
        return _str_arg(item, "a string as second argument") in container
    if isinstance(container, (list, tuple)):
        return item in container
    raise FunctionArgError(f"expects a string or list, got {type_name(container)}")


def _startswith(value: object, prefix: object) -> bool:
    return _str_arg(value).startswith(_str_arg(prefix, "a string prefix"))


def _endswith(value: object, suffix: object) -> bool:
    return _str_arg(value).endswith(_str_arg(suffix, "a string suffix"))


def _matches(value: object, pattern: object) -> bool:
    text = _str_arg(value)
    source = _str_arg(pattern, "a regex string as second argument")
    try:
        compiled = compile_regex(source)
    except re.error as exc:
        raise FunctionArgError(f"invalid regex {source!r}: {exc}") from None
    return compiled.search(text) is not None


def _int(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FunctionArgError(f"cannot convert {value} to int")
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise FunctionArgError(f"cannot convert {value!r} to int") from None
    raise FunctionArgError(f"cannot convert {type_name(value)} to int")


def _float(value: object) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise FunctionArgError(f"cannot convert {value!r} to float") from None
    raise FunctionArgError(f"cannot convert {type_name(value)} to float")


def _str(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, list, tuple, Mapping)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def _abs(value: object) -> int | float:
    return abs(_num_arg(value))


def _comparable(values: list[Any] | tuple[Any, ...], name: str) -> list[Any]:
    if not values:
        raise FunctionArgError(f"{name}() of an empty list")
    if all(is_number(v) for v in values) or all(isinstance(v, str) for v in values):
        return list(values)
    kinds = sorted({type_name(v) for v in values})
    raise FunctionArgError(f"expects all numbers or all strings, got {', '.join(kinds)}")


def _min(*args: object) -> Any:
    values = _list_arg(args[0]) if len(args) == 1 else args
    return min(_comparable(values, "min"))


def _max(*args: object) -> Any:
    values = _list_arg(args[0]) if len(args) == 1 else args
    return max(_comparable(values, "max"))


def _round(value: object, ndigits: object = None) -> int | float:
    number = _num_arg(value)
    if ndigits is None:
        return round(number)
    if type(ndigits) is not int:
        raise FunctionArgError(f"expects an int number of digits, got {type_name(ndigits)}")
    return round(number, ndigits)


def _any(value: object) -> bool:
    return any(_list_arg(value))


def _all(value: object) -> bool:
    return all(_list_arg(value))


def _spec(
    name: str,
    arity: tuple[int, int | None],
    impl: Callable[..., Any] | None,
    signature: str,
    doc: str,
) -> FunctionSpec:
    return FunctionSpec(name, arity[0], arity[1], impl, signature, doc)


_SPECS = [
    _spec("len", (1, 1), _len, "len(x)", "length of a string, list or object"),
    _spec("words", (1, 1), _words, "words(s)", "number of whitespace-separated words"),
    _spec("lines", (1, 1), _lines, "lines(s)", "number of lines ('' has 0)"),
    _spec(
        "entropy",
        (1, 1),
        _entropy,
        "entropy(s)",
        "Shannon entropy (bits) of the distribution of the string's word tokens",
    ),
    _spec("chars", (1, 1), _chars, "chars(s)", "number of characters of a string"),
    _spec("lower", (1, 1), _lower, "lower(s)", "lower-cased string"),
    _spec("upper", (1, 1), _upper, "upper(s)", "upper-cased string"),
    _spec("strip", (1, 1), _strip, "strip(s)", "string without surrounding whitespace"),
    _spec(
        "contains",
        (2, 2),
        _contains,
        "contains(s, sub)",
        "substring test for strings, membership test for lists",
    ),
    _spec("startswith", (2, 2), _startswith, "startswith(s, prefix)", "prefix test"),
    _spec("endswith", (2, 2), _endswith, "endswith(s, suffix)", "suffix test"),
    _spec(
        "matches",
        (2, 2),
        _matches,
        "matches(s, regex)",
        "re.search: true when the regex matches anywhere in s",
    ),
    _spec("int", (1, 1), _int, "int(x)", "integer from a number, bool or numeric string"),
    _spec("float", (1, 1), _float, "float(x)", "float from a number, bool or numeric string"),
    _spec(
        "str",
        (1, 1),
        _str,
        "str(x)",
        "text of a value; null, booleans, lists and objects as JSON",
    ),
    _spec("abs", (1, 1), _abs, "abs(x)", "absolute value of a number"),
    _spec("min", (1, None), _min, "min(list) / min(a, b, ...)", "smallest value"),
    _spec("max", (1, None), _max, "max(list) / max(a, b, ...)", "largest value"),
    _spec("round", (1, 2), _round, "round(x[, digits])", "rounded number (int without digits)"),
    _spec("any", (1, 1), _any, "any(list)", "true when some item is truthy"),
    _spec("all", (1, 1), _all, "all(list)", "true when every item is truthy"),
    _spec(
        "exists",
        (1, 1),
        None,
        "exists(field)",
        "true when the field path is present (even if null); never raises",
    ),
]

FUNCTION_SPECS: Mapping[str, FunctionSpec] = MappingProxyType({s.name: s for s in _SPECS})
"""Every whitelisted function by name."""
