"""The fast JSON paths write and read exactly what the standard calls do.

``json_text.dumps`` calls the C encoder directly and ``read_jsonl`` the scanner
directly; datasets must stay byte for byte what ``json.dumps`` made, and every line
``json.loads`` refuses must still be refused with its message.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from synthdsl.io.json_text import SinkError, _json_default, dumps, json_line, json_lines
from synthdsl.io.readers import SourceReader


def _reference(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=_json_default)


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.randrange(9 if depth < 3 else 6)
    if pick == 0:
        return rng.choice([None, True, False])
    if pick == 1:
        return rng.randint(-(10**20), 10**20)
    if pick == 2:
        return rng.choice([0.1, -0.0, 1e300, float("inf"), float("nan"), rng.random()])
    if pick in (3, 4, 5):
        alphabet = 'ab "\\/\n\t\x00\x1f\u00e9\u2028\U0001f600'
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))
    if pick == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if pick == 7:
        return {str(_random_value(rng, 3)): _random_value(rng, depth + 1) for _ in range(3)}
    return rng.choice([dt.date(2024, 1, 2), Decimal("1.50"), {3, 1}, b"\x00\xff", (1, "x")])


def test_dumps_writes_what_json_dumps_writes() -> None:
    rng = random.Random(7)
    values = [_random_value(rng) for _ in range(3000)]
    values += [{1: "int key", 2.5: "float key", None: "null key", False: "bool key"}, "\ud800"]
    for value in values:
        assert dumps(value) == _reference(value)
    assert json_line({"a": "\ud800"}) == b'{"a": "\\ud800"}\n'  # lone surrogate: escaped


def test_json_lines_are_the_json_line_of_each_row() -> None:
    """A block of rows is encoded together: the same bytes as row by row, a lone
    surrogate in one row escaped in that row only, errors as ``dumps`` words them."""
    rng = random.Random(11)
    rows = [{"v": _random_value(rng)} for _ in range(500)] + [{"a": "\ud800"}, {"b": "é"}]
    assert json_lines(rows) == b"".join(json_line(r) for r in rows)
    assert json_lines([]) == b""
    with pytest.raises(SinkError, match="cannot be written"):
        json_lines([{"ok": 1}, {"x": object()}])


def test_dumps_errors_keep_their_messages() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(SinkError, match="Circular reference detected"):
        dumps({"x": cyclic})
    with pytest.raises(SinkError, match="type object cannot be written"):
        dumps({"x": object()})
    with pytest.raises(SinkError, match="keys must be str"):
        dumps({(1, 2): 1})
    assert dumps([1, {"a": 2}]) == '[1, {"a": 2}]'  # still usable after errors


LINES = [
    '{"a": 1}',
    '  {"a": 1}  ',
    '{"a": 1}\t\r',
    '{"a": 1} x',
    '{"a": 1}{"b": 2}',
    '{"a": 1}\u00a0',
    '{"a": NaN, "b": -Infinity}',
    '{"a": "\\ud800"}',
    '{"a": [1, 2',
    "[1, 2]",
    '"text"',
    "nul",
    "{'a': 1}",
    '{"a": 1e999, "b": 1.0}',
]


@pytest.mark.parametrize("line", LINES)
def test_read_jsonl_takes_and_refuses_what_json_loads_does(tmp_path: Path, line: str) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(f'{{"first": true}}\n{line}\n', encoding="utf-8")
    reader = SourceReader(path, on_error="skip")
    got = list(reader)
    try:
        want = json.loads(line + "\n")  # the reader parses the line with its newline
    except json.JSONDecodeError as exc:
        assert got == [{"first": True}]
        assert reader.problems == [(2, f"{path}:2: invalid JSON: {exc}")]
        return
    if isinstance(want, dict):
        assert json.dumps(got, sort_keys=True) == json.dumps(
            [{"first": True}, want], sort_keys=True
        )
        assert reader.problems == []
    else:
        assert got == [{"first": True}] and "expected a JSON object" in reader.problems[0][1]


@pytest.mark.parametrize("chunk", [5, 64, 333])
def test_read_jsonl_reads_the_same_whatever_the_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The file is read in chunks: rows, problems and their line numbers do not depend
    on where the chunks end (a line split across chunks, a chunk that is not UTF-8, a
    BOM, blank lines, CRLF, a last line without a newline)."""
    from synthdsl.io.readers import jsonl  # the module whose chunk size is changed here

    body = "\n".join([*LINES, "", "   ", '{"crlf": "é"}\r', *LINES[:3], '{"last": 1}'])
    data = b"\xef\xbb\xbf" + body.encode("utf-8").replace(b'"crlf"', b'"cr\xfflf"', 1)
    data += b'\n{"after": "bad byte"}\n{"end": true}'
    path = tmp_path / "rows.jsonl"
    path.write_bytes(data)
    whole = SourceReader(path, on_error="skip")
    want = list(whole)
    monkeypatch.setattr(jsonl, "_CHUNK", chunk)
    reader = SourceReader(path, on_error="skip")
    assert json.dumps(list(reader)) == json.dumps(want)
    assert reader.problems == whole.problems
    assert any("not UTF-8" in text for _, text in reader.problems)
    assert want[-1] == {"end": True} and {"after": "bad byte"} in want


@pytest.mark.parametrize("chunk", [5, 1 << 20])
def test_json_line_values_are_what_json_loads_makes_of_each_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The report reads outputs back with ``json_line_values``: per non-blank line, what
    ``json.loads`` makes of its bytes, or ``BAD_LINE`` where it refuses them."""
    from synthdsl.io.readers import jsonl  # the module whose chunk size is changed here

    body = "\n".join(["\ufeff" + LINES[0], *LINES, "", '{"u": "é"}', "  "]).encode("utf-8")
    data = body + b'\n{"bad": "\xff"}\n{"ok": 1}\n' + '{"w": 1}'.encode("utf-16")
    path = tmp_path / "out.jsonl"
    path.write_bytes(data)
    want: list[Any] = []
    for raw in data.split(b"\n"):
        if raw.strip():
            try:
                want.append(json.loads(raw + b"\n"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                want.append("BAD")
    monkeypatch.setattr(jsonl, "_CHUNK", chunk)
    got = ["BAD" if v is jsonl.BAD_LINE else v for v in jsonl.json_line_values(path)]
    assert json.dumps(got) == json.dumps(want)
    assert "BAD" in want and {"ok": 1} in want and {"u": "é"} in want


@pytest.mark.parametrize("chunk", [3, 1 << 20])
def test_count_lines_counts_the_non_blank_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The plan's estimate of a JSON-lines source counts lines a chunk at a time: the
    same number as the lines with something besides ASCII blanks in them."""
    from synthdsl.io.readers import jsonl  # the module whose chunk size is changed here

    monkeypatch.setattr(jsonl, "_CHUNK", chunk)
    for data in (
        b"\n\n  \r\n{}\n\x0c\n\xef\xbb\xbf\n \t",
        b'{"a": 1}\n\n \t\n{}\n{"b":\xff}',
        b"{}\n" * 50 + b"\xc2\xa0\n",
        b"",
    ):
        path = tmp_path / "rows.jsonl"
        path.write_bytes(data)
        assert jsonl.count_lines(path) == sum(1 for line in data.split(b"\n") if line.strip())
