"""A run's cost is a number only when every call's model has a known price.

Before, a model missing from the price table showed ``$0`` in the manifest and report
while ``plan`` said "cost unknown". Both recipes here call the loopback server; only the
model name differs (``gpt-4o-mini`` is in the price table, ``fake`` is not).
"""

from __future__ import annotations

from pathlib import Path

from helpers import run_completed

from synthdsl.testing.fake_openai import FakeOpenAIServer


def _recipe(project: Path, server: FakeOpenAIServer, model: str) -> Path:
    path = project / f"{model.replace('/', '_')}.yaml"
    path.write_text(
        f"""
synthdsl: 1
models:
  gen: {{model: {model}, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{{q: one}}, {{q: two}}]}}
steps:
  - id: g
    generate: {{model: gen, template: "{{{{ q }}}}"}}
""",
        encoding="utf-8",
    )
    return path


def test_an_unpriced_model_makes_the_cost_unknown_not_zero(
    server: FakeOpenAIServer, project: Path
) -> None:
    _, _, m = run_completed(_recipe(project, server, "openai/fake"), project / "a")
    assert m["totals"]["cost_usd"] is None
    assert m["nodes"]["g"]["cost_usd"] is None and m["nodes"]["g"]["unpriced_calls"] == 2
    report = (project / "a" / "report.html").read_text("utf-8")
    assert "$0<" not in report


def test_a_priced_model_has_a_cost(server: FakeOpenAIServer, project: Path) -> None:
    _, _, m = run_completed(_recipe(project, server, "openai/gpt-4o-mini"), project / "b")
    assert m["totals"]["cost_usd"] > 0
    assert m["nodes"]["g"]["cost_usd"] == m["totals"]["cost_usd"]
    assert "unpriced_calls" not in m["nodes"]["g"]
