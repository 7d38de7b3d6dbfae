"""Sinks: atomic JSONL/Parquet writers, rejects, manifest JSON, chat formats."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from synthdsl.errors import RunError
from synthdsl.io.chat import to_format
from synthdsl.io.writers import (
    JsonlWriter,
    ParquetWriter,
    RejectsWriter,
    SinkError,
    open_writer,
    write_json_atomic,
)
from synthdsl.records import Record

REPO = Path(__file__).resolve().parents[2]


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(str(path)).to_pylist()
    return rows


# -- JSONL --------------------------------------------------------------------------------


def test_jsonl_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out" / "dataset.jsonl"
    writer = JsonlWriter(path)
    writer.write({"q": "héllo", "n": 1})
    writer.write({"q": "日本", "nested": {"a": [1, 2]}})
    writer.flush()
    assert not path.exists()
    assert (tmp_path / "out" / "dataset.jsonl.tmp").exists()
    writer.close()
    writer.close()  # idempotent
    assert not (tmp_path / "out" / "dataset.jsonl.tmp").exists()
    raw = path.read_bytes().decode("utf-8")
    assert "héllo" in raw and "日本" in raw  # ensure_ascii=False
    assert [json.loads(line) for line in raw.splitlines()] == [
        {"q": "héllo", "n": 1},
        {"q": "日本", "nested": {"a": [1, 2]}},
    ]
    assert writer.rows == 2
    with pytest.raises(SinkError, match="closed"):
        writer.write({"late": True})


def test_jsonl_replaces_previous_output_only_on_close(tmp_path: Path) -> None:
    path = tmp_path / "dataset.jsonl"
    path.write_text('{"old": true}\n', encoding="utf-8")
    with JsonlWriter(path) as writer:
        writer.write({"new": True})
        assert path.read_text(encoding="utf-8") == '{"old": true}\n'
    assert path.read_text(encoding="utf-8") == '{"new": true}\n'


def test_jsonl_abort(tmp_path: Path) -> None:
    path = tmp_path / "dataset.jsonl"
    writer = JsonlWriter(path)
    writer.write({"a": 1})
    writer.abort()
    assert not path.exists() and not (tmp_path / "dataset.jsonl.tmp").exists()


def test_jsonl_context_manager_aborts_on_error(tmp_path: Path) -> None:
    path = tmp_path / "dataset.jsonl"
    with pytest.raises(KeyError), JsonlWriter(path) as writer:
        writer.write({"a": 1})
        raise KeyError("boom")
    assert list(tmp_path.iterdir()) == []


def test_jsonl_special_values(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    with JsonlWriter(path) as writer:
        writer.write(
            {
                "when": dt.date(2024, 1, 2),
                "price": Decimal("1.10"),
                "blob": b"\x00\x01",
                "lone": "a\ud800b",
            }
        )
    row = json.loads(path.read_text(encoding="utf-8"))
    assert row == {"when": "2024-01-02", "price": "1.10", "blob": "AAE=", "lone": "a\ud800b"}
    with JsonlWriter(tmp_path / "e.jsonl") as writer, pytest.raises(SinkError, match="object"):
        writer.write({"x": object()})


# -- Parquet ------------------------------------------------------------------------------


def test_parquet_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "dataset.parquet"
    rows: list[dict[str, Any]] = [
        {
            "q": f"question {i}",
            "n": i,
            "score": 0.5 if i % 2 else 1,
            "ok": i % 3 == 0,
            "messages": [{"role": "user", "content": f"hi {i}"}],
            "tags": [] if i < 1500 else ["late"],
            "maybe": None if i < 2000 else "set",
        }
        for i in range(2500)
    ]
    with ParquetWriter(path, batch_size=1000) as writer:
        for row in rows:
            writer.write(row)
        assert not path.exists()
    assert not (tmp_path / "dataset.parquet.tmp").exists()
    assert not (tmp_path / "dataset.parquet.spool.jsonl").exists()
    back = _read_parquet(path)
    assert len(back) == 2500
    assert back[0] == {
        "q": "question 0",
        "n": 0,
        "score": 1.0,
        "ok": True,
        "messages": [{"role": "user", "content": "hi 0"}],
        "tags": [],
        "maybe": None,
    }
    assert back[1]["score"] == 0.5
    assert back[2400]["tags"] == ["late"] and back[2400]["maybe"] == "set"

    import pyarrow.parquet as pq

    schema = pq.read_schema(str(path))
    assert str(schema.field("n").type) == "int64"
    assert str(schema.field("score").type) == "double"
    assert str(schema.field("tags").type).startswith("list<")


def test_parquet_mixed_types_become_json(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    rows: list[dict[str, Any]] = [
        {"v": "text", "meta": {"a": 1}, "big": 2**70},
        {"v": 3, "meta": {}, "big": 1},
        {"v": None, "only_later": [1, 2], "big": None},
    ]
    with ParquetWriter(path, batch_size=2) as writer:
        for row in rows:
            writer.write(row)
    back = _read_parquet(path)
    assert [r["v"] for r in back] == ['"text"', "3", None]
    assert [r["big"] for r in back] == [str(2**70), "1", None]
    assert back[0]["meta"] == {"a": 1} and back[1]["meta"] == {"a": None}
    assert back[2]["only_later"] == [1, 2] and back[0]["only_later"] is None


def test_parquet_struct_fields_unioned_across_batches(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    with ParquetWriter(path, batch_size=1) as writer:
        writer.write({"m": {"a": 1}})
        writer.write({"m": {"b": "x"}})
    assert [r["m"] for r in _read_parquet(path)] == [{"a": 1, "b": None}, {"a": None, "b": "x"}]


def test_parquet_empty_and_abort(tmp_path: Path) -> None:
    empty = tmp_path / "empty.parquet"
    ParquetWriter(empty).close()
    assert _read_parquet(empty) == []
    aborted = tmp_path / "aborted.parquet"
    writer = ParquetWriter(aborted)
    writer.write({"a": 1})
    writer.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.parquet"]


def test_open_writer(tmp_path: Path) -> None:
    first = open_writer(tmp_path / "a.jsonl", "jsonl")
    assert isinstance(first, JsonlWriter)
    first.abort()
    with open_writer(tmp_path / "b.parquet") as writer:
        assert isinstance(writer, ParquetWriter)
        writer.write({"x": 1})
    assert _read_parquet(tmp_path / "b.parquet") == [{"x": 1}]
    with open_writer(tmp_path / "c.out", "auto") as writer:
        assert isinstance(writer, JsonlWriter)
    with pytest.raises(SinkError, match="unknown output format"):
        open_writer(tmp_path / "d", "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.parquet", "c.out"]


# -- rejects and manifest -----------------------------------------------------------------


def test_rejects_append_and_flush(tmp_path: Path) -> None:
    path = tmp_path / "run" / "rejects.jsonl"
    record = Record(id="r1", data={"q": "x"}, parents=("p0",), node="gen")
    rejects = RejectsWriter(path)
    rejects.write("judge", "dropped", "score < 3", record)
    # Visible before close: a crash keeps it.
    first = json.loads(path.read_text(encoding="utf-8"))
    assert first == {
        "node": "judge",
        "status": "dropped",
        "reason": "score < 3",
        "error": None,
        "record": {"q": "x", "_provenance": {"id": "r1", "parents": ["p0"], "node": "gen"}},
    }
    rejects.close()
    with RejectsWriter(path) as again:
        again.write("gen", "failed", "llm_error", record, error="rate_limit: 429")
        assert again.counts == {"dropped": 0, "failed": 1}
        with pytest.raises(SinkError, match="status"):
            again.write("gen", "weird", "x", record)  # type: ignore[arg-type]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["error"] == "rate_limit: 429"


def test_rejects_written_for_a_block_go_out_together_in_order(tmp_path: Path) -> None:
    """``flush=False`` rows wait for ``flush()``; a row written with the default flush,
    or ``close()``, writes the waiting ones first, in order."""
    path = tmp_path / "rejects.jsonl"
    rejects = RejectsWriter(path)
    for i in range(3):
        rejects.write("f", "dropped", "r", Record(id=f"b{i}", data={"i": i}), flush=False)
    assert path.read_text(encoding="utf-8") == ""  # not yet: the block is not done
    assert rejects.counts == {"dropped": 3, "failed": 0}
    rejects.flush()
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3
    rejects.write("f", "dropped", "r", Record(id="b3", data={"i": 3}), flush=False)
    rejects.write("g", "failed", "k", Record(id="b4", data={"i": 4}), error="e")
    rejects.write("f", "dropped", "r", Record(id="b5", data={"i": 5}), flush=False)
    rejects.close()
    ids = [json.loads(line)["record"]["i"] for line in path.read_text("utf-8").splitlines()]
    assert ids == [0, 1, 2, 3, 4, 5]


_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from synthdsl.records import Record
    from synthdsl.io.writers import RejectsWriter

    rejects = RejectsWriter(Path(sys.argv[1]))
    for i in range(50):
        rejects.write("n", "dropped", "r", Record(id=str(i), data={"i": i}))
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_rejects_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, env=env, timeout=120
    )
    assert proc.returncode == -9, proc.stderr
    assert len(path.read_text(encoding="utf-8").splitlines()) == 50


def test_write_json_atomic(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    write_json_atomic(path, {"b": 1, "a": {"z": "é", "y": [1]}})
    text = path.read_text(encoding="utf-8")
    assert text == '{\n  "a": {\n    "y": [\n      1\n    ],\n    "z": "é"\n  },\n  "b": 1\n}\n'
    write_json_atomic(path, {"c": 2})
    assert json.loads(path.read_text(encoding="utf-8")) == {"c": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


# -- chat formats -------------------------------------------------------------------------

ROW = {"instruction": "Add 2 and 2.", "input": "", "response": "4", "other": 1}


def test_records_format_is_a_copy() -> None:
    out = to_format(ROW, "records")
    assert out == ROW and out is not ROW


def test_openai_format() -> None:
    assert to_format(ROW, "openai", system="Be brief.") == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Add 2 and 2."},
            {"role": "assistant", "content": "4"},
        ]
    }
    with_input = to_format({**ROW, "input": "Show work."}, "openai")
    assert with_input["messages"][0] == {"role": "user", "content": "Add 2 and 2.\n\nShow work."}


def test_chatml_format() -> None:
    out = to_format(ROW, "chatml", system="S")
    assert [m["role"] for m in out["messages"]] == ["system", "user", "assistant"]
    assert out["text"] == (
        "<|im_start|>system\nS<|im_end|>\n"
        "<|im_start|>user\nAdd 2 and 2.<|im_end|>\n"
        "<|im_start|>assistant\n4<|im_end|>\n"
    )


def test_alpaca_format() -> None:
    assert to_format({"instruction": "I", "response": "R"}, "alpaca") == {
        "instruction": "I",
        "input": "",
        "output": "R",
    }
    assert to_format({**ROW, "input": "X"}, "alpaca", system="S") == {
        "instruction": "Add 2 and 2.",
        "input": "X",
        "output": "4",
        "system": "S",
    }


def test_sharegpt_format_and_custom_fields() -> None:
    row = {"question": "Why?", "answer": {"because": True}}
    out = to_format(row, "sharegpt", instruction_field="question", response_field="answer")
    assert out == {
        "conversations": [
            {"from": "human", "value": "Why?"},
            {"from": "gpt", "value": '{"because": true}'},
        ]
    }


def test_missing_field_names_it() -> None:
    with pytest.raises(SinkError, match="'response'") as info:
        to_format({"instruction": "x"}, "openai")
    assert isinstance(info.value, RunError)
    with pytest.raises(SinkError, match="'prompt'"):
        to_format(ROW, "alpaca", instruction_field="prompt")
    with pytest.raises(SinkError, match="unknown dataset format"):
        to_format(ROW, "vicuna")
