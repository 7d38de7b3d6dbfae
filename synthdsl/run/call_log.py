"""The prompts a run sent and the replies it got: ``calls.jsonl`` in the run folder.

Input: every answer ``RunContext.complete`` gives a node (a call made, a cache hit, an
identical call's answer shared, or a call that failed for good). Output: ``CallLog``
appends one JSON line per answer (``call_row``) to ``calls.jsonl`` in the run's attempt
folder (a worker of the Ray executor keeps its lines in a ``CallBuffer`` and sends them
to the driver, which writes them), which
``run/attempt.py`` publishes with the other run files; ``read_calls(run_dir)`` reads the
lines back as ``LoggedCall`` for ``synthdsl show``.

A line holds the node, the record the prompt was rendered from, the sample index, the
turn (0, then 1, 2... for a structured reply asked again with its error), the loop
round, the model alias and the model name, the messages exactly as sent, the reply
text, whether the answer came from the cache, and for a failed call its error kind.
Never the API key, headers, provider parameters or the endpoint: a base URL may carry
credentials, and an error message may quote it, so a failure keeps only its kind.

Why a file beside the data and not the content cache: the cache is shared by runs and
keyed by request, so it cannot say which record of which run a call answered, and a
``--fresh`` run or a cleared cache would lose it; the run folder is what ``show`` is
pointed at, and a cached re-run rewrites the file from its cache hits, so it always
describes the files beside it. Raises ``SinkError`` (a ``RunError``) when the file
cannot be written, ``RunError`` when it cannot be read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from json.encoder import encode_basestring as _string  # the C one: '"' + escaped + '"'
from pathlib import Path
from typing import IO, Any

from synthdsl.errors import RunError
from synthdsl.io.json_text import SinkError, json_line
from synthdsl.llm.types import LLMRequest

__all__ = [
    "CALLS_FILE",
    "CallBuffer",
    "CallLog",
    "LoggedCall",
    "call_line",
    "call_row",
    "read_calls",
]

CALLS_FILE = "calls.jsonl"


def call_row(
    node: str,
    record: str,
    request: LLMRequest,
    reply: str | None,
    cached: bool,
    round_: int | None,
    error: str | None,
) -> dict[str, Any]:
    """One line of ``calls.jsonl``, as plain data."""
    row: dict[str, Any] = {
        "node": node,
        "record": record,
        "sample": request.sample_index,
        "turn": sum(1 for m in request.messages if m.get("role") == "assistant"),
        "alias": request.spec.alias,
        "model": request.spec.model,
        "messages": [{"role": m["role"], "content": m["content"]} for m in request.messages],
        "reply": reply,
        "cached": cached,
    }
    if round_ is not None:
        row["round"] = round_
    if error is not None:
        row["error"] = error
    return row


def call_line(
    node: str,
    record: str,
    request: LLMRequest,
    reply: str | None,
    cached: bool,
    round_: int | None,
    error: str | None,
) -> bytes:
    """``json_line(call_row(...))``, the same bytes, assembled from its strings' JSON
    (the C string encoder) instead of a dict walked by the generic encoder: a line is
    written for every answer, cache hits included. Anything unusual (a value that is not
    a plain str/int/bool, a string with a lone surrogate) goes the generic way."""
    parts = []
    turn = 0
    for m in request.messages:
        role, content = m["role"], m["content"]
        if type(role) is not str or type(content) is not str:
            return json_line(call_row(node, record, request, reply, cached, round_, error))
        if role == "assistant":
            turn += 1
        parts.append('{"role": ' + _string(role) + ', "content": ' + _string(content) + "}")
    spec = request.spec
    sample = request.sample_index
    if (
        type(node) is not str
        or type(record) is not str
        or type(spec.alias) is not str
        or type(spec.model) is not str
        or type(sample) is not int
        or type(cached) is not bool
        or (reply is not None and type(reply) is not str)
        or (round_ is not None and type(round_) is not int)
        or (error is not None and type(error) is not str)
    ):
        return json_line(call_row(node, record, request, reply, cached, round_, error))
    text = (
        '{"node": '
        + _string(node)
        + ', "record": '
        + _string(record)
        + ', "sample": '
        + str(sample)
        + ', "turn": '
        + str(turn)
        + ', "alias": '
        + _string(spec.alias)
        + ', "model": '
        + _string(spec.model)
        + ', "messages": ['
        + ", ".join(parts)
        + '], "reply": '
        + ("null" if reply is None else _string(reply))
        + (', "cached": true' if cached else ', "cached": false')
    )
    if round_ is not None:
        text += ', "round": ' + str(round_)
    if error is not None:
        text += ', "error": ' + _string(error)
    try:
        return (text + "}\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: json_line escapes it
        return json_line(call_row(node, record, request, reply, cached, round_, error))


class CallLog:
    """Appends the calls of one run to ``path`` (buffered; ``close`` flushes)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._fh: IO[bytes] | None = open(self.path, "ab")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise SinkError(f"cannot write {self.path}: {exc.strerror}") from None

    def write(
        self,
        node: str,
        record: str,
        request: LLMRequest,
        *,
        reply: str | None,
        cached: bool,
        round_: int | None = None,
        error: str | None = None,
    ) -> None:
        self._write(call_line(node, record, request, reply, cached, round_, error))

    def write_row(self, row: dict[str, Any]) -> None:
        """A line made by ``call_row`` (here, or in another process: ``CallBuffer``)."""
        self._write(json_line(row))

    def _write(self, line: bytes) -> None:
        if self._fh is None:
            return  # the run is over: a call still settling is not part of it
        try:
            self._fh.write(line)
        except OSError as exc:
            raise SinkError(f"cannot write {self.path}: {exc.strerror}") from None

    def close(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            fh.close()


class CallBuffer(CallLog):
    """The lines of calls made in a worker process, kept until the driver takes them
    (``take``) and writes them into the run's ``CallLog``."""

    def __init__(self) -> None:
        self.path = Path(CALLS_FILE)
        self._fh = None
        self._rows: list[dict[str, Any]] = []

    def write(
        self,
        node: str,
        record: str,
        request: LLMRequest,
        *,
        reply: str | None,
        cached: bool,
        round_: int | None = None,
        error: str | None = None,
    ) -> None:
        self._rows.append(call_row(node, record, request, reply, cached, round_, error))

    def write_row(self, row: dict[str, Any]) -> None:
        self._rows.append(row)

    def take(self) -> list[dict[str, Any]]:
        rows, self._rows = self._rows, []
        return rows


@dataclass(frozen=True)
class LoggedCall:
    """One line of ``calls.jsonl``."""

    node: str
    record: str
    sample: int
    turn: int
    alias: str
    model: str
    messages: tuple[dict[str, str], ...]
    reply: str | None
    cached: bool
    round: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "node": self.node,
            "record": self.record,
            "sample": self.sample,
            "turn": self.turn,
            "alias": self.alias,
            "model": self.model,
            "messages": [dict(m) for m in self.messages],
            "reply": self.reply,
            "cached": self.cached,
        }
        if self.round is not None:
            out["round"] = self.round
        if self.error is not None:
            out["error"] = self.error
        return out


def read_calls(run_dir: Path) -> list[LoggedCall]:
    """The calls logged in ``run_dir``, in the order they were answered. Raises
    ``RunError`` when there is no ``calls.jsonl`` or a line is not a logged call."""
    path = Path(run_dir) / CALLS_FILE
    if not path.is_file():
        raise RunError(
            f"{run_dir}: no {CALLS_FILE} here (not a run folder, or a run made before "
            "synthdsl kept its prompts: run the recipe again, its calls come from the cache)"
        )
    calls = []
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    calls.append(_parse(line, path, number))
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"cannot read {path}: {exc}") from None
    return calls


def _parse(line: str, path: Path, number: int) -> LoggedCall:
    try:
        row = json.loads(line)
        return LoggedCall(
            node=str(row["node"]),
            record=str(row["record"]),
            sample=int(row["sample"]),
            turn=int(row.get("turn", 0)),
            alias=str(row["alias"]),
            model=str(row["model"]),
            messages=tuple(
                {"role": str(m["role"]), "content": str(m["content"])} for m in row["messages"]
            ),
            reply=None if row["reply"] is None else str(row["reply"]),
            cached=bool(row["cached"]),
            round=row.get("round"),
            error=row.get("error"),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise RunError(
            f"{path}:{number}: not a logged call ({type(exc).__name__}: {exc})"
        ) from None
