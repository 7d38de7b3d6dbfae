"""Filter-expression parser: text → checked AST.

Input: the expression text and, optionally, the ``Span`` where it starts in the recipe
file. Output: the root ``Node`` of the AST (``ast.py``). Errors: ``RecipeError``, raised
once per parse, with diagnostics positioned in the recipe file (the span shifted by the
position inside the expression): one for a syntax error, or every semantic problem
found (unknown function, wrong arity, an argument of the wrong type for a typed
function, invalid regex literal, bad escape, ``exists()``
of something that is not a field, ``None``/``True``/``False`` used instead of
``null``/``true``/``false``).

The lark grammar is ``filter.lark`` next to this module (LALR, positions propagated);
the parser is built once, on first use.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from synthdsl.errors import Diagnostic, RecipeError, Span, did_you_mean
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
    Pos,
    Unary,
    children,
    walk,
)
from synthdsl.lang.expr.functions import TYPE_WORDS, compile_regex, type_matches, type_name
from synthdsl.lang.expr.plugin_functions import function_names, function_spec

__all__ = ["MAX_DEPTH", "build_parser", "iter_fields", "parse_ast", "position_span"]

MAX_DEPTH = 200
"""Deepest AST accepted; deeper expressions are rejected (evaluation recurses)."""

_PREFIX = "invalid filter expression"

# Friendly names of the grammar's regex terminals (string terminals show as 'text').
_TERMINAL_NAMES = {
    "NAME": "a field name",
    "INT": "a number",
    "FLOAT": "a number",
    "STRING": "a string",
    "$END": "end of expression",
}

# Identifiers people write for keywords of other languages.
_KEYWORD_TYPOS = {
    "None": "null",
    "NULL": "null",
    "Null": "null",
    "nil": "null",
    "True": "true",
    "TRUE": "true",
    "False": "false",
    "FALSE": "false",
}
_OPERATOR_TYPOS = {
    "AND": "and",
    "And": "and",
    "OR": "or",
    "Or": "or",
    "NOT": "not",
    "Not": "not",
    "IN": "in",
}
_CHAR_HINTS = {
    "=": "use '==' to compare",
    "&": "use 'and'",
    "|": "use 'or'",
    "!": "use 'not' (or '!=' to compare)",
}

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "/": "/"}
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_HEX_LENGTH = {"x": 2, "u": 4, "U": 8}
_HEX_RE = re.compile(r"[0-9a-fA-F]+")


@functools.cache
def build_parser() -> Lark:
    """The LALR parser of ``filter.lark`` (built once)."""
    grammar = resources.files("synthdsl.lang.expr").joinpath("filter.lark").read_text("utf-8")
    # The basic lexer: keywords (and, or, not, in, ...) are never read as field names.
    return Lark(
        grammar, parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=True
    )


@functools.cache
def _terminal_texts() -> dict[str, str]:
    texts = dict(_TERMINAL_NAMES)
    for terminal in build_parser().terminals:
        if isinstance(terminal.pattern, PatternStr):
            texts[terminal.name] = f"'{terminal.pattern.value}'"
    return texts


def position_span(span: Span | None, line: int, col: int) -> Span:
    """The recipe-file span of the 1-based ``line``/``col`` inside the expression."""
    base = span if span is not None else Span("<expr>", 1, 1)
    return base.shifted(line - 1, col - 1)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


_CLOSERS = {"RPAR": "')'", "RSQB": "']'", "COMMA": "','", "$END": "the end of the expression"}


def _accepted(exc: UnexpectedInput) -> set[str]:
    """Terminals the parser would accept at the error (exact, unlike LALR lookaheads)."""
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        try:
            return set(interactive.accepts())
        except Exception:  # pragma: no cover - fall back to lark's own estimate
            pass
    if isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        return set(exc.expected)
    if isinstance(exc, UnexpectedCharacters):
        return set(exc.allowed or ())
    return set()  # pragma: no cover


def _expected_hint(expected: set[str]) -> str | None:
    if not expected:
        return None
    category: str | None = None
    if "NAME" in expected and "INT" in expected:
        category = (
            "a value: a field name, number, string, true/false/null, a list, '(' or a function call"
        )
    elif "PLUS" in expected and "AND" in expected:
        category = "an operator (and, or, ==, <, in, +, *, ...)"
    if category is not None:
        extras = [text for name, text in _CLOSERS.items() if name in expected]
        if len(extras) == 1:
            return f"expected {category} or {extras[0]}"
        if extras:
            return f"expected {category}, {', '.join(extras[:-1])} or {extras[-1]}"
        return f"expected {category}"
    texts = _terminal_texts()
    items = sorted({texts.get(name, name) for name in expected})
    if len(items) > 12:
        items = [*items[:12], "..."]
    return "expected " + ", ".join(items)


def _syntax_error(text: str, span: Span | None, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        offset = exc.pos_in_stream or 0
        char = text[offset] if offset < len(text) else ""
        where = position_span(span, exc.line, exc.column)
        if char in ("'", '"'):
            return Diagnostic(
                where,
                f"{_PREFIX}: unterminated string",
                f"close the string with {char} on the same line (write \\n for a newline)",
            )
        hint = _CHAR_HINTS.get(char) or _expected_hint(_accepted(exc))
        return Diagnostic(where, f"{_PREFIX}: unexpected character '{char}'", hint)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        token = exc.token
        where = position_span(span, token.line or 1, token.column or 1)
        if token.type == "NAME" and str(token) in _OPERATOR_TYPOS:
            hint = f"keywords are lower-case: '{_OPERATOR_TYPOS[str(token)]}'"
        else:
            hint = _expected_hint(_accepted(exc))
        return Diagnostic(where, f"{_PREFIX}: unexpected '{token}'", hint)
    # End of input reached too early: point just after the last character.
    end = len(text.rstrip())
    line, col = _line_col(text, end)
    expected = _accepted(exc)
    if "RPAR" in expected:
        hint = "a ')' is missing"
    elif "RSQB" in expected:
        hint = "a ']' is missing"
    else:
        hint = _expected_hint(expected)
    return Diagnostic(
        position_span(span, line, col), f"{_PREFIX}: unexpected end of expression", hint
    )


class _Builder:
    """Turns the lark tree into AST nodes, collecting problems along the way."""

    def __init__(self, text: str, span: Span | None) -> None:
        self.text = text
        self.span = span
        self.problems: list[Diagnostic] = []

    def where(self, pos: Pos) -> Span:
        return position_span(self.span, pos.line, pos.col)

    def problem(self, pos: Pos, message: str, hint: str | None = None) -> None:
        self.problems.append(Diagnostic(self.where(pos), message, hint))

    @staticmethod
    def token_pos(token: Token) -> Pos:
        return Pos(token.line or 1, token.column or 1, token.start_pos or 0, token.end_pos or 0)

    @staticmethod
    def tree_pos(tree: Tree[Token]) -> Pos:
        meta = tree.meta
        return Pos(meta.line, meta.column, meta.start_pos, meta.end_pos)

    def build(self, item: Tree[Token] | Token) -> Node:
        if isinstance(item, Token):  # pragma: no cover - the grammar wraps every token
            raise TypeError(f"unexpected token {item!r}")
        kind = str(item.data)
        pos = self.tree_pos(item)
        kids = item.children
        method = getattr(self, f"build_{kind}", None)
        if method is None:  # pragma: no cover - grammar and builder out of sync
            raise TypeError(f"no builder for {kind}")
        node: Node = method(kids, pos)
        return node

    def sub(self, item: Any) -> Node:
        if not isinstance(item, Tree):  # pragma: no cover
            raise TypeError(f"expected a tree, got {item!r}")
        return self.build(item)

    def arguments(self, item: Any) -> tuple[Node, ...]:
        if item is None:
            return ()
        return tuple(self.sub(kid) for kid in item.children)

    # Literals -----------------------------------------------------------------
    def build_int_lit(self, kids: list[Any], pos: Pos) -> Node:
        return Literal(int(kids[0]), pos)

    def build_float_lit(self, kids: list[Any], pos: Pos) -> Node:
        return Literal(float(kids[0]), pos)

    def build_string_lit(self, kids: list[Any], pos: Pos) -> Node:
        return Literal(self.decode_string(str(kids[0]), pos), pos)

    def build_true_lit(self, kids: list[Any], pos: Pos) -> Node:
        return Literal(True, pos)

    def build_false_lit(self, kids: list[Any], pos: Pos) -> Node:
        return Literal(False, pos)

    def build_null_lit(self, kids: list[Any], pos: Pos) -> Node:
        return Literal(None, pos)

    def build_list_lit(self, kids: list[Any], pos: Pos) -> Node:
        return ListLit(self.arguments(kids[0]), pos)

    def decode_string(self, raw: str, pos: Pos) -> str:
        body = raw[1:-1]
        if "\\" not in body:
            return body
        out: list[str] = []
        cursor = 0
        for match in _ESCAPE_RE.finditer(body):
            out.append(body[cursor : match.start()])
            cursor = match.end()
            letter = match.group(1)
            if letter in _ESCAPES:
                out.append(_ESCAPES[letter])
            elif letter in _HEX_LENGTH:
                size = _HEX_LENGTH[letter]
                digits = body[cursor : cursor + size]
                if len(digits) == size and _HEX_RE.fullmatch(digits):
                    code = int(digits, 16)
                    if code <= 0x10FFFF:
                        out.append(chr(code))
                        cursor += size
                        continue
                self.problem(
                    pos,
                    f"{_PREFIX}: invalid escape '\\{letter}{digits}' in string",
                    f"'\\{letter}' takes exactly {size} hex digits",
                )
            else:
                # Unknown escapes stay as written, so regexes like "\d+" work.
                out.append(match.group(0))
        out.append(body[cursor:])
        return "".join(out)

    # Names --------------------------------------------------------------------
    def build_field(self, kids: list[Any], pos: Pos) -> Node:
        name = str(kids[0])
        if name in _KEYWORD_TYPOS:
            self.problem(
                pos,
                f"{_PREFIX}: '{name}' is not a keyword",
                f"did you mean '{_KEYWORD_TYPOS[name]}'?",
            )
        return Field(name, pos)

    def build_attr(self, kids: list[Any], pos: Pos) -> Node:
        return Attr(self.sub(kids[0]), str(kids[1]), pos)

    def build_index(self, kids: list[Any], pos: Pos) -> Node:
        return Index(self.sub(kids[0]), self.sub(kids[1]), pos)

    def build_call(self, kids: list[Any], pos: Pos) -> Node:
        name_token: Token = kids[0]
        call = Call(str(name_token), self.arguments(kids[1]), pos, self.token_pos(name_token))
        self.check_call(call)
        return call

    def check_call(self, call: Call) -> None:
        spec = function_spec(call.name)
        if spec is None:
            names = function_names()
            hint = did_you_mean(call.name, names) or ("available functions: " + ", ".join(names))
            self.problem(call.name_pos, f"unknown function '{call.name}'", hint)
            return
        count = len(call.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            self.problem(
                call.name_pos,
                f"function '{call.name}' takes {spec.arity_text()}, got {count}",
                f"usage: {spec.signature}",
            )
            return
        for index, arg in enumerate(call.args):
            wanted = spec.arg_type(index)
            known = _known_type(arg)
            if wanted is None or known is None or type_matches(wanted, known[1]):
                continue
            self.problem(
                arg.pos,
                f"argument {index + 1} of '{call.name}' must be {TYPE_WORDS[wanted]}, "
                f"got {known[0]}",
                f"usage: {spec.signature}",
            )
        if call.name == "exists" and not _is_path(call.args[0]):
            self.problem(
                call.args[0].pos,
                "exists() needs a field path",
                "for example exists(meta.source) or exists(items[0])",
            )
        if call.name == "matches":
            pattern = call.args[1]
            if isinstance(pattern, Literal) and isinstance(pattern.value, str):
                try:
                    compile_regex(pattern.value)
                except re.error as exc:
                    self.problem(pattern.pos, f"invalid regex in matches(): {exc}")

    # Operators ----------------------------------------------------------------
    def build_neg(self, kids: list[Any], pos: Pos) -> Node:
        operand = self.sub(kids[0])
        if isinstance(operand, Literal) and type(operand.value) in (int, float):
            return Literal(-operand.value, pos)
        return Unary("-", operand, pos)

    def build_pos(self, kids: list[Any], pos: Pos) -> Node:
        return Unary("+", self.sub(kids[0]), pos)

    def build_not_op(self, kids: list[Any], pos: Pos) -> Node:
        return Not(self.sub(kids[0]), pos)

    def build_and_op(self, kids: list[Any], pos: Pos) -> Node:
        return BoolOp("and", self.sub(kids[0]), self.sub(kids[1]), pos)

    def build_or_op(self, kids: list[Any], pos: Pos) -> Node:
        return BoolOp("or", self.sub(kids[0]), self.sub(kids[1]), pos)

    def _binop(self, op: str, kids: list[Any], pos: Pos) -> Node:
        return BinOp(op, self.sub(kids[0]), self.sub(kids[1]), pos)

    def build_add(self, kids: list[Any], pos: Pos) -> Node:
        return self._binop("+", kids, pos)

    def build_sub(self, kids: list[Any], pos: Pos) -> Node:
        return self._binop("-", kids, pos)

    def build_mul(self, kids: list[Any], pos: Pos) -> Node:
        return self._binop("*", kids, pos)

    def build_div(self, kids: list[Any], pos: Pos) -> Node:
        return self._binop("/", kids, pos)

    def build_mod(self, kids: list[Any], pos: Pos) -> Node:
        return self._binop("%", kids, pos)

    def build_compare(self, kids: list[Any], pos: Pos) -> Node:
        operands = [self.sub(kids[0])]
        ops: list[str] = []
        for index in range(1, len(kids), 2):
            ops.append(" ".join(str(token) for token in kids[index].children))
            operands.append(self.sub(kids[index + 1]))
        return Compare(tuple(operands), tuple(ops), pos)


# A value of each type, to test a typed function's declared result against a parameter
# (not "number": an int or a float, known only at run time).
_SAMPLES: dict[str, object] = {
    "string": "",
    "int": 0,
    "float": 0.0,
    "bool": False,
    "list": [],
    "object": {},
}


def _known_type(node: Node) -> tuple[str, object] | None:
    """The type an argument has before any record is seen, as a name and a sample
    value: a literal's, or a typed function's declared result; None: not known."""
    if isinstance(node, Literal):
        return type_name(node.value), node.value
    if isinstance(node, ListLit):
        return "list", []
    if isinstance(node, Call):
        spec = function_spec(node.name)
        if spec is not None and spec.returns in _SAMPLES:
            return spec.returns, _SAMPLES[spec.returns]
    return None


def _is_path(node: Node) -> bool:
    while isinstance(node, (Attr, Index)):
        node = node.obj
    return isinstance(node, Field)


def _depth(root: Node) -> int:
    deepest = 0
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((kid, depth + 1) for kid in children(node))
    return deepest


def parse_ast(text: str, span: Span | None = None) -> Node:
    """Parse and check ``text``; raise one ``RecipeError`` with every problem found."""
    if not text.strip():
        raise RecipeError.single(span, f"{_PREFIX}: the expression is empty")
    try:
        tree = build_parser().parse(text)
    except UnexpectedInput as exc:
        raise RecipeError([_syntax_error(text, span, exc)]) from None
    builder = _Builder(text, span)
    try:
        root = builder.sub(tree)
    except RecursionError:
        raise RecipeError.single(span, f"{_PREFIX}: the expression is too deeply nested") from None
    if _depth(root) > MAX_DEPTH:
        builder.problems.append(
            Diagnostic(
                span,
                f"{_PREFIX}: the expression is too deeply nested (over {MAX_DEPTH} levels)",
            )
        )
    if builder.problems:
        raise RecipeError(builder.problems)
    return root


def iter_fields(root: Node) -> list[Field]:
    """Every bare field reference, in source order."""
    return [node for node in walk(root) if isinstance(node, Field)]
