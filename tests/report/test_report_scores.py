"""Judge score charts: kept and rejected records by score, with the filter threshold.

The fake server answers each judge call with the score its prompt names
(``[[score: N]]``), so the bins of the chart are known in advance.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from synthdsl.cli import main as cli_main
from synthdsl.lang.expr import parse_expression
from synthdsl.lang.expr.thresholds import Threshold, field_thresholds
from synthdsl.report import build_report
from synthdsl.testing.fake_openai import FakeOpenAIServer

SCORES = [2, 2, 5, 7, 7, 7, 9]

RECIPE = """
synthdsl: 1
name: scored
models:
  gen: {{model: openai/fake, api_base: "{base}", max_tokens: 40}}
sources:
  topics: {{records: [{topics}]}}
steps:
  - id: answer
    from: topics
    generate: {{template: "Answer about {{{{ topic }}}}", model: gen, into: response}}
  - id: rate
    judge: {{template: "Rate {{{{ response }}}} {{{{ topic }}}}", model: gen, scale: [1, 10]}}
  - id: keep
    filter: "score >= 5 and words(response) >= 1"
"""


def test_thresholds_of_a_filter_expression() -> None:
    def of(text: str) -> dict[str, Threshold]:
        return field_thresholds(parse_expression(text).root)

    assert of("score >= 5 and words(response) > 3") == {"score": Threshold(">=", 5.0)}
    assert of("7 < quality and len(x) > 1") == {"quality": Threshold(">", 7.0)}
    assert of("score >= 5 or x") == {}
    assert of("not score >= 5") == {}
    assert of("1 <= score < 5") == {}


def test_judge_score_chart_counts_kept_and_dropped(server: FakeOpenAIServer, project: Path) -> None:
    topics = ", ".join(f'{{topic: "t{i} [[score: {s}]]"}}' for i, s in enumerate(SCORES))
    recipe = project / "scored.yaml"
    recipe.write_text(RECIPE.format(base=server.base_url, topics=topics), "utf-8")
    out = project / "out"
    assert cli_main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["nodes"]["rate"]["scores"] == {"field": "score", "scale": [1, 10]}
    assert manifest["nodes"]["keep"]["thresholds"] == {"score": {"op": ">=", "value": 5}}
    html = build_report(out)
    section = re.search(r'<section id="scores">(.*?)</section>', html, re.S)
    assert section, "no judge score section"
    svg = section.group(1)
    assert "<title>Scores of rate (score)</title>" in svg
    bars = dict(re.findall(r"<title>(\d+: (?:kept|dropped|failed)) (\d+)</title>", svg))
    assert bars == {"2: dropped": "2", "5: kept": "1", "7: kept": "3", "9: kept": "1"}
    # every score of the scale has its bar slot, and the threshold line is labelled
    assert all(f">{v}</text>" in svg for v in range(1, 11))
    assert "keep: score &gt;= 5" in svg
    assert 'href="#scores"' in html


def test_no_judge_no_score_section(project: Path) -> None:
    recipe = project / "plain.yaml"
    recipe.write_text(
        "synthdsl: 1\nname: plain\nsources:\n  s: {records: [{a: 1}, {a: 7}]}\n"
        "steps:\n  - id: keep\n    from: s\n    filter: 'a >= 5'\n",
        "utf-8",
    )
    out = project / "out"
    assert cli_main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    assert '<section id="scores">' not in build_report(out)
