"""``synthdsl preview R -n N``: a real run of the first N rows into a temporary folder,
printed step by step (JSON lines when stdout is not a terminal), against the loopback
server; its calls land in the project's cache for the next run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer

TOPICS = ["tides", "volcanoes", "[[fault:400]] magnets", "comets", "rain", "wind", "ice"]


def _project(root: Path, base_url: str) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data" / "topics.jsonl").write_text(
        "".join(json.dumps({"topic": t, "n": i}) + "\n" for i, t in enumerate(TOPICS))
    )
    recipe = root / "recipe.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: previewed
models:
  gen: {{model: openai/fake, api_base: "{base_url}"}}
sources:
  s: {{path: data/topics.jsonl}}
steps:
  - id: ask
    generate: {{template: "Ask one question about {{{{ topic }}}}.", model: gen, into: question}}
  - id: keep
    filter: "topic != 'rain'"
  - id: bump
    set: {{n: "{{{{ n + 100 }}}}"}}
  - id: answer
    generate: {{template: "Answer briefly: {{{{ question }}}}", model: gen, into: answer}}
""",
        encoding="utf-8",
    )
    return recipe


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_preview_runs_five_rows_and_prints_each_step_as_json_lines(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _project(project / "p", server.base_url)
    assert main(["preview", str(recipe), "-n", "5"]) == 0
    # rows 0-4: five questions asked (one refused by the server), three answered
    # (the failed row and the filtered one never reach `answer`)
    assert server.stats()["requests"] == 8
    steps = _lines(capsys.readouterr().out)  # stdout is not a terminal: JSON lines
    assert [s["row"] for s in steps] == sorted(s["row"] for s in steps)
    by_row: dict[int, list[dict[str, Any]]] = {}
    for s in steps:
        by_row.setdefault(s["row"], []).append(s)
    assert sorted(by_row) == [0, 1, 2, 3, 4]  # the first five rows only

    def path(row: int) -> list[tuple[str, str, list[str], list[str]]]:
        return [
            (s["node"], s["status"], sorted(s["added"]), sorted(s["changed"])) for s in by_row[row]
        ]

    done = [
        ("s", "passed", ["n", "topic"], []),
        ("ask", "passed", ["question"], []),
        ("keep", "passed", [], []),
        ("bump", "passed", [], ["n"]),
        ("answer", "passed", ["answer"], []),
    ]
    assert path(0) == path(1) == path(3) == done
    assert path(2) == [("s", "passed", ["n", "topic"], []), ("ask", "failed", [], [])]
    assert by_row[2][1]["reason"] == "bad_request" and "400" in str(by_row[2][1]["error"])
    assert path(4)[-1] == ("keep", "dropped", [], [])
    assert by_row[4][-1]["reason"] == "filter: not (topic != 'rain')"
    bumped = by_row[1][3]
    assert bumped["changed"] == {"n": 101}
    answer = by_row[0][4]
    assert answer["record"] != by_row[0][1]["record"]  # a new record, made from ask's
    assert isinstance(answer["added"], dict) and answer["added"]["answer"]
    # nothing written into the project but the call cache
    assert sorted(p.name for p in project.iterdir()) == ["cache.sqlite", "p"]
    assert sorted(p.name for p in (project / "p").iterdir()) == ["data", "recipe.yaml"]

    # a run afterwards reuses the preview's calls for those rows
    server.reset()
    out = project / "out"
    assert main(["run", str(recipe), "--quiet", "--no-report", "--out", str(out)]) == 0
    # rows 5-6: two questions and two answers, and the refused call asked again (a
    # failure is not cached); the other calls of rows 0-4 come from the cache
    assert server.stats()["requests"] == 5


def test_preview_text_and_exit_codes(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _project(project / "p", server.base_url)
    assert main(["preview", str(recipe), "-n", "2", "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert text.startswith('row 1\n  s       +topic "tides"\n          +n 0\n')
    assert "  ask     +question " in text and "  keep    passed, nothing changed" in text
    assert "  bump    ~n 100" in text and "row 2\n" in text and "row 3" not in text

    # the budget stops it as it stops a run (exit 3), and what was traced is printed
    server.reset()
    capsys.readouterr()
    assert main(["preview", str(recipe), "-n", "5", "--fresh", "--max-calls", "1"]) == 3
    captured = capsys.readouterr()
    assert server.stats()["requests"] == 1
    assert "preview stopped at its budget (--max-calls 1)" in captured.err
    assert "partial" not in captured.err  # no rows kept to point at
    assert {s["node"] for s in _lines(captured.out)} >= {"s", "ask"}

    recipe.write_text(recipe.read_text().replace("into: answer", "into: answer, bogus: 1"))
    assert main(["preview", str(recipe)]) == 2
