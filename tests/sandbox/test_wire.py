"""The plain-data codec between the judge and the solution process (synthdsl.sandbox.wire).

No sandbox: values are encoded and decoded in this process, frames go through a real
pipe. What matters for verdicts: subclasses arrive as their base type, nothing but the
known tags decodes, and oversized or malformed frames are errors.
"""

from __future__ import annotations

import math
import os
import struct
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from synthdsl.sandbox import wire
from synthdsl.sandbox.solution_server import builtin_base


def no_handles(value: Any) -> Any:
    raise TypeError(f"not plain: {type(value).__name__}")


def round_trip(value: Any) -> Any:
    return wire.decode(wire.encode(value, no_handles), no_handles)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**200),
        2**53,
        1.5,
        float("inf"),
        float("-inf"),
        "text",
        [1, [2, (3, 4)]],
        (),
        {"a": 1},
        {1: "one", (2, 3): None, None: [1.0]},
        {1, 2},
        frozenset({"x"}),
        b"\x00\xff",
        bytearray(b"ab"),
        1 + 2j,
        Fraction(1, 3),
        Decimal("1.10"),
        range(1, 10, 2),
    ],
)
def test_plain_values_round_trip_with_their_type(value: Any) -> None:
    back = round_trip(value)
    assert back == value and type(back) is type(value)


def test_nan_round_trips_and_dict_order_is_kept() -> None:
    assert math.isnan(round_trip(float("nan")))
    assert list(round_trip({"b": 1, "a": 2})) == ["b", "a"]


def test_subclasses_arrive_as_their_base_type() -> None:
    class Liar(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    class Num(int):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = int.__hash__

    back = round_trip([Liar("no"), Num(3)])
    assert type(back[0]) is str and back[0] == "no" and back[0] != "yes"
    assert type(back[1]) is int and back[1] == 3 and back[1] != 4


def test_other_objects_go_to_the_handle_function() -> None:
    seen: list[Any] = []

    def handle(value: Any) -> dict[str, Any]:
        seen.append(value)
        return {"$": "handle", "id": len(seen)}

    obj = object()
    tree = wire.encode({"k": [obj]}, handle)
    assert seen == [obj]
    assert wire.decode(tree, lambda t: ("proxy", t["id"])) == {"k": [("proxy", 1)]}
    with pytest.raises(TypeError):
        wire.encode(lambda: 1, no_handles)


@pytest.mark.parametrize(
    "tree",
    [{"no": "tag"}, {"$": "eval", "v": "1"}, {"$": "float", "v": "1e400x"}, {"$": "dict", "v": 3}],
)
def test_unknown_or_malformed_trees_are_wire_errors(tree: Any) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(tree, no_handles)


def test_frames_through_a_pipe_and_bad_frames() -> None:
    r, w = os.pipe()
    try:
        wire.write_frame(w, {"ok": [1, "two"]})
        assert wire.read_frame(r) == {"ok": [1, "two"]}
        os.write(w, struct.pack(">I", wire.MAX_FRAME + 1))
        with pytest.raises(wire.WireError, match="over the"):
            wire.read_frame(r)
        os.write(w, struct.pack(">I", 3) + b"{x}")
        with pytest.raises(wire.WireError, match="not JSON"):
            wire.read_frame(r)
        os.close(w)
        w = -1
        with pytest.raises(EOFError):
            wire.read_frame(r)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_exceptions_map_to_their_nearest_builtin() -> None:
    class Custom(KeyError):
        pass

    class Mine(Exception):
        pass

    assert builtin_base(Custom) == "KeyError"
    assert builtin_base(Mine) == "Exception"
    assert builtin_base(SystemExit) == "SystemExit"
