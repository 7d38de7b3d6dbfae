"""``synthdsl runs``: past runs under an output root, newest first, with status, counts
and cost; an unknown cost shows as "—" (never $0) and a corrupt manifest is listed as
unreadable, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer


def _recipe(project: Path, name: str, model: str, base_url: str, rows: int) -> Path:
    records = ", ".join(f'{{q: "question {i}"}}' for i in range(rows))
    path = project / f"{name}.yaml"
    path.write_text(
        f"""
synthdsl: 1
name: {name}
models:
  gen: {{model: {model}, api_base: "{base_url}"}}
sources:
  s: {{records: [{records}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
""",
        encoding="utf-8",
    )
    return path


def _set_started(run_dir: Path, when: str) -> None:
    path = run_dir / "manifest.json"
    data = json.loads(path.read_text())
    data["started_at"] = when
    path.write_text(json.dumps(data))


@pytest.fixture
def three_runs(server: FakeOpenAIServer, project: Path) -> Path:
    """out/priced (3 records, a priced model), out/unpriced (2 records, a model with no
    price), out/broken (a manifest cut short)."""
    priced = _recipe(project, "priced", "openai/gpt-4o-mini", server.base_url, 3)
    unpriced = _recipe(project, "unpriced", "openai/fake", server.base_url, 2)
    assert main(["run", str(priced), "--quiet", "--no-report"]) == 0
    assert main(["run", str(unpriced), "--quiet", "--no-report"]) == 0
    _set_started(project / "out" / "priced", "2030-01-02T00:00:00Z")
    _set_started(project / "out" / "unpriced", "2030-01-01T00:00:00Z")
    broken = project / "out" / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text('{"status": "comp')
    return project / "out"


def test_runs_json_lists_newest_first_with_counts_and_cost(
    three_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "--format", "json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [Path(r["path"]).name for r in runs] == ["priced", "unpriced", "broken"]
    priced, unpriced, broken = runs
    assert priced["status"] == "done" and priced["recipe"] == "priced"
    assert (priced["records"], priced["calls"], priced["failed"]) == (3, 3, 0)
    assert priced["cost_usd"] is not None and priced["cost_usd"] > 0
    assert unpriced["cost_usd"] is None and unpriced["records"] == 2
    assert broken["status"] == "unreadable" and "manifest.json" in broken["problem"]


def test_runs_text_shows_unknown_cost_as_a_dash_and_the_unreadable_run(
    three_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", str(three_runs)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:6] == ["started", "status", "records", "calls", "failed", "cost"]
    priced = next(line for line in lines if line.endswith("priced") and "unpriced" not in line)
    unpriced = next(line for line in lines if line.endswith("unpriced"))
    broken = next(line for line in lines if line.endswith("broken"))
    assert (
        "2030-01-02 00:00:00" in priced
        and " done " in priced
        and "$0.0000 " not in priced
        and "$0.0" in priced
    )
    assert "—" in unpriced and "$" not in unpriced
    assert "unreadable" in broken and "Traceback" not in out
    assert lines.index(priced) < lines.index(unpriced) < lines.index(broken)


def test_runs_reads_status_words_from_the_manifest(
    three_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = three_runs / "unpriced" / "manifest.json"
    data = json.loads(path.read_text())
    data.update(status="stopped", reason="max_calls")
    path.write_text(json.dumps(data))
    (three_runs / "priced" / "manifest.json").write_text('{"status": "completed"}')
    assert main(["runs", str(three_runs), "--format", "json"]) == 0
    runs = {Path(r["path"]).name: r for r in json.loads(capsys.readouterr().out)}
    assert runs["unpriced"]["status"] == "budget-stopped"
    assert runs["unpriced"]["reason"] == "max_calls"
    assert runs["priced"]["status"] == "unreadable"
    assert "not a run manifest" in runs["priced"]["problem"]


def test_runs_of_a_missing_root_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", str(project / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (project / "empty").mkdir()
    assert main(["runs", str(project / "empty")]) == 0
    assert "no runs under" in capsys.readouterr().out
