"""Structured replies: a reply that is not JSON, or breaks the step's schema, is answered
with the error as a follow-up turn and asked again, a bounded number of times; then it
is a recorded failure carrying the error and the (cut) reply.

Every call goes over HTTP to the loopback server through the real provider layer. The
server answers a conversation's turns in order (``[[replies: A ||| B]]``: A first, B
once the messages hold one assistant reply) and keeps the messages it was sent, so the
tests read the follow-up turn the server saw.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import run_completed

from synthdsl.cli import main
from synthdsl.nodes.structured_reply import ECHO_CHARS
from synthdsl.testing.fake_openai import FakeOpenAIServer

CARD = (
    "{type: object, required: [front, back], additionalProperties: false, "
    "properties: {front: {type: string}, back: {type: string}}}"
)
DECK = (
    "{type: object, required: [cards], properties: {cards: {type: array, items: "
    "{type: object, required: [front, back], properties: "
    "{front: {type: string}, back: {type: string}}}}}}"
)


def _recipe(
    project: Path,
    server: FakeOpenAIServer,
    turns: list[list[str]],
    *,
    json_spec: str = CARD,
    extra: str = "",
) -> Path:
    """One record per entry of ``turns``; record i is answered turns[i][0], then
    turns[i][1] on the first retry, and so on (the last one repeats)."""
    rows = ", ".join(json.dumps({"i": i, "r": " ||| ".join(t)}) for i, t in enumerate(turns))
    path = project / "r.yaml"
    path.write_text(
        f"""synthdsl: 1
run: {{max_failure_rate: 1}}
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: card
    generate:
      model: gen
      template: "Card {{{{ i }}}} [[replies: {{{{ r }}}}]]"
      into: card
      json: {json_spec}{extra}
""",
        encoding="utf-8",
    )
    return path


def _followups(server: FakeOpenAIServer) -> list[list[dict[str, Any]]]:
    """The conversations the server saw that carried a follow-up turn."""
    return [m for m in server.conversations() if len(m) > 1]


def test_an_invalid_reply_is_retried_with_the_error_and_the_corrected_one_kept(
    server: FakeOpenAIServer, project: Path
) -> None:
    bad, good = '{"front": 5, "back": "x"}', '{"front": "Paris?", "back": "France"}'
    rows, rejects, manifest = run_completed(
        _recipe(project, server, [[bad, good]]), project / "out"
    )
    assert [r["card"] for r in rows] == [{"front": "Paris?", "back": "France"}]
    assert rejects == []
    assert server.stats()["requests"] == 2
    [conversation] = _followups(server)
    assert [m["role"] for m in conversation] == ["user", "assistant", "user"]
    assert conversation[1]["content"] == bad  # the bad reply, as the model's own turn
    ask = conversation[2]["content"]
    assert 'at "front"' in ask and "5 is not of type 'string'" in ask
    assert "corrected JSON only" in ask
    node = manifest["nodes"]["card"]
    assert (node["schema_retries"], node["schema_failures"], node["failed"]) == (1, 0, {})
    assert node["calls"] == 2


def test_the_error_path_names_the_nested_item(server: FakeOpenAIServer, project: Path) -> None:
    bad = '{"cards": [{"front": "a", "back": "b"}, {"front": "c"}]}'
    good = '{"cards": [{"front": "a", "back": "b"}]}'
    rows, _, _ = run_completed(
        _recipe(project, server, [[bad, good]], json_spec=DECK), project / "out"
    )
    assert rows[0]["card"] == {"cards": [{"front": "a", "back": "b"}]}
    [conversation] = _followups(server)
    assert "at \"cards/1\": 'back' is a required property" in conversation[2]["content"]


def test_an_always_invalid_reply_fails_after_exactly_retries_plus_one_calls(
    server: FakeOpenAIServer, project: Path
) -> None:
    bad = '{"front": "Rome?"}'
    recipe = _recipe(project, server, [[bad]], extra="\n      json_retries: 3")
    rows, rejects, manifest = run_completed(recipe, project / "out")
    assert rows == []
    assert server.stats()["requests"] == 4
    # each retry adds the bad reply and the error to the conversation
    assert sorted(len(m) for m in server.conversations()) == [1, 3, 5, 7]
    [reject] = rejects
    assert reject["status"] == "failed" and reject["reason"] == "schema_mismatch"
    assert reject["error"] == (
        "reply does not match the json schema: 'back' is a required property"
    )
    assert reject["detail"] == {"attempts": 4, "reply": bad, "path": ""}
    node = manifest["nodes"]["card"]
    assert node["failed"] == {"schema_mismatch": 1}
    assert (node["schema_retries"], node["schema_failures"]) == (3, 1)


def test_a_reply_that_is_not_json_is_retried_too(server: FakeOpenAIServer, project: Path) -> None:
    prose = "Sure! Here is your flashcard: front is Paris, back is France."
    good = '{"front": "Paris?", "back": "France"}'
    rows, _, manifest = run_completed(_recipe(project, server, [[prose, good]]), project / "out")
    assert [r["card"] for r in rows] == [{"front": "Paris?", "back": "France"}]
    [conversation] = _followups(server)
    assert conversation[2]["content"].startswith("Your reply is not valid JSON (no JSON found")
    assert manifest["nodes"]["card"]["schema_retries"] == 1


def test_json_true_without_retries_fails_a_prose_reply_at_once(
    server: FakeOpenAIServer, project: Path
) -> None:
    recipe = _recipe(
        project, server, [["no json here"]], json_spec="true", extra="\n      json_retries: 0"
    )
    rows, rejects, manifest = run_completed(recipe, project / "out")
    assert rows == [] and server.stats()["requests"] == 1
    assert [(r["reason"], r["detail"]) for r in rejects] == [
        ("invalid_json", {"attempts": 1, "reply": "no json here"})
    ]
    assert rejects[0]["error"].startswith("model output is not JSON: no JSON found")
    node = manifest["nodes"]["card"]
    assert (node["schema_retries"], node["schema_failures"]) == (0, 1)


def test_a_long_bad_reply_is_cut_where_it_is_fed_back_and_kept(
    server: FakeOpenAIServer, project: Path
) -> None:
    long = "x" * (ECHO_CHARS + 1000)
    recipe = _recipe(project, server, [[long]], extra="\n      json_retries: 1")
    _, rejects, _ = run_completed(recipe, project / "out")
    cut = "x" * ECHO_CHARS + "… [1000 more characters]"
    assert rejects[0]["detail"]["reply"] == cut
    [conversation] = _followups(server)
    assert conversation[1]["content"] == cut


def test_manifest_counts_over_several_records(server: FakeOpenAIServer, project: Path) -> None:
    good = '{"front": "Q?", "back": "A"}'
    turns = [[good], ['{"front": 1}', good], ["prose", "still prose", good], ["5"]]
    rows, rejects, manifest = run_completed(_recipe(project, server, turns), project / "out")
    assert len(rows) == 3 and [r["reason"] for r in rejects] == ["schema_mismatch"]
    node = manifest["nodes"]["card"]
    # record 1: one retry; record 2: two; record 3: two, then it fails
    assert (node["schema_retries"], node["schema_failures"]) == (5, 1)
    assert node["calls"] == 1 + 2 + 3 + 3
    assert "schema retries" in (project / "out" / "report.html").read_text("utf-8")


def test_a_cached_rerun_makes_no_call_and_yields_the_same_dataset(
    server: FakeOpenAIServer, project: Path
) -> None:
    good = '{"front": "Q?", "back": "A"}'
    turns = [['{"front": 1}', good], ["prose", good], ['{"back": "x"}']]
    recipe = _recipe(project, server, turns)
    first = run_completed(recipe, project / "one")
    made = server.stats()["requests"]
    assert made == 2 + 2 + 3
    second = run_completed(recipe, project / "two")
    assert server.stats()["requests"] == made  # every attempt came from the cache
    assert second[0] == first[0] and second[1] == first[1]
    node = second[2]["nodes"]["card"]
    assert (node["calls"], node["cache_hits"]) == (0, made)
    assert (node["schema_retries"], node["schema_failures"]) == (4, 1)


def test_a_step_without_json_reports_no_schema_counts(
    server: FakeOpenAIServer, project: Path
) -> None:
    path = project / "r.yaml"
    path.write_text(
        f"""synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{{t: a}}]}}
steps:
  - id: say
    generate: {{model: gen, template: "Say {{{{ t }}}}"}}
""",
        encoding="utf-8",
    )
    _, _, manifest = run_completed(path, project / "out")
    assert "schema_retries" not in manifest["nodes"]["say"]


@pytest.mark.parametrize(
    ("extra", "json_spec", "line", "message"),
    [
        ("\n      json_retries: 6", CARD, 14, "json_retries in step 'card' must be at most 5"),
        ("\n      json_retries: 1", "false", 14, "json_retries needs json:"),
        ("", "{schema: no_such_schema}", 13, "no installed plugin registers the schema"),
        ("", "{schema: 'os.path:join'}", 13, "'os.path:join'"),
    ],
)
def test_bad_settings_are_errors_at_their_line(
    server: FakeOpenAIServer,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    extra: str,
    json_spec: str,
    line: int,
    message: str,
) -> None:
    recipe = _recipe(project, server, [["{}"]], json_spec=json_spec, extra=extra)
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert f"r.yaml:{line}:" in err and message in err
    assert "Traceback" not in err


def test_with_plugins_off_the_hint_says_so(
    server: FakeOpenAIServer,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SYNTHDSL_NO_PLUGINS", "1")
    recipe = _recipe(project, server, [["{}"]], json_spec="{schema: flashcard}")
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "r.yaml:13:" in err
    assert "hint: plugins are turned off (SYNTHDSL_NO_PLUGINS=1)" in err
