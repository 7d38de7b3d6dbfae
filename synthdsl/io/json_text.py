"""The JSON text every output is written as, and the error of every writer.

Input: a row (or any JSON-like value). Output: ``dumps`` (a ``str``), ``json_bytes``
(UTF-8 bytes), ``json_line`` (bytes plus a newline) and ``json_lines`` (several rows'
lines, encoded together: the same bytes as each one's ``json_line``, joined). The rules: UTF-8 with
``ensure_ascii=False``; dates and times become ISO strings, ``Decimal`` a string,
``bytes`` base64, sets sorted lists, paths POSIX strings; a string that cannot be
encoded as UTF-8 (a lone surrogate) makes that value fall back to ASCII escapes.

The common call (no keyword arguments) goes straight to the standard library's C
encoder, made once with the same settings ``json.dumps`` would use (so the bytes are
the same), without re-checking for reference cycles: a cyclic value ends in
``RecursionError``, and is then encoded again by ``json.dumps`` for its usual message.
That halves the cost of a dataset line (~5 µs → ~2.3 µs for a small row).

Raises ``SinkError`` (a ``RunError``, also raised by the writers and chat formats) when
a value cannot be turned into JSON.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from collections.abc import Callable
from decimal import Decimal
from json import encoder as _encoder
from pathlib import PurePath
from typing import Any

from synthdsl.errors import RunError

__all__ = ["SinkError", "dumps", "json_bytes", "json_line", "json_lines"]


class SinkError(RunError):
    """An output could not be written, or a row does not fit the asked format."""


def _json_default(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, PurePath):
        return value.as_posix()
    raise TypeError(f"a value of type {type(value).__name__} cannot be written as JSON")


def _make_fast() -> Callable[[Any], str]:
    """``json.dumps(obj, ensure_ascii=False, default=_json_default)`` without building a
    ``JSONEncoder`` per call: its C encoder, made once (no cycle markers, so it keeps no
    state between calls); ``JSONEncoder.encode`` where the C module is missing."""
    make = getattr(_encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has _json
        return json.JSONEncoder(ensure_ascii=False, default=_json_default).encode
    # The arguments JSONEncoder.iterencode passes: markers, default, string encoder,
    # indent, key separator, item separator, sort_keys, skipkeys, allow_nan.
    string = _encoder.encode_basestring
    chunks = make(None, _json_default, string, None, ": ", ", ", False, False, True)

    def fast(obj: Any) -> str:
        return "".join(chunks(obj, 0))

    return fast


_fast: Callable[[Any], str] | None = None


def dumps(obj: Any, **kwargs: Any) -> str:
    """``obj`` as JSON text (``json.dumps`` keyword arguments pass through)."""
    global _fast
    try:
        if kwargs:
            return json.dumps(obj, ensure_ascii=False, default=_json_default, **kwargs)
        if _fast is None:
            _fast = _make_fast()
        try:
            return _fast(obj)
        except RecursionError:  # a cycle, or nesting too deep: json.dumps says which
            return json.dumps(obj, ensure_ascii=False, default=_json_default)
    except (TypeError, ValueError, RecursionError) as exc:
        raise SinkError(f"cannot write a row as JSON: {exc}") from exc


def json_bytes(obj: Any, **kwargs: Any) -> bytes:
    """``obj`` as UTF-8 JSON bytes."""
    try:
        return dumps(obj, **kwargs).encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate: \uXXXX escapes keep the file valid UTF-8 and the value intact.
        return json.dumps(obj, ensure_ascii=True, default=_json_default, **kwargs).encode()


def json_line(obj: Any) -> bytes:
    """``obj`` as one JSON line (bytes ending in a newline)."""
    return json_bytes(obj) + b"\n"


def json_lines(objs: list[Any]) -> bytes:
    """``b"".join(json_line(o) for o in objs)``, with one UTF-8 encoding for all of
    them (a lone surrogate in any row: each row on its own, as ``json_line`` does)."""
    global _fast
    if not objs:
        return b""
    if _fast is None:
        _fast = _make_fast()
    fast = _fast
    try:
        text = "\n".join([fast(obj) for obj in objs])
    except (TypeError, ValueError, RecursionError):  # dumps words the error
        return b"".join([json_line(obj) for obj in objs])
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return b"".join([json_line(obj) for obj in objs])
