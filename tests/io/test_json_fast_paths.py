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

from synthdsl.io.json_text import SinkError, _json_default, dumps, json_line
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
