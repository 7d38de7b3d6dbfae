"""``--max-calls`` and ``--max-cost``: no call starts past the budget, the calls in
flight finish, everything done is written, exit 3 with how to go on; a re-run resumes
without repeating a finished call and ends with the very dataset an uninterrupted run
writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.run.cache import CallCache
from synthdsl.testing.fake_openai import FakeOpenAIServer

N = 20


def _recipe(project: Path, model: str, base_url: str) -> Path:
    rows = ", ".join(f'{{q: "question {i}"}}' for i in range(N))
    path = project / "budget.yaml"
    path.write_text(
        f"""
synthdsl: 1
name: budget
models:
  gen: {{model: {model}, api_base: "{base_url}", concurrency: 4}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: ask
    generate: {{template: "{{{{ q }}}}", model: gen, into: question}}
  - id: answer
    generate: {{template: "Answer: {{{{ question }}}}", model: gen, into: answer}}
""",
        encoding="utf-8",
    )
    return path


def _run(recipe: Path, out: Path, cache: Path, *args: str) -> int:
    argv = ["run", str(recipe), "--quiet", "--no-report", "--out", str(out)]
    return main([*argv, "--cache", str(cache), *args])


def _manifest(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "manifest.json").read_text())
    return data


def test_a_budget_stop_then_a_resume_gives_the_uninterrupted_dataset(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(project, "openai/fake", server.base_url)
    assert _run(recipe, project / "whole", project / "whole.sqlite") == 0
    whole = (project / "whole" / "dataset.jsonl").read_bytes()
    assert server.stats()["requests"] == 2 * N
    capsys.readouterr()

    server.reset()
    server.set_latency(0.05)  # calls overlap: some are in flight when the budget is hit
    out, cache = project / "out", project / "cache.sqlite"
    assert _run(recipe, out, cache, "--max-calls", "7") == 3
    err = capsys.readouterr().err
    assert server.stats()["requests"] == 7
    with CallCache(cache) as c:
        assert c.stats().entries == 7  # every call started finished and was kept
    manifest = _manifest(out)
    assert manifest["status"] == "stopped" and manifest["reason"] == "max_calls"
    assert manifest["totals"]["calls"] == 7  # type: ignore[index]
    for node in manifest["nodes"].values():  # type: ignore[attr-defined]
        settled = node["passed"] + sum(node["dropped"].values()) + sum(node["failed"].values())
        assert node["in"] == settled + node.get("pending", 0)  # the resume point, not lost
    assert (out / "dataset.partial.jsonl").exists() and not (out / "dataset.jsonl").exists()
    assert "budget reached (--max-calls 7): 7 calls made" in err
    assert "--max-calls 14" in err and "resume with: synthdsl run" in err
    assert "Traceback" not in err

    server.set_latency(0.0)
    assert _run(recipe, out, cache) == 0
    assert server.stats()["requests"] == 2 * N  # the second run repeated no call
    assert _manifest(out)["totals"]["cache_hits"] == 7  # type: ignore[index]
    assert (out / "dataset.jsonl").read_bytes() == whole
    assert not (out / "dataset.partial.jsonl").exists()


def test_max_cost_stops_at_the_known_price(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(project, "openai/gpt-4o-mini", server.base_url)
    out, cache = project / "out", project / "cache.sqlite"
    assert _run(recipe, out, cache, "--max-cost", "0.00001", "--concurrency", "1") == 3
    err = capsys.readouterr().err
    manifest = _manifest(out)
    assert manifest["status"] == "stopped" and manifest["reason"] == "max_cost"
    calls = manifest["totals"]["calls"]  # type: ignore[index]
    cost = manifest["totals"]["cost_usd"]  # type: ignore[index]
    assert 0 < calls < 2 * N and server.stats()["requests"] == calls
    assert cost >= 0.00001  # one call at a time: stopped at the first call past it
    assert "budget reached (--max-cost 1e-05)" in err and "--max-cost 2e-05" in err


def test_max_cost_refuses_a_model_of_unknown_price_unless_calls_are_bounded(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(project, "openai/fake", server.base_url)
    out, cache = project / "out", project / "cache.sqlite"
    assert _run(recipe, out, cache, "--max-cost", "1") == 2
    err = capsys.readouterr().err
    assert "--max-cost cannot count the calls of openai/fake" in err and "--max-calls" in err
    assert server.stats()["requests"] == 0 and not out.exists()
    assert _run(recipe, out, cache, "--max-cost", "1", "--max-calls", "3") == 3
    err = capsys.readouterr().err
    assert "warning: no known price for openai/fake" in err
    assert "3 calls made, cost unknown (no known price)" in err
    assert server.stats()["requests"] == 3


def test_a_budget_that_is_not_reached_changes_nothing(
    server: FakeOpenAIServer, project: Path
) -> None:
    recipe = _recipe(project, "openai/fake", server.base_url)
    assert _run(recipe, project / "out", project / "c.sqlite", "--max-calls", str(2 * N)) == 0
    assert _manifest(project / "out")["status"] == "completed"
    assert server.stats()["requests"] == 2 * N


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "lots"])
def test_a_budget_must_be_above_zero(project: Path, value: str) -> None:
    recipe = project / "r.yaml"
    recipe.write_text("synthdsl: 1\nsources: {s: {records: [{a: 1}]}}\n")
    with pytest.raises(SystemExit) as stop:
        main(["run", str(recipe), "--max-cost", value])
    assert stop.value.code == 2
