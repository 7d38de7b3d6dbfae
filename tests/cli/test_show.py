"""``synthdsl show RUN_DIR``: the prompts a run sent and the replies it got, from the
run folder's ``calls.jsonl``, checked against what the loopback server received."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import read_jsonl

from synthdsl.cli import main
from synthdsl.cli.show import cut
from synthdsl.testing.fake_openai import FakeOpenAIServer

TOPICS = ["tides", "volcanoes", "magnets", "comets"]


def _project(root: Path, base_url: str, model_extra: str = "") -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data" / "topics.jsonl").write_text(
        "".join(json.dumps({"topic": t}) + "\n" for t in TOPICS)
    )
    recipe = root / "recipe.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: shown
models:
  gen: {{model: openai/fake, api_base: "{base_url}"{model_extra}}}
sources:
  s: {{path: data/topics.jsonl}}
steps:
  - id: ask
    generate: {{template: "Ask one question about {{{{ topic }}}}.", model: gen,
               into: question, system: "You teach."}}
  - id: keep
    filter: "words(question) > 0"
  - id: answer
    generate: {{template: "Answer briefly: {{{{ question }}}}", model: gen, into: answer}}
""",
        encoding="utf-8",
    )
    return recipe


def _run(recipe: Path, out: Path, *args: str) -> None:
    assert main(["run", str(recipe), "--quiet", "--no-report", "--out", str(out), *args]) == 0


def test_show_prints_the_prompt_the_server_received_and_its_reply(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _project(project / "p", server.base_url)
    out = project / "out"
    _run(recipe, out)
    sent = server.conversations()
    capsys.readouterr()

    assert main(["show", str(out), "--node", "answer", "-n", "2", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert len(shown) == 2
    dataset = {r["_provenance"]["parents"][0]: r for r in read_jsonl(out / "dataset.jsonl")}
    for rec in shown:
        (call,) = rec["calls"]
        assert call["node"] == "answer" and call["cached"] is False
        assert call["model"] == "openai/fake" and call["alias"] == "gen"
        assert call["messages"] in sent  # exactly what the server was sent
        # the reply is the answer field of the dataset row made from this record
        assert dataset[rec["record"]]["answer"] == call["reply"]

    assert main(["show", str(out), "--node", "answer", "-n", "1"]) == 0
    text = capsys.readouterr().out
    first = shown[0]["calls"][0]
    assert text.startswith("answer: 1 of 4 record(s)")
    assert f"record {shown[0]['record']}" in text
    assert f"  [user]\n    {first['messages'][0]['content']}\n" in text
    assert f"  [reply]\n    {first['reply'].splitlines()[0]}" in text
    assert text.count("  [reply]") == 1


def test_show_after_a_fully_cached_rerun_still_has_every_prompt(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _project(project / "p", server.base_url)
    out = project / "out"
    _run(recipe, out)
    first = read_jsonl(out / "calls.jsonl")
    server.reset()
    _run(recipe, out)
    assert server.stats()["requests"] == 0
    again = read_jsonl(out / "calls.jsonl")
    assert all(c["cached"] for c in again) and len(again) == len(first) == 8

    def key(c: dict[str, object]) -> str:
        return json.dumps([c["node"], c["record"], c["messages"], c["reply"]])

    assert sorted(map(key, again)) == sorted(map(key, first))
    capsys.readouterr()
    assert main(["show", str(out)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["node", "answers", "cached", "failed", "records", "models"]
    assert listing[1].split() == ["ask", "4", "4", "0", "4", "openai/fake"]
    assert listing[2].split() == ["answer", "4", "4", "0", "4", "openai/fake"]
    assert main(["show", str(out), "--node", "ask", "-n", "1"]) == 0
    assert "from the cache" in capsys.readouterr().out


def test_secrets_in_the_environment_and_headers_never_reach_calls_jsonl(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-planted-7f3a9c-never-write-me"
    monkeypatch.setenv("SHOW_TEST_KEY", secret)
    with FakeOpenAIServer(require_api_key=secret) as locked:
        base_url = locked.base_url
        recipe = _project(project / "p", base_url, ", api_key_env: SHOW_TEST_KEY")
        out = project / "out"
        _run(recipe, out)
        assert locked.stats()["auth_headers_seen"]  # the key did travel, as a header
    text = (out / "calls.jsonl").read_text("utf-8")
    assert len(text.splitlines()) == 8
    assert secret not in text and "SHOW_TEST_KEY" not in text
    assert "Authorization" not in text and base_url not in text
    for path in out.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text("utf-8", errors="replace"), path


def test_show_names_the_known_nodes_and_says_when_there_is_nothing(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _project(project / "p", server.base_url)
    out = project / "out"
    _run(recipe, out)
    capsys.readouterr()
    assert main(["show", str(out), "--node", "answr"]) == 2
    err = capsys.readouterr().err
    assert "no node 'answr'" in err and "ask, answer" in err and "did you mean 'answer'?" in err
    assert main(["show", str(out), "--node", "keep"]) == 2  # a filter calls no model

    (out / "calls.jsonl").unlink()
    assert main(["show", str(out)]) == 1
    assert "no calls.jsonl" in capsys.readouterr().err
    assert main(["show", str(project / "missing")]) == 1


def test_long_text_is_cut_on_a_terminal_only() -> None:
    long = "\n".join(f"line {i}" for i in range(40))
    shown = cut(long)
    assert shown.startswith("line 0\n") and "line 11" in shown and "line 12" not in shown
    assert shown.endswith(
        f"… ({len(long) - len(chr(10).join(long.splitlines()[:12]))} more "
        "characters; --full shows all)"
    )
    assert cut("short reply") == "short reply"
    wide = "x" * 5000
    assert cut(wide).startswith("x" * 1200 + "\n… (3800 more characters")
