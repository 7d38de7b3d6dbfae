"""The text of a dataset's records, as ``synthdsl stats`` reads it.

Input: a dataset file (any format ``SourceReader`` reads) and a field name, or none.
Output: ``pick_field(row)`` (which field holds the text when none is given),
``text_of(row, field)`` (the text of one record) and ``iter_texts(path, field, chosen)``
(the texts of a file, lazily). Which text is measured:

1. a chat record with ``messages`` (a list of ``{"role", "content"}``): the contents
   of all messages, joined by newlines;
2. a record with both ``instruction`` and ``response``: the two joined by a blank line;
3. otherwise the first of ``response``, ``text``, ``output``, ``completion`` present.

Errors: ``RunError`` (a missing or empty file, a record without the field or whose
value is not text); ``KeyError`` / ``TypeError`` from ``text_of`` (see there).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthdsl.errors import RunError
from synthdsl.io.readers import SourceReader

__all__ = ["TEXT_FIELDS", "iter_texts", "pick_field", "text_of"]

#: Fields tried, in order, when no ``--field`` is given (after messages and
#: instruction+response).
TEXT_FIELDS = ("response", "text", "output", "completion")
_JOINED = "instruction+response"
_MESSAGES = "messages"


def pick_field(row: dict[str, Any]) -> str:
    """The text field of a record when none is given (see the module docstring).

    Returns a field name, ``"messages"`` or ``"instruction+response"``. Raises
    RunError when the record has none of them.
    """
    if isinstance(row.get(_MESSAGES), list):
        return _MESSAGES
    if isinstance(row.get("instruction"), str) and isinstance(row.get("response"), str):
        return _JOINED
    for name in TEXT_FIELDS:
        if isinstance(row.get(name), str):
            return name
    fields = ", ".join(sorted(row)) or "none"
    raise RunError(
        "cannot tell which field holds the text (tried messages, instruction+response, "
        f"{', '.join(TEXT_FIELDS)}); the first record has: {fields}. Use --field NAME"
    )


def _message_text(messages: list[Any]) -> str | None:
    """Contents of chat messages joined by newlines; None when it is not a chat."""
    parts: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            return None
        content = message.get("content")
        if content is None:
            continue
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):  # OpenAI content parts: [{"type": "text", ...}]
            parts.extend(
                p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
            )
        else:
            return None
    return "\n".join(parts)


def text_of(row: dict[str, Any], field: str) -> str:
    """The text of one record for ``field`` (a name from ``pick_field`` or ``--field``).

    Raises ``KeyError`` when the field is missing and ``TypeError`` when its value is
    not text (a string, or a list of chat messages).
    """
    if field == _JOINED and field not in row:
        instruction, response = row.get("instruction"), row.get("response")
        if not isinstance(instruction, str) or not isinstance(response, str):
            missing = "instruction" if not isinstance(instruction, str) else "response"
            if missing not in row or row[missing] is None:
                raise KeyError(missing)
            raise TypeError(f"'{missing}' is {type(row[missing]).__name__}, not text")
        return f"{instruction}\n\n{response}"
    if field not in row or row[field] is None:
        raise KeyError(field)
    value = row[field]
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        joined = _message_text(value)
        if joined is not None:
            return joined
        raise TypeError(f"'{field}' is a list but not of chat messages")
    raise TypeError(f"'{field}' is {type(value).__name__}, not text")


def iter_texts(path: Path, field: str | None, chosen: list[str]) -> Iterator[str]:
    """The texts of a dataset file, read lazily with ``SourceReader``.

    With ``field=None`` the field is picked from the first record; the field used is
    appended to ``chosen`` once known. Raises RunError (see the module docstring).
    """
    if not path.exists():
        raise RunError(f"{path}: no such file")
    used = field
    count = 0
    for number, row in enumerate(SourceReader(path), start=1):
        if used is None:
            try:
                used = pick_field(row)
            except RunError as exc:
                raise RunError(f"{path}: {exc}") from None
        if number == 1:
            chosen.append(used)
        try:
            text = text_of(row, used)
        except KeyError as exc:
            fields = ", ".join(sorted(row)) or "none"
            raise RunError(
                f"{path}: record {number} has no {exc.args[0]!r} field (it has: {fields}); "
                "choose the text field with --field"
            ) from None
        except TypeError as exc:
            raise RunError(f"{path}: record {number}: {exc}") from None
        yield text
        count = number
    if count == 0:
        raise RunError(f"{path}: no records")
