"""Mix bands that hold at run time: the written synthetic share and real floor, through
the CLI against the test server (generated rows are the synthetic part)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import manifest, rows

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer

RECIPE = """\
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{base}"}}
sources:
  topics: {{records: [{topics}]}}
  human: {{records: [{human}]}}
steps:
  - id: g
    from: topics
    generate: {{template: "Write about {{{{ t }}}}", model: gen, into: text}}
  - id: kept
    filter: "{keep}"
  - id: train
    mix:
      stage: pretraining
      stage_policy: {policy}
      min_real: 0.65
      {total}
      parts: [{{from: human, ratio: 0.65}}, {{from: kept, ratio: 0.35}}]
"""


def write(
    project: Path,
    server: FakeOpenAIServer,
    *,
    total: int | None,
    policy: str = "strict",
    topics: int = 40,
    human: int = 70,
    keep: str = "true",
) -> Path:
    path = project / "r.yaml"
    path.write_text(
        RECIPE.format(
            base=server.base_url,
            topics=", ".join(f'{{t: "topic {i}"}}' for i in range(topics)),
            human=", ".join(f'{{t: "h{i}", text: "human {i}"}}' for i in range(human)),
            keep=keep,
            policy=policy,
            total=f"total: {total}" if total is not None else "",
        ),
        encoding="utf-8",
    )
    return path


def run(recipe: Path) -> int:
    return main(["run", str(recipe), "--out", str(recipe.parent / "out")])


def synthetic_rows(project: Path) -> tuple[int, int]:
    """(synthetic, all) rows in the written dataset."""
    data = rows(project)
    return sum(not r["text"].startswith("human ") for r in data), len(data)


@pytest.mark.parametrize(
    ("total", "synthetic"),
    [(5, 1), (7, 2), (100, 35)],  # 5: largest remainder gave 2 (40%): now 1 (20%)
)
def test_fixed_totals_write_a_split_inside_band_and_floor(
    server: FakeOpenAIServer,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    total: int,
    synthetic: int,
) -> None:
    assert run(write(project, server, total=total)) == 0
    assert synthetic_rows(project) == (synthetic, total)
    m = manifest(project)
    note = m["nodes"]["train"]["mix"]
    assert note["synthetic_share"] == round(synthetic / total, 4)
    assert (note["configured_share"], note["status"], note["real_status"]) == (0.35, "ok", "ok")
    assert m["status"] == "completed" and m["violations"] == []
    assert "warning" not in capsys.readouterr().err
    card = (project / "out" / "README.md").read_text("utf-8")
    share = f"{100 * synthetic / total:.1f}%"
    assert f"Written synthetic share {share} (configured 35.0%)" in card


def test_a_total_no_split_can_hold_is_refused_at_validate(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = write(project, server, total=2)
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    line = recipe.read_text().splitlines().index("      total: 2") + 1
    assert (
        f"r.yaml:{line}:14: error: mix 'train': no split of total 2 into whole records "
        "holds the pretraining band 20%-35% synthetic and min_real 65%" in err
    )
    assert "hint: totals that can: 3, 4, 5" in err
    assert run(recipe) == 2
    assert not (project / "out").exists()


def test_under_warn_the_total_runs_keeps_the_floor_and_warns(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = write(project, server, total=2, policy="warn")
    assert run(recipe) == 0
    err = capsys.readouterr().err
    assert "warning: mix 'train': no split of total 2" in err  # validate
    assert (
        "warning: mix 'train' wrote 0 synthetic of 2 records (0.0%), outside the pretraining "
        "band 20%-35%; taken: human 2 of 70 (real), kept 0 of 40 (synthetic)" in err
    )
    assert synthetic_rows(project) == (0, 2)  # 100% real holds min_real
    m = manifest(project)
    assert m["status"] == "completed"
    assert [(v["node"], v["fatal"]) for v in m["violations"]] == [("train", False)]
    note = m["nodes"]["train"]["mix"]
    assert (note["synthetic_share"], note["status"], note["real_status"]) == (0.0, "warn", "ok")
    card = (project / "out" / "README.md").read_text("utf-8")
    assert "Written synthetic share 0.0% (configured 35.0%)" in card
    assert "band 20.0%–35.0% (warn)" in card


def test_a_synthetic_shortfall_moves_the_total_to_one_that_holds(
    server: FakeOpenAIServer, project: Path
) -> None:
    # The filter keeps one generated row: the exact ratios allow 1 / 0.35 = 2 rows
    # (1 + 1, 50%); 3 rows (2 + 1, 33%) hold the band and the floor.
    recipe = write(project, server, total=None, keep="t == 'topic 3'")
    assert run(recipe) == 0
    assert synthetic_rows(project) == (1, 3)
    note = manifest(project)["nodes"]["train"]["mix"]
    assert (note["achieved_total"], note["limited_by"], note["status"]) == (3, "kept", "ok")


def test_a_real_shortfall_no_split_can_hold_fails_the_strict_run(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = write(project, server, total=None, human=1)
    assert main(["validate", str(recipe)]) == 0  # only the run can know
    capsys.readouterr()
    assert run(recipe) == 1
    err = capsys.readouterr().err
    message = (
        "mix 'train' wrote 0 synthetic of 1 record (0.0%), outside the pretraining band "
        "20%-35%; taken: human 1 of 1 (real), kept 0 of 40 (synthetic)"
    )
    assert f"error: the written data breaks the recipe's rules:\n  {message}" in err
    m = manifest(project)
    assert (m["status"], m["reason"]) == ("failed", "violation")
    assert m["violations"] == [{"node": "train", "message": message, "fatal": True}]
    assert m["nodes"]["train"]["mix"]["synthetic_share"] == 0.0
    partial = (project / "out" / "dataset.partial.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(x)["text"] for x in partial] == ["human 0"]  # nothing lost
    report = (project / "out" / "report.html").read_text("utf-8")
    assert "written synthetic share 0.0% is outside the pretraining band" in report
    # The same shortfall under warn: the run completes and says so.
    write(project, server, total=None, human=1, policy="warn")
    assert run(recipe) == 0
    assert f"warning: {message}" in capsys.readouterr().err
