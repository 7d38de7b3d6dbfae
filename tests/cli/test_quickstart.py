"""The README's quickstart, on the embedded model (real llama.cpp, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthdsl.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quickstart_runs_on_embedded_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SYNTHDSL_CACHE", str(tmp_path / "cache.sqlite"))
    out = tmp_path / "out"
    assert main(["run", "examples/quickstart.yaml", "--quiet", "--out", str(out)]) == 0
    captured = capfd.readouterr()
    # llama.cpp's per-request logs must not reach the user's terminal
    assert "slot" not in captured.err and "llama_" not in captured.err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "completed"
    assert manifest["accounting_balanced"] is True
    assert set(manifest["models"]) == {"local/smollm2"}
    assert manifest["totals"]["calls"] == 18  # 6 topics x (ask, answer, judge)
    rows = [json.loads(line) for line in (out / "dataset.jsonl").read_text().splitlines()]
    assert rows, "the quickstart kept no records"
    for row in rows:
        assert isinstance(row["score"], int) and 1 <= row["score"] <= 10
        assert row["instruction"].strip() and row["response"].strip()
        assert row["_provenance"]["model"] == "local/smollm2"
    # a re-run of the unchanged recipe makes no calls
    assert main(["run", "examples/quickstart.yaml", "--quiet", "--out", str(out)]) == 0
    again = json.loads((out / "manifest.json").read_text())
    assert again["totals"]["calls"] == 0
    assert again["totals"]["cache_hits"] == 18
