"""Filter-expression evaluation: AST → nested Python closures → value.

Input: a checked AST root (``parser.py``) and the expression's source text (for error
messages). Output: ``compile_expression`` returns a function ``record -> value``; it is
built once per expression and costs about a microsecond per small expression, because
each node becomes one closure and constants are folded into their users. Never uses
``eval``/``exec``.

Errors: the returned function raises ``ExpressionRuntimeError`` for a missing field or
key, an index out of range, a type error (``"a" < 3``, ``null > 1``, ``"a" - 1``), a
division by zero or a function given a bad argument; the message names the field or
operator and quotes the sub-expression.

Semantics: ``and``/``or`` short-circuit and return an operand (as in Python); ``==``
never raises and a boolean only equals a boolean; ``< <= > >=`` compare two numbers or
two strings, anything else raises; ``in`` tests substrings, list items or object keys;
``+`` adds numbers or joins two strings or two lists; ``- * / %`` take numbers, ``/`` is
true division.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from synthdsl.errors import did_you_mean
from synthdsl.lang.expr.ast import (
    Attr,
    BinOp,
    BoolOp,
    Call,
    Compare,
    Field,
    Index,
    ListLit,
    Literal,
    Node,
    Not,
    Unary,
)
from synthdsl.lang.expr.errors import ExpressionRuntimeError
from synthdsl.lang.expr.functions import (
    FUNCTION_SPECS,
    FunctionArgError,
    Regex,
    compile_regex,
    is_number,
    type_name,
)

__all__ = ["Evaluator", "compile_expression", "values_equal"]

Evaluator = Callable[[Mapping[str, Any]], Any]
Binary = Callable[[Any, Any], Any]

_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FAST_KEY_TYPES = (str, int, float)
# Errors a function implementation may let through besides FunctionArgError.
_FUNCTION_ERRORS = (FunctionArgError, ArithmeticError, ValueError, TypeError)


def values_equal(left: Any, right: Any) -> bool:
    """``==`` of the language: like Python's, except a boolean only equals a boolean."""
    if type(left) is bool or type(right) is bool:
        return type(left) is type(right) and left == right
    return bool(left == right)


def compile_expression(root: Node, source: str) -> Evaluator:
    """The function evaluating ``root`` on a record (see the module docstring)."""
    return _Compiler(source).compile(root)


class _Compiler:
    def __init__(self, source: str) -> None:
        self.source = source

    def snippet(self, node: Node) -> str:
        return self.source[node.pos.start : node.pos.end]

    def error(self, message: str) -> ExpressionRuntimeError:
        return ExpressionRuntimeError(message, expression=self.source)

    def compile(self, node: Node) -> Evaluator:
        if isinstance(node, Literal):
            return _constant(node.value)
        if isinstance(node, ListLit):
            return self.compile_list(node)
        if isinstance(node, Field):
            return self.compile_field(node)
        if isinstance(node, Attr):
            return self.compile_attr(node)
        if isinstance(node, Index):
            return self.compile_index(node)
        if isinstance(node, Unary):
            return self.compile_unary(node)
        if isinstance(node, Not):
            operand = self.compile(node.operand)
            return lambda record: not operand(record)
        if isinstance(node, BoolOp):
            return self.compile_boolop(node)
        if isinstance(node, BinOp):
            return self.compile_binop(node)
        if isinstance(node, Compare):
            return self.compile_compare(node)
        return self.compile_call(node)

    # Values -------------------------------------------------------------------
    def compile_list(self, node: ListLit) -> Evaluator:
        items = tuple(self.compile(item) for item in node.items)
        return lambda record: [item(record) for item in items]

    def compile_field(self, node: Field) -> Evaluator:
        name = node.name
        error = self.error

        def field(record: Mapping[str, Any]) -> Any:
            try:
                return record[name]
            except KeyError:
                keys = [key for key in record if isinstance(key, str)]
                hint = did_you_mean(name, keys)
                suffix = f" ({hint})" if hint else ""
                raise error(f"record has no field '{name}'{suffix}") from None

        return field

    def compile_attr(self, node: Attr) -> Evaluator:
        obj_fn = self.compile(node.obj)
        name = node.name
        path = self.snippet(node)
        base = self.snippet(node.obj)
        error = self.error

        def attr(record: Mapping[str, Any]) -> Any:
            obj = obj_fn(record)
            if isinstance(obj, Mapping):
                try:
                    return obj[name]
                except KeyError:
                    raise error(
                        f"field '{path}' is missing: '{base}' has no key '{name}'"
                    ) from None
            raise error(f"cannot read '.{name}' of {type_name(obj)} '{base}' in '{path}'")

        return attr

    def compile_index(self, node: Index) -> Evaluator:
        obj_fn = self.compile(node.obj)
        key_fn = self.compile(node.index)
        path = self.snippet(node)
        error = self.error

        def index(record: Mapping[str, Any]) -> Any:
            obj = obj_fn(record)
            key = key_fn(record)
            if isinstance(obj, (list, tuple, str)):
                if type(key) is not int:
                    raise error(
                        f"a {type_name(obj)} index must be an int, got {type_name(key)} in '{path}'"
                    )
                try:
                    return obj[key]
                except IndexError:
                    raise error(
                        f"index {key} is out of range for a {type_name(obj)} of length "
                        f"{len(obj)} in '{path}'"
                    ) from None
            if isinstance(obj, Mapping):
                try:
                    return obj[key]
                except (KeyError, TypeError):
                    raise error(f"key {key!r} is missing in '{path}'") from None
            raise error(f"cannot index a {type_name(obj)} value in '{path}'")

        return index

    # Operators ----------------------------------------------------------------
    def compile_unary(self, node: Unary) -> Evaluator:
        operand = self.compile(node.operand)
        op = node.op
        where = self.snippet(node)
        error = self.error

        def unary(record: Mapping[str, Any]) -> Any:
            value = operand(record)
            if is_number(value):
                return -value if op == "-" else value
            raise error(f"unary '{op}' needs a number, got {type_name(value)} in '{where}'")

        return unary

    def compile_boolop(self, node: BoolOp) -> Evaluator:
        left = self.compile(node.left)
        right = self.compile(node.right)
        if node.op == "and":
            return lambda record: left(record) and right(record)
        return lambda record: left(record) or right(record)

    def compile_binop(self, node: BinOp) -> Evaluator:
        left = self.compile(node.left)
        right = self.compile(node.right)
        op = node.op
        where = self.snippet(node)
        error = self.error

        def fail(a: Any, b: Any) -> ExpressionRuntimeError:
            return error(
                f"'{op}' is not supported between {type_name(a)} and {type_name(b)} in '{where}'"
            )

        if op == "+":

            def add(record: Mapping[str, Any]) -> Any:
                a = left(record)
                b = right(record)
                if (is_number(a) and is_number(b)) or (
                    type(a) is type(b) and isinstance(a, (str, list))
                ):
                    return a + b
                raise fail(a, b)

            return add

        if op in ("/", "%"):
            divide: Binary = operator.truediv if op == "/" else operator.mod

            def div(record: Mapping[str, Any]) -> Any:
                a = left(record)
                b = right(record)
                if not (is_number(a) and is_number(b)):
                    raise fail(a, b)
                if b == 0:
                    raise error(f"division by zero in '{where}'")
                return divide(a, b)

            return div

        apply: Binary = operator.sub if op == "-" else operator.mul

        def arith(record: Mapping[str, Any]) -> Any:
            a = left(record)
            b = right(record)
            if is_number(a) and is_number(b):
                return apply(a, b)
            raise fail(a, b)

        return arith

    def compile_compare(self, node: Compare) -> Evaluator:
        where = self.snippet(node)
        tests = [
            self.comparison(op, where, right)
            for op, right in zip(node.ops, node.operands[1:], strict=True)
        ]
        if len(tests) == 1:
            return self.compare_pair(node, tests[0])
        first = self.compile(node.operands[0])
        rest = [
            (test, self.compile(right))
            for test, right in zip(tests, node.operands[1:], strict=True)
        ]

        def chain(record: Mapping[str, Any]) -> bool:
            left = first(record)
            for test, right_fn in rest:
                right = right_fn(record)
                if not test(left, right):
                    return False
                left = right
            return True

        return chain

    def compare_pair(self, node: Compare, test: Binary) -> Evaluator:
        left_node, right_node = node.operands
        left = self.compile(left_node)
        if isinstance(right_node, Literal):
            constant = right_node.value
            compare = _ORDER_OPS.get(node.ops[0])
            if compare is not None and type(constant) in (int, float):
                # Hot path of most filters: ``field <op> number``.
                def against_number(record: Mapping[str, Any]) -> Any:
                    value = left(record)
                    kind = type(value)
                    if kind is int or kind is float:
                        return compare(value, constant)
                    return test(value, constant)

                return against_number
            return lambda record: test(left(record), constant)
        right = self.compile(right_node)
        return lambda record: test(left(record), right(record))

    def comparison(self, op: str, where: str, right_node: Node) -> Binary:
        """The two-value test for ``op``; raises on incomparable values."""
        error = self.error
        if op == "==":
            return values_equal
        if op == "!=":
            return lambda a, b: not values_equal(a, b)
        if op in ("in", "not in"):
            contains = self.membership(where, right_node)
            if op == "in":
                return contains
            return lambda a, b: not contains(a, b)
        compare = _ORDER_OPS[op]

        def ordered(a: Any, b: Any) -> bool:
            ta = type(a)
            tb = type(b)
            if ((ta is int or ta is float) and (tb is int or tb is float)) or (
                ta is str and tb is str
            ):
                return compare(a, b)
            if (is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str)):
                return compare(a, b)
            raise error(
                f"cannot compare {type_name(a)} with {type_name(b)} using '{op}' in '{where}'"
            )

        return ordered

    def membership(self, where: str, right_node: Node) -> Binary:
        error = self.error
        fast: frozenset[Any] | None = None
        if isinstance(right_node, ListLit) and all(
            isinstance(item, Literal) and type(item.value) in _FAST_KEY_TYPES
            for item in right_node.items
        ):
            fast = frozenset(item.value for item in right_node.items if isinstance(item, Literal))

        def contains(item: Any, container: Any) -> bool:
            if fast is not None and type(item) in _FAST_KEY_TYPES:
                return item in fast
            if isinstance(container, str):
                if isinstance(item, str):
                    return item in container
                raise error(
                    f"'in' a string needs a string on the left, got {type_name(item)} in '{where}'"
                )
            if isinstance(container, (list, tuple)):
                return any(values_equal(item, element) for element in container)
            if isinstance(container, Mapping):
                try:
                    return item in container
                except TypeError:
                    return False
            raise error(
                f"'in' needs a list, string or object on the right, got "
                f"{type_name(container)} in '{where}'"
            )

        return contains

    # Calls --------------------------------------------------------------------
    def compile_call(self, node: Call) -> Evaluator:
        name = node.name
        where = self.snippet(node)
        error = self.error
        if name == "exists":
            path = self.compile(node.args[0])

            def exists(record: Mapping[str, Any]) -> bool:
                try:
                    path(record)
                except ExpressionRuntimeError:
                    return False
                return True

            return exists

        spec_impl = FUNCTION_SPECS[name].impl
        if spec_impl is None:  # pragma: no cover - only exists() has no implementation
            raise TypeError(f"function {name} has no implementation")
        impl: Callable[..., Any] = spec_impl
        args = tuple(self.compile(arg) for arg in node.args)

        if name == "matches":
            pattern = node.args[1]
            if isinstance(pattern, Literal) and isinstance(pattern.value, str):
                impl = _literal_matcher(compile_regex(pattern.value))

        def wrap(exc: Exception) -> ExpressionRuntimeError:
            return error(f"{name}() {exc} in '{where}'")

        if len(args) == 1:
            (only,) = args

            def call1(record: Mapping[str, Any]) -> Any:
                try:
                    return impl(only(record))
                except _FUNCTION_ERRORS as exc:
                    raise wrap(exc) from None

            return call1

        if len(args) == 2:
            first, second = args

            def call2(record: Mapping[str, Any]) -> Any:
                try:
                    return impl(first(record), second(record))
                except _FUNCTION_ERRORS as exc:
                    raise wrap(exc) from None

            return call2

        def call(record: Mapping[str, Any]) -> Any:
            try:
                return impl(*[arg(record) for arg in args])
            except _FUNCTION_ERRORS as exc:
                raise wrap(exc) from None

        return call


def _constant(value: Any) -> Evaluator:
    return lambda record: value


def _literal_matcher(pattern: Regex) -> Callable[[Any, Any], bool]:
    search = pattern.search

    def matches(text: Any, _pattern: Any) -> bool:
        if not isinstance(text, str):
            raise FunctionArgError(f"expects a string, got {type_name(text)}")
        return search(text) is not None

    return matches
