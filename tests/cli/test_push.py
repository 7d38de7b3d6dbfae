"""``synthdsl push RUN_DIR REPO``: a run's data and card reach a dataset repository through
``huggingface_hub``, against the loopback stand-in for the Hub (``FakeHub``); the token
comes from ``HF_TOKEN`` and lands in no file and no output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.testing.fake_hub import FakeHub

TOKEN = "hf_pushTestToken0123456789abcdef"

RECIPE = """
synthdsl: 1
name: push-me
sources:
  s:
    records: [{n: 1, text: "one fine line"}, {n: 2, text: "two more words"}, {n: 3, text: "x"}]
    license: mit
steps:
  - id: keep
    from: s
    filter: "n >= 2"
output: {license: mit}
"""


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeHub]:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    with FakeHub(token=TOKEN) as h:
        yield h


@pytest.fixture
def run_dir(project: Path) -> Path:
    recipe = project / "recipe.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    out = project / "out"
    assert main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    assert (out / "README.md").exists()
    return out


def no_token_anywhere(tmp_path: Path, *texts: str) -> None:
    for text in texts:
        assert TOKEN not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_push_uploads_the_data_and_the_card(
    hub: FakeHub, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["push", str(run_dir), "me/data", "--private", "--revision", "v1"]
    assert main([*argv, "--endpoint", hub.url]) == 0
    out, err = capsys.readouterr()
    assert "pushed 2 files to me/data@v1: dataset.jsonl, README.md" in out
    repo = hub.repos["me/data"]
    assert repo.repo_type == "dataset" and repo.private is True
    assert repo.branches["main"] == {}
    uploaded = repo.branches["v1"]
    assert sorted(uploaded) == ["README.md", "dataset.jsonl"]
    for name, data in uploaded.items():
        assert data == (run_dir / name).read_bytes()
    assert len(repo.commits) == 1 and "push-me" in str(repo.commits[0]["summary"])
    assert {r.authorization for r in hub.requests} == {f"Bearer {TOKEN}"}
    paths = [r.path for r in hub.requests]
    assert "/api/repos/create" in paths and "/api/datasets/me/data/commit/v1" in paths
    no_token_anywhere(tmp_path, out, err)


def test_a_second_push_updates_the_same_repo(
    hub: FakeHub, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["push", str(run_dir), "me/data", "--endpoint", hub.url + "/"]) == 0
    (run_dir / "dataset.jsonl").write_text('{"n": 9}\n', encoding="utf-8")
    assert main(["push", str(run_dir), "me/data", "--endpoint", hub.url]) == 0
    repo = hub.repos["me/data"]
    assert repo.private is False and len(repo.commits) == 2
    assert repo.branches["main"]["dataset.jsonl"] == b'{"n": 9}\n'


def test_hf_endpoint_points_a_fresh_process_at_the_hub(
    hub: FakeHub, run_dir: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_TOKEN": TOKEN}
    done = subprocess.run(
        [sys.executable, "-m", "synthdsl.cli", "push", str(run_dir), "org/set"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(hub.repos["org/set"].branches["main"]) == ["README.md", "dataset.jsonl"]
    no_token_anywhere(tmp_path, done.stdout, done.stderr)


def test_no_token_is_a_one_line_error_before_any_request(
    hub: FakeHub, run_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HF_TOKEN")
    assert main(["push", str(run_dir), "me/data", "--endpoint", hub.url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("synthdsl: error: HF_TOKEN is not set") and err.count("\n") == 1
    assert hub.requests == []


def test_a_refused_token_is_a_one_line_error_without_the_token(
    hub: FakeHub,
    run_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = "hf_wrongToken_zyxwvutsrq"
    monkeypatch.setenv("HF_TOKEN", wrong)
    assert main(["push", str(run_dir), "me/data", "--endpoint", hub.url]) == 1
    out, err = capsys.readouterr()
    assert "refused the token in HF_TOKEN (401)" in err and err.count("\n") == 1
    assert "Traceback" not in err and wrong not in err + out
    assert hub.repos == {}
    assert {r.authorization for r in hub.requests} == {f"Bearer {wrong}"}


def test_private_asked_of_an_existing_public_repo_is_refused(
    hub: FakeHub, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_repo("me/open", private=False)
    assert main(["push", str(run_dir), "me/open", "--private", "--endpoint", hub.url]) == 1
    err = capsys.readouterr().err
    assert "me/open exists and is public" in err and err.count("\n") == 1
    assert hub.repos["me/open"].commits == []
    # an existing private repo takes the push
    hub.add_repo("me/closed", private=True)
    assert main(["push", str(run_dir), "me/closed", "--private", "--endpoint", hub.url]) == 0


def test_a_dead_endpoint_is_a_one_line_error(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with FakeHub(token=TOKEN) as gone:
        dead = gone.url  # a port that was just listening and now is not
    assert main(["push", str(run_dir), "me/data", "--endpoint", dead]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"synthdsl: error: cannot reach {dead}") and err.count("\n") == 1
    assert TOKEN not in err


def test_a_run_that_did_not_complete_is_not_pushed(
    hub: FakeHub, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = run_dir / "manifest.json"
    manifest.write_text(
        manifest.read_text("utf-8").replace('"status": "completed"', '"status": "interrupted"'),
        encoding="utf-8",
    )
    assert main(["push", str(run_dir), "me/data", "--endpoint", hub.url]) == 1
    assert "the run is interrupted, not completed" in capsys.readouterr().err
    assert hub.requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["RUN", "not a repo"], "is not a repository id"),
        (["RUN", "me/a/b"], "is not a repository id"),
        (["nowhere", "me/data"], "not a directory"),
        (["RUN", "me/data", "--endpoint", "ftp://x"], "is not an http(s) URL"),
        (["RUN", "me/data", "--revision", "a b"], "is not a branch name"),
        (["RUN"], "the following arguments are required: REPO"),
        (["RUN", "me/data", "--token", "x"], "unrecognized arguments: --token"),
    ],
)
def test_bad_arguments_exit_2(
    hub: FakeHub,
    run_dir: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    argv = ["push", *[str(run_dir) if a == "RUN" else a for a in args]]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = int(str(exc.code))
    assert code == 2
    assert message in capsys.readouterr().err
    assert hub.requests == []


def test_a_readme_of_the_users_is_pushed_as_it_is_beside_the_card(
    hub: FakeHub, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = project / "recipe.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    out = project / "out"
    out.mkdir()
    (out / "README.md").write_text("# Mine\n", encoding="utf-8")
    assert main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    assert main(["push", str(out), "me/data", "--endpoint", hub.url]) == 0
    files = hub.repos["me/data"].branches["main"]
    assert sorted(files) == ["DATASET_CARD.md", "README.md", "dataset.jsonl"]
    assert files["README.md"] == b"# Mine\n"
    assert files["DATASET_CARD.md"] == (out / "DATASET_CARD.md").read_bytes()


def test_provenance_beside_the_data_is_pushed_with_it(hub: FakeHub, project: Path) -> None:
    recipe = project / "recipe.yaml"
    recipe.write_text(
        RECIPE.replace(
            "output: {license: mit}",
            "output: {license: mit, shape: alpaca, instruction_field: text, response_field: text}",
        ),
        encoding="utf-8",
    )
    out = project / "out"
    assert main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    assert main(["push", str(out), "me/data", "--endpoint", hub.url]) == 0
    files = hub.repos["me/data"].branches["main"]
    assert sorted(files) == ["README.md", "dataset.jsonl", "dataset.provenance.jsonl"]
    assert files["dataset.provenance.jsonl"] == (out / "dataset.provenance.jsonl").read_bytes()
