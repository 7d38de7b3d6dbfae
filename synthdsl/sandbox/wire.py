"""Plain data across the judge/solution boundary: values ↔ JSON-safe trees, and frames.

Input: a Python value on one side of the pipe between the judge (``judge.py``) and the
solution process (``solution_server.py``). Output: ``encode(value, handle)`` gives a tree
of JSON types; ``decode(tree, handle)`` rebuilds the value on the other side. Plain data
is copied: ``None``, ``bool``, ``int`` (big ones as hex), ``float`` (``inf``/``nan``
tagged), ``str``, ``list``, ``tuple``, ``dict`` (any plain keys, order kept), ``set``,
``frozenset``, ``bytes``, ``bytearray``, ``complex``, ``Fraction``, ``Decimal`` and
``range``; subclasses of these travel as the base type (a ``str`` subclass with a
custom ``__eq__`` arrives as a plain ``str``). Anything else is left to ``handle``,
which returns a tagged reference (``{"$": "handle", ...}``) or raises ``TypeError``.
Errors: ``decode`` raises ``WireError`` for a tree it does not recognise; ``read_frame``
raises ``WireError`` for a frame that is too large or not JSON, and ``EOFError`` when the
pipe is closed.

Frames are a 4-byte big-endian length and that many bytes of UTF-8 JSON.

Standard library only: copied into the sandbox as ``sandbox_wire.py``.
"""

from __future__ import annotations

import base64
import json
import math
import os
import struct
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_FRAME", "WireError", "decode", "encode", "read_frame", "write_frame"]

MAX_FRAME = 64 * 1024 * 1024  # bytes of one message; larger is an error, never a pass
_MAX_DEPTH = 200
_SMALL_INT = 1 << 53


class WireError(Exception):
    """A message that does not follow the protocol."""


def encode(value: Any, handle: Callable[[Any], Any], depth: int = 0) -> Any:
    """``value`` as a JSON-safe tree; ``handle(value)`` for what is not plain data."""
    if depth > _MAX_DEPTH:
        raise ValueError("the value is nested too deeply to send")
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        n = int.__int__(value)
        return n if -_SMALL_INT < n < _SMALL_INT else {"$": "int", "v": format(n, "x")}
    if isinstance(value, float):
        f = float.__float__(value)
        return f if math.isfinite(f) else {"$": "float", "v": repr(f)}
    if isinstance(value, str):
        return str.__str__(value)
    d = depth + 1
    if isinstance(value, list):
        return [encode(x, handle, d) for x in list.__iter__(value)]
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [encode(x, handle, d) for x in tuple.__iter__(value)]}
    if isinstance(value, dict):
        items = dict.items(value)
        return {"$": "dict", "v": [[encode(k, handle, d), encode(v, handle, d)] for k, v in items]}
    if isinstance(value, frozenset):
        return {"$": "frozenset", "v": [encode(x, handle, d) for x in frozenset.__iter__(value)]}
    if isinstance(value, set):
        return {"$": "set", "v": [encode(x, handle, d) for x in set.__iter__(value)]}
    if isinstance(value, (bytes, bytearray)):
        tag = "bytearray" if isinstance(value, bytearray) else "bytes"
        return {"$": tag, "v": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, complex):
        c = complex.__complex__(value)
        return {"$": "complex", "v": [encode(c.real, handle, d), encode(c.imag, handle, d)]}
    if t is getattr(sys.modules.get("fractions"), "Fraction", None):  # no import: fast start
        return {
            "$": "fraction",
            "v": [format(value.numerator, "x"), format(value.denominator, "x")],
        }
    if t is getattr(sys.modules.get("decimal"), "Decimal", None):
        return {"$": "decimal", "v": str(value)}
    if t is range:
        return {"$": "range", "v": [value.start, value.stop, value.step]}
    return handle(value)


def decode(tree: Any, handle: Callable[[dict[str, Any]], Any], depth: int = 0) -> Any:
    """The value ``encode`` made ``tree`` from; ``handle(tree)`` for a handle tag."""
    if depth > _MAX_DEPTH + 2:
        raise WireError("the value is nested too deeply")
    t = type(tree)
    if tree is None or t is bool or t is str or t is float:
        return tree
    if t is int:
        return tree
    d = depth + 1
    if t is list:
        return [decode(x, handle, d) for x in tree]
    if t is not dict or not isinstance(tree.get("$"), str):
        raise WireError(f"unexpected value of type {t.__name__}")
    tag, v = tree["$"], tree.get("v")
    try:
        if tag == "handle":
            return handle(tree)
        if tag == "int":
            return int(v, 16)
        if tag == "float":
            if v not in ("inf", "-inf", "nan"):
                raise WireError(f"bad float {v!r}")
            return float(v)
        if tag in ("tuple", "set", "frozenset"):
            items = [decode(x, handle, d) for x in _list(v)]
            return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
        if tag == "dict":
            return {decode(k, handle, d): decode(x, handle, d) for k, x in _list(v)}
        if tag in ("bytes", "bytearray"):
            raw = base64.b64decode(str(v), validate=True)
            return bytearray(raw) if tag == "bytearray" else raw
        if tag == "complex":
            re, im = _list(v)
            return complex(decode(re, handle, d), decode(im, handle, d))
        if tag == "fraction":
            from fractions import Fraction

            num, den = _list(v)
            return Fraction(int(num, 16), int(den, 16))
        if tag == "decimal":
            from decimal import Decimal

            return Decimal(str(v))
        if tag == "range":
            start, stop, step = _list(v)
            return range(int(start), int(stop), int(step))
    except WireError:
        raise
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise WireError(f"bad {tag} value: {exc}") from None
    raise WireError(f"unknown tag {tag!r}")


def _list(v: Any) -> list[Any]:
    if type(v) is not list:
        raise WireError("expected a list")
    return v


def write_frame(fd: int, message: Any) -> None:
    """Send one message (a JSON-safe tree) on ``fd``."""
    data = json.dumps(message, ensure_ascii=False, allow_nan=False).encode("utf-8")
    if len(data) > MAX_FRAME:
        raise ValueError(f"message of {len(data)} bytes is over the {MAX_FRAME}-byte limit")
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def read_frame(fd: int, read: Callable[[int, int], bytes] | None = None) -> Any:
    """Receive one message from ``fd``; ``read(fd, n)`` may add a deadline (default os.read)."""
    reader = read or os.read
    size = struct.unpack(">I", _exactly(fd, 4, reader))[0]
    if size > MAX_FRAME:
        raise WireError(f"a message of {size} bytes is over the {MAX_FRAME}-byte limit")
    body = _exactly(fd, size, reader)
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"a message that is not JSON: {exc}") from None


def _exactly(fd: int, n: int, read: Callable[[int, int], bytes]) -> bytes:
    chunks: list[bytes] = []
    while n:
        chunk = read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the pipe was closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)
