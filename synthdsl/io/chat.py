"""The dataset layouts a row is exported in: plain records and chat/instruction shapes.

Input: a dict row with instruction, optional input and response fields (names
configurable), an optional system prompt. Output: ``to_format`` gives the row in the
``records``, ``openai``, ``chatml``, ``alpaca`` or ``sharegpt`` layout (``CHAT_FORMATS``).

Raises ``SinkError``: an unknown format, a missing instruction or response field (the
message names it and the fields the row has), a value that cannot be turned into JSON.
"""

from __future__ import annotations

from typing import Any

from synthdsl.io.json_text import SinkError, dumps

__all__ = ["CHAT_FORMATS", "field_text", "to_format"]

CHAT_FORMATS = ("records", "openai", "chatml", "alpaca", "sharegpt")


def field_text(row: dict[str, Any], name: str, fmt: str, *, required: bool) -> str:
    """``row[name]`` as text (JSON text unless a string); a missing or null field is a
    SinkError naming the shape ``fmt`` when ``required``, else ``""``."""
    if name not in row or row[name] is None:
        if required:
            have = ", ".join(sorted(row)) or "none"
            raise SinkError(
                f"format {fmt!r} needs field {name!r}, which the row does not have (fields: {have})"
            )
        return ""
    value = row[name]
    if isinstance(value, str):
        return value
    return dumps(value)


def _chatml_text(messages: list[dict[str, str]]) -> str:
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def to_format(
    row: dict[str, Any],
    fmt: str,
    *,
    instruction_field: str = "instruction",
    input_field: str = "input",
    response_field: str = "response",
    system: str | None = None,
) -> dict[str, Any]:
    """``row`` in a dataset layout.

    ``records`` returns a copy of the row. The others need the instruction and response
    fields (SinkError naming the one missing); the input field is optional and, when
    present and not empty, is appended to the instruction after a blank line in the
    user turn (alpaca keeps it separate). Non-string values are written as JSON text.

    - ``openai``: ``{"messages": [system?, user, assistant]}`` (role/content dicts)
    - ``chatml``: the same ``messages`` plus ``text`` rendered with ``<|im_start|>``
    - ``alpaca``: ``{"instruction", "input", "output"}`` (plus ``system`` when given)
    - ``sharegpt``: ``{"conversations": [{"from": "system"?|"human"|"gpt", "value"}]}``
    """
    if fmt == "records":
        return dict(row)
    if fmt not in CHAT_FORMATS:
        raise SinkError(
            f"unknown dataset format {fmt!r}; expected one of {', '.join(CHAT_FORMATS)}"
        )
    instruction = field_text(row, instruction_field, fmt, required=True)
    response = field_text(row, response_field, fmt, required=True)
    extra_input = field_text(row, input_field, fmt, required=False)
    if fmt == "alpaca":
        out: dict[str, Any] = {"instruction": instruction, "input": extra_input, "output": response}
        if system is not None:
            out["system"] = system
        return out
    user = f"{instruction}\n\n{extra_input}" if extra_input else instruction
    if fmt == "sharegpt":
        turns = [] if system is None else [{"from": "system", "value": system}]
        turns += [{"from": "human", "value": user}, {"from": "gpt", "value": response}]
        return {"conversations": turns}
    messages = [] if system is None else [{"role": "system", "content": system}]
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": response}]
    if fmt == "openai":
        return {"messages": messages}
    return {"messages": messages, "text": _chatml_text(messages)}
