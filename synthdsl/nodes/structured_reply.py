"""Structured replies: a completion read as JSON, checked against the step's schema, and
the follow-up turn that asks the model to correct a reply that did not fit.

Input: a step's ``json:`` (true, or a JSON Schema already checked at compile time),
whether replies are checked against the schema (``json_check``) and how many corrected
replies may be asked for (``json_retries``). Output: ``ReplyReader.read(text)``, the
parsed value or an ``InvalidReply`` (kind ``invalid_json`` or ``schema_mismatch``, the
error, and the path into the reply); ``followup(reply, invalid)``, the two turns that
feed the error back (the bad reply as the assistant's, then a user message naming the
path and the error and asking for the corrected JSON only); ``InvalidReply.fail``, the
recorded failure carrying the error and the (truncated) reply. Raises nothing.

Bounded: a reply longer than ``MAX_REPLY_CHARS`` is not parsed (it is invalid, with
that reason), the bad reply fed back and kept with a failure is cut at
``ECHO_CHARS``, and ``json_retries`` is at most ``MAX_JSON_RETRIES`` (the recipe
schema says so), so a sample costs at most 6 calls and its conversation stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synthdsl.lang.reply_schema import ReplySchema
from synthdsl.nodes.base import Fail
from synthdsl.textproc.extract import ExtractError, extract_json

__all__ = [
    "DEFAULT_JSON_RETRIES",
    "ECHO_CHARS",
    "MAX_JSON_RETRIES",
    "MAX_REPLY_CHARS",
    "InvalidReply",
    "ReplyReader",
    "followup",
]

DEFAULT_JSON_RETRIES = 2
MAX_JSON_RETRIES = 5
MAX_REPLY_CHARS = 1_000_000
ECHO_CHARS = 4_000

_ASK = "Reply again with the corrected JSON only, no other text."


def _cut(text: str) -> str:
    if len(text) <= ECHO_CHARS:
        return text
    return f"{text[:ECHO_CHARS]}… [{len(text) - ECHO_CHARS} more characters]"


@dataclass(frozen=True)
class InvalidReply:
    """Why a reply was not accepted: ``invalid_json`` (no JSON value in it) or
    ``schema_mismatch`` (JSON that breaks the schema, at ``path``)."""

    kind: str
    error: str
    path: str | None = None

    def message(self) -> str:
        """The error as the record's failure says it."""
        if self.kind == "invalid_json":
            return f"model output is not JSON: {self.error}"
        where = f"{self.path}: " if self.path else ""
        return f"reply does not match the json schema: {where}{self.error}"

    def fail(self, reply: str, attempts: int) -> Fail:
        """The recorded failure once no retry is left: the error, the attempts made and
        the last reply (cut at ``ECHO_CHARS``)."""
        detail: dict[str, Any] = {"attempts": attempts, "reply": _cut(reply)}
        if self.path is not None:
            detail["path"] = self.path
        return Fail(self.kind, self.message(), detail)


class ReplyReader:
    """Reads replies for one node: the schema is compiled once, here."""

    def __init__(self, spec: bool | dict[str, Any], check: bool) -> None:
        self._schema = ReplySchema(spec) if isinstance(spec, dict) and check else None

    @property
    def checks_schema(self) -> bool:
        return self._schema is not None

    def read(self, text: str) -> Any | InvalidReply:
        """The reply's JSON value, or why it is not accepted."""
        if len(text) > MAX_REPLY_CHARS:
            return InvalidReply(
                "invalid_json", f"the reply has {len(text)} characters (at most {MAX_REPLY_CHARS})"
            )
        try:
            value = extract_json(text)
        except ExtractError as exc:
            return InvalidReply("invalid_json", str(exc))
        problem = self._schema.first_problem(value) if self._schema is not None else None
        if problem is not None:
            return InvalidReply("schema_mismatch", problem.message, problem.path)
        return value


def followup(reply: str, invalid: InvalidReply) -> tuple[dict[str, str], dict[str, str]]:
    """The turns that ask for a corrected reply: the bad one, then what is wrong with it."""
    if invalid.kind == "invalid_json":
        ask = f"Your reply is not valid JSON ({invalid.error}). {_ASK}"
    else:
        where = f'at "{invalid.path}"' if invalid.path else "at the top level"
        ask = f"Your reply does not match the required JSON Schema {where}: {invalid.error}. {_ASK}"
    return {"role": "assistant", "content": _cut(reply)}, {"role": "user", "content": ask}
