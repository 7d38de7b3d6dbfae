"""A generate step's JSON Schema is checked: the schema when the recipe compiles, and
every reply against it at run time.

Before, ``{"front": 5}`` passed for required string fields ``front`` and ``back``: the
schema was only sent to the provider. The loopback server is told what to answer, on
the first call and on every corrected reply asked for (``[[replies: ...]]``), so the
replies that break the schema are real HTTP replies, and stay broken.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_completed

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer

SCHEMA = (
    "{type: object, required: [front, back], additionalProperties: false, "
    'properties: {front: {type: string, pattern: "^[A-Z]"}, back: {type: string}}}'
)


def _recipe(project: Path, server: FakeOpenAIServer, replies: list[str], schema: str) -> Path:
    rows = ", ".join(json.dumps({"r": r}) for r in replies)
    path = project / "r.yaml"
    path.write_text(
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: card
    generate: {{model: gen, template: "[[replies: {{{{ r }}}}]]", into: card, json: {schema}}}
""",
        encoding="utf-8",
    )
    return path


def test_replies_that_break_the_schema_are_failed_samples(
    server: FakeOpenAIServer, project: Path
) -> None:
    replies = [
        '{"front": "Paris?", "back": "France"}',  # fits
        '{"front": 5, "back": "x"}',  # a number where a string is required
        '{"front": "Rome?"}',  # 'back' missing
        '{"front": "lower", "back": "x"}',  # breaks the pattern
        '{"front": "Oslo?", "back": "Norway", "extra": 1}',  # no extra keys allowed
    ]
    replies += [f'{{"front": "Q{i}?", "back": "A{i}"}}' for i in range(5)]  # most fit
    rows, rejects, manifest = run_completed(
        _recipe(project, server, replies, SCHEMA), project / "out"
    )
    assert [r["card"] for r in rows] == [{"front": "Paris?", "back": "France"}] + [
        {"front": f"Q{i}?", "back": f"A{i}"} for i in range(5)
    ]
    reasons = sorted(r["error"] for r in rejects)
    assert len(reasons) == 4 and all(
        r.startswith("reply does not match the json schema: ") for r in reasons
    )
    assert any("front: 5 is not of type 'string'" in r for r in reasons)
    assert any("'back' is a required property" in r for r in reasons)
    assert any("does not match '^[A-Z]'" in r for r in reasons)
    assert any("Additional properties are not allowed" in r for r in reasons)
    assert manifest["nodes"]["card"]["failed"] == {"schema_mismatch": 4}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("{type: objekt}", "json: not a valid JSON Schema at type: "),
        ('{type: string, pattern: "(a)\\\\1"}', "json: pattern '(a)\\\\1': "),
    ],
)
def test_a_bad_schema_is_an_error_at_its_line(
    server: FakeOpenAIServer,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    schema: str,
    message: str,
) -> None:
    recipe = _recipe(project, server, ["{}"], schema)
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "r.yaml:9:" in err and message in err
