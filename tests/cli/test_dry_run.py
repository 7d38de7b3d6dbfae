"""``synthdsl run R --dry-run``: the plan and the first prompts of every LLM step,
rendered from real source rows, with what upstream steps would write shown as
placeholders; no call reaches the server and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.errors import Span
from synthdsl.lang.templates import inline_template
from synthdsl.run.dry_run import placeholder
from synthdsl.testing.fake_openai import FakeOpenAIServer

TOPICS = ["tides", "volcanoes", "magnets", "comets"]


def _project(root: Path, base_url: str) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data" / "topics.jsonl").write_text(
        "".join(f'{{"topic": "{t}", "level": {i}}}\n' for i, t in enumerate(TOPICS))
    )
    recipe = root / "recipe.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: dry
models:
  gen: {{model: openai/fake, api_base: "{base_url}"}}
sources:
  s: {{path: data/topics.jsonl}}
steps:
  - id: ask
    generate: {{template: "Level {{{{ level }}}}: ask about {{{{ topic }}}}.", model: gen,
               into: question, system: "You teach."}}
  - id: short
    filter: "words(question) < 50"
  - id: answer
    generate: {{template: "Answer {{{{ question }}}} about {{{{ topic }}}}", model: gen,
               into: answer}}
  - id: score
    judge: {{template: "Q: {{{{ question }}}} A: {{{{ answer }}}}", model: gen}}
""",
        encoding="utf-8",
    )
    return recipe


def test_dry_run_renders_real_rows_with_placeholders_and_calls_nothing(
    server: FakeOpenAIServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    recipe = _project(project / "proj", server.base_url)
    elsewhere = project / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the source path resolves against the recipe's folder
    assert main(["run", str(recipe), "--dry-run", "-n", "2"]) == 0
    out = capsys.readouterr().out
    assert server.stats()["requests"] == 0
    assert list(elsewhere.iterdir()) == [] and sorted(p.name for p in project.iterdir()) == [
        "elsewhere",
        "proj",
    ]
    assert not (project / "cache.sqlite").exists()
    assert "total: ≤ 12 LLM calls" in out  # the plan comes first
    ask, answer, score = out.split("─" * 60)[1:]
    assert "[system]\n    You teach." in ask
    assert "Level 0: ask about tides." in ask and "Level 1: ask about volcanoes." in ask
    assert "magnets" not in out  # two rows only
    assert "placeholders" not in ask
    assert "Answer ⟨ask.question⟩ about tides" in answer
    assert "placeholders (filled during the run): ⟨ask.question⟩" in answer
    assert "Q: ⟨ask.question⟩ A: ⟨answer.answer⟩" in score
    assert score.count("· prompt") == 2


def test_dry_run_count_must_be_positive(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _project(project, server.base_url)
    with pytest.raises(SystemExit) as stop:
        main(["run", str(recipe), "--dry-run", "-n", "0"])
    assert stop.value.code == 2
    assert server.stats()["requests"] == 0


def test_a_placeholder_stands_for_a_list_of_records_in_a_template() -> None:
    tmpl = inline_template(
        "{% for d in demos %}- {{ d.instruction }} ({{ d['why'] }}){% endfor %}",
        Span("t", 1, 1),
        "t",
    )
    text = tmpl.render({"demos": placeholder("pick", "demos")})
    assert text == "- ⟨pick.demos.instruction⟩ (⟨pick.demos.why⟩)"
