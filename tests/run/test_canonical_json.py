"""canonical_json feeds every content hash (cache keys, record ids of sets): its C-encoder
path must give exactly json.dumps's text, errors included, or every cache entry made
before would be missed."""

from __future__ import annotations

import json
import random
from typing import Any

from synthdsl.records import canonical_json


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randint(-(10**20), 10**20)
    if kind == 2:
        return rng.choice(
            [rng.random() * 10 ** rng.randint(-30, 30), 0.0, -0.0, 1e308, float("inf"), 1.5]
        )
    if kind == 3:
        return "".join(rng.choice('aé"\\\n\t\x00\u2028😀z ') for _ in range(rng.randint(0, 8)))
    if kind == 4:
        return rng.choice([b"bytes", (1, 2), "s"])  # bytes go through default=str
    if kind == 5:
        return 7
    if kind in (6, 7):
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = [f"k{rng.randint(0, 9)}" if rng.random() < 0.9 else rng.choice([1, 2.5, None])]
    keys += [f"k{rng.randint(0, 9)}" for _ in range(rng.randint(0, 3))]
    return {k: _value(rng, depth + 1) for k in keys}


def _dumps(value: Any) -> Any:
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
    except (TypeError, ValueError) as exc:
        return type(exc)


def _ours(value: Any) -> Any:
    try:
        return canonical_json(value)
    except (TypeError, ValueError) as exc:
        return type(exc)


def test_canonical_json_is_json_dumps_to_the_byte() -> None:
    rng = random.Random(3)
    errors = 0
    for _ in range(5000):
        value = _value(rng)
        expected = _dumps(value)
        errors += isinstance(expected, type)
        assert _ours(value) == expected, repr(value)
    assert errors > 0  # mixed key types fail the same way in both
    nested: Any = []
    for _ in range(5000):  # deeper than the C encoder goes: json.dumps decides
        nested = [nested]
    try:
        json.dumps(nested)
    except RecursionError:
        pass
    else:
        assert canonical_json(nested) == json.dumps(nested, separators=(",", ":"))
