"""The sink's row sample and the report's are the same rows: the card measures what the
report measures, without reading the dataset back."""

from __future__ import annotations

import json
import random
from pathlib import Path

from synthdsl.io.row_sample import RowSample, text_fields
from synthdsl.report.data import load_run


def rows(n: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(n):
        if i % 3 == 0:
            msgs = [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]
            out.append({"messages": msgs, "_provenance": {"id": f"r{i}"}})
        else:
            out.append({"text": f"row {i}", "score": i, "_provenance": {"id": f"r{i}"}})
    return out


def test_the_sink_sample_equals_the_report_sample(tmp_path: Path) -> None:
    written = rows(1000)
    (tmp_path / "manifest.json").write_text(json.dumps({"nodes": {}}), encoding="utf-8")
    with (tmp_path / "dataset.jsonl").open("w", encoding="utf-8") as fh:
        for row in written:
            fh.write(json.dumps(row) + "\n")
    sample = RowSample(size=50)
    for row in written:
        sample.add(row)
    assert sample.seen == 1000
    got = sample.rows()
    assert len(got) == 50
    assert got == load_run(tmp_path, max_sample=50).sample
    # a uniform sample, not the first rows; in dataset order
    assert got != [text_fields(r) for r in written[:50]]
    positions = [next(i for i, r in enumerate(written) if text_fields(r) == g) for g in got]
    assert positions == sorted(positions) and positions[-1] > 500


def test_fewer_rows_than_the_size_are_all_kept() -> None:
    sample = RowSample(size=50)
    for row in rows(10):
        sample.add(row)
    assert sample.rows() == [text_fields(r) for r in rows(10)]
    assert sample.rows()[0] == {"messages.user": "q0", "messages.assistant": "a0"}


def test_the_draws_are_random_randrange_s() -> None:
    """The sample draws each row's slot as ``randrange`` would, so samples (and the
    dataset card) stay what they were with the same seed."""
    sample, rng = RowSample(), random.Random(0)
    assert [sample._below(n) for n in range(1, 5000)] == [rng.randrange(n) for n in range(1, 5000)]
    assert [sample._below(2**k) for k in range(40)] == [rng.randrange(2**k) for k in range(40)]
