"""Bounds on what a template may compute: no render can exhaust memory.

Jinja's sandbox stops attribute escapes but not arithmetic: ``{{ 'a' * 10**10 }}`` asks
for 10 GB, and Jinja's optimizer would even fold it while compiling. ``BoundedSandbox``
intercepts the operators that grow values (``*``, ``**``, ``+``, ``%``), so they are
never folded at compile time and are checked before they run; wraps every filter and
checks every call (``'x'.ljust(10**9)``) on the size of its arguments and result; and
``render_bounded`` caps the text one render produces. ``constant_problems`` finds the
constant expressions in a template that break a bound, so ``validate`` refuses them at
their line instead of each record failing at run time.

Input: templates' ASTs and runtime values. Output: values, or ``SecurityError`` (a
``jinja2`` error, so a render fails with a message, never a traceback).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "MAX_RENDER_CHARS",
    "MAX_VALUE_SIZE",
    "BoundedSandbox",
    "constant_problems",
    "render_bounded",
]

MAX_VALUE_SIZE = 1_000_000
"""Longest string or list one operation or call may make."""

MAX_RENDER_CHARS = 4_000_000
"""Longest text one render may produce."""

_MAX_POWER_BITS = 4096  # an integer power may have at most this many bits

_GROWING = {"*": "repeat", "+": "join", "%": "format", "**": "power"}


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple) else 0


def _too_big(what: str, size: int) -> SecurityError:
    return SecurityError(
        f"{what} would make a value of {size:,} items (the limit is {MAX_VALUE_SIZE:,})"
    )


def _check_binop(op: str, left: Any, right: Any) -> None:
    """Raise before an operation whose result would be too large."""
    if op == "*":
        for seq, n in ((left, right), (right, left)):
            if _size(seq) and isinstance(n, int) and _size(seq) * max(n, 0) > MAX_VALUE_SIZE:
                raise _too_big("'*'", _size(seq) * n)
    elif op == "+":
        if _size(left) + _size(right) > MAX_VALUE_SIZE:
            raise _too_big("'+'", _size(left) + _size(right))
    elif op == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            bits = right * math.log2(abs(left))
            if bits > _MAX_POWER_BITS:
                raise SecurityError(
                    f"'**' would make a number of about {bits:,.0f} bits "
                    f"(the limit is {_MAX_POWER_BITS:,})"
                )
    elif op == "%" and isinstance(left, str):
        _check_args("format", left, (), {})
        if "*" in left:  # '%*d' takes its width from the arguments
            values = right if isinstance(right, tuple) else (right,)
            _check_args("center", None, values, {})


_PERCENT_FIELD = re.compile(r"%[-+ #0]*(\d+)?(?:\.(\d+))?")
_BRACE_FIELD = re.compile(r"\{[^{}:]*:[^{}\d]*(\d+)?(?:\.(\d+))?[^{}]*\}")

# Calls and filters whose number arguments are sizes of what they make.
_SIZED = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "indent", "wordwrap"})
_FORMATS = frozenset({"format", "format_map"})


def _format_width(fmt: str) -> int:
    """The largest field width or precision in a %-format or {}-format string."""
    widest = 0
    for pattern in (_PERCENT_FIELD, _BRACE_FIELD):
        for match in pattern.finditer(fmt):
            for digits in match.groups():
                if digits:
                    widest = max(widest, int(digits) if len(digits) < 20 else 10**20)
    return widest


def _check_args(name: str, subject: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse a call that would allocate a huge value before it runs: a size argument
    (``'x'.ljust(10**9)``, ``center``) or a format width (``'%1000000000d'``)."""
    if name in _SIZED:
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_VALUE_SIZE:
                raise _too_big(f"'{name}'", value)
    elif name in _FORMATS and isinstance(subject, str) and _format_width(subject) > MAX_VALUE_SIZE:
        raise _too_big(f"'{name}'", _format_width(subject))


def _check_result(what: str, value: Any) -> Any:
    if _size(value) > MAX_VALUE_SIZE:
        raise _too_big(what, _size(value))
    return value


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    # The value comes after the context or environment a marked filter is passed.
    skip = 2 if hasattr(func, "jinja_pass_arg") else 1

    @functools.wraps(func)  # keeps the jinja_pass_arg marker
    def bounded(*args: Any, **kwargs: Any) -> Any:
        subject = args[skip - 1] if len(args) >= skip else None
        _check_args(name, subject, args[skip:], kwargs)
        return _check_result(f"filter '{name}'", func(*args, **kwargs))

    return bounded


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox, with the bounds above."""

    intercepted_binops = frozenset(_GROWING)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters = _BoundedFilters(self.filters)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        result = super().call_binop(context, operator, left, right)
        return _check_result(f"'{operator}'", result)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``'{:>N}'.format``: refuse a huge width when the method is looked up."""
        f_self = getattr(value, "__self__", None)
        if getattr(value, "__name__", None) in _FORMATS and isinstance(f_self, str):
            _check_args("format", f_self, (), {})
        return super().wrap_str_format(value)

    def call(
        __self,
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        name = getattr(__obj, "__name__", "a call")
        _check_args(name, getattr(__obj, "__self__", None), args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        return _check_result(f"'{name}'", result)


class _BoundedFilters(dict[str, Any]):
    """A filter table whose entries, including ones added later, are bounded."""

    def __init__(self, filters: dict[str, Any]) -> None:
        super().__init__()
        for name, func in filters.items():
            self[name] = func

    def __setitem__(self, name: str, func: Any) -> None:
        super().__setitem__(name, _bounded_filter(name, func))


def render_bounded(chunks: Iterator[str]) -> str:
    """Join a render's chunks, refusing once it passes ``MAX_RENDER_CHARS``."""
    out: list[str] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_RENDER_CHARS:
            raise SecurityError(f"the template produced more than {MAX_RENDER_CHARS:,} characters")
        out.append(chunk)
    return "".join(out)


class _NotConstant(Exception):
    pass


_OPS = {
    nodes.Mul: "*",
    nodes.Add: "+",
    nodes.Mod: "%",
    nodes.Pow: "**",
    nodes.Sub: "-",
    nodes.Div: "/",
    nodes.FloorDiv: "//",
}


def _constant(node: nodes.Node) -> Any:
    """The value of a constant expression, computed within the bounds."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Neg):
        value = _constant(node.node)
        if isinstance(value, int | float):
            return -value
    if isinstance(node, nodes.List | nodes.Tuple):
        items = [_constant(item) for item in node.items]
        return items if isinstance(node, nodes.List) else tuple(items)
    if isinstance(node, nodes.Concat):
        parts = [str(_constant(part)) for part in node.nodes]
        if sum(map(len, parts)) > MAX_VALUE_SIZE:
            raise _too_big("'~'", sum(map(len, parts)))
        return "".join(parts)
    if isinstance(node, nodes.BinExpr) and type(node) in _OPS:
        op = _OPS[type(node)]
        left, right = _constant(node.left), _constant(node.right)
        _check_binop(op, left, right)
        try:
            return _apply(op, left, right)
        except (TypeError, ValueError, ArithmeticError):
            raise _NotConstant from None
    raise _NotConstant


def _apply(op: str, left: Any, right: Any) -> Any:
    if op == "*":
        return left * right
    if op == "+":
        return left + right
    if op == "%":
        return left % right
    if op == "**":
        return left**right
    if op == "-":
        return left - right
    if op == "/":
        return left / right
    return left // right


def constant_problems(ast: nodes.Template) -> list[tuple[int, str]]:
    """``(line, message)`` for each constant expression that breaks a bound."""
    found: list[tuple[int, str]] = []
    for node in ast.find_all((nodes.BinExpr, nodes.Concat)):
        if isinstance(node, nodes.BinExpr) and type(node) not in _OPS:
            continue
        try:
            _constant(node)
        except SecurityError as exc:
            found.append((node.lineno, str(exc)))
        except (_NotConstant, RecursionError):
            continue
    # an outer expression repeats its inner one's problem: keep one per line
    return sorted(set(found))
