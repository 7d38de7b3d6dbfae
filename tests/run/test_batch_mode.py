"""Batch mode end to end: recipes run through the test server's Batch API.

The same recipe gives the same dataset online and in batch mode; failed lines are
retried in later batches (or online) and then accounted for; expired, cancelled and
refused batches the same; a run killed after submitting resumes without submitting
again; the answers land in the call cache; ``plan`` prices batch aliases at half.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import read_jsonl, run_completed

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer

N = 12
FAST = "batch_window: 0.05, poll_interval: 0.02"


def _recipe(project: Path, base_url: str, rows: list[str], model: str = "", n: int = N) -> Path:
    records = ", ".join(json.dumps({"q": f"item {i} {rows[i % len(rows)]}"}) for i in range(n))
    path = project / "r.yaml"
    path.write_text(
        f"""
synthdsl: 1
name: batched
models:
  gen: {{model: openai/fake, api_base: "{base_url}", seed: 7, max_retries: 2{model}}}
sources:
  s: {{records: [{records}]}}
steps:
  - id: ask
    generate: {{template: "{{{{ q }}}}", model: gen, into: question}}
  - id: answer
    generate: {{template: "Answer: {{{{ question }}}}", model: gen, into: answer}}
""",
        encoding="utf-8",
    )
    return path


def _accounted(m: dict[str, Any], rejects: list[dict[str, Any]], n: int = N) -> None:
    assert m["accounting_balanced"] and m["nodes"]["ask"]["in"] == n
    assert m["output"]["records"] + len(rejects) == n


def test_batch_and_online_give_the_same_dataset(server: FakeOpenAIServer, project: Path) -> None:
    recipe = _recipe(project, server.base_url, ["", "[[fault:500 times=1]]"])
    online, _, m_online = run_completed(recipe, project / "online", "--cache", "online.sqlite")
    assert server.stats()["batches_created"] == 0 and server.stats()["requests"] > 0
    server.reset()
    batched, _, m = run_completed(
        recipe, project / "batch", "--cache", "batch.sqlite", "--batch", "--set",
        "models.gen.batch_window=0.05", "--set", "models.gen.poll_interval=0.02",
    )  # fmt: skip
    assert batched == online and len(batched) == N
    stats = server.stats()
    assert stats["requests"] == 0  # not one chat request: every call went in a batch
    assert stats["batches_created"] >= 3  # ask, answer, and the retries of failed lines
    assert m["provider"]["openai/fake"]["batched"] == 2 * N
    assert m["provider"]["openai/fake"]["retries"] == N // 2  # each faulted line once
    assert m["totals"]["calls"] == m_online["totals"]["calls"] == 2 * N
    assert {b["state"] for b in m["batches"]} == {"completed"}
    assert all(b["collected"] and b["wall_s"] is not None for b in m["batches"])
    assert sum(b["lines"] for b in m["batches"]) == 2 * N + N // 2
    assert not (project / "batch" / ".batches").exists()  # nothing left to collect
    assert "data-batch=" in (project / "batch" / "report.html").read_text("utf-8")
    # the answers are in the cache: the same recipe online makes no call
    server.reset()
    again, _, m_again = run_completed(recipe, project / "again", "--cache", "batch.sqlite")
    assert again == online and m_again["totals"]["calls"] == 0
    assert server.stats()["requests"] == 0 and server.stats()["batches_created"] == 0


def test_failed_lines_are_retried_then_recorded_with_the_providers_error(
    server: FakeOpenAIServer, project: Path
) -> None:
    rows = ["", "[[fault:503 times=2]]", "[[fault:400]]", "[[fault:500]]"]
    recipe = _recipe(project, server.base_url, rows, f", batch: true, {FAST}")
    code = main(["run", str(recipe), "--quiet", "--out", "out", "--max-failure-rate", "1"])
    assert code == 0
    m = json.loads(Path("out/manifest.json").read_text("utf-8"))
    rejects = read_jsonl(Path("out/rejects.jsonl"))
    _accounted(m, rejects)
    assert len(rejects) == N // 2  # the 400s and the 500s that never clear
    by_q = {r["record"]["q"]: r for r in rejects}
    bad = next(r for q, r in by_q.items() if "fault:400" in q)
    assert bad["reason"].startswith("bad_request") and "Injected fault 400" in bad["error"]
    down = next(r for q, r in by_q.items() if "fault:500" in q)
    assert down["reason"].startswith("server_error")
    assert m["provider"]["openai/fake"]["failures"] == {"bad_request": 3, "server_error": 3}
    # 503 twice then fine: two retries; 500 for ever: max_retries (2); 400: none
    assert m["nodes"]["ask"]["retries"] == 3 * 2 + 3 * 2
    assert not Path("out/.batches").exists()


def test_expired_cancelled_and_refused_batches(server: FakeOpenAIServer, project: Path) -> None:
    recipe = _recipe(project, server.base_url, [""], f", batch: true, {FAST}", n=4)
    server.queue_batch_endings("expired", "cancelled")
    rows, _, m = run_completed(recipe, project / "out")
    assert len(rows) == 4
    states = [b["state"] for b in m["batches"]]
    assert states[:2] == ["expired", "cancelled"] and set(states[2:]) == {"completed"}
    errors = m["provider"]["openai/fake"]["errors"]
    cancelled = m["batches"][1]["lines"]  # the retried lines, or the next step's: timing
    assert errors == {"batch_expired": 2, "batch_cancelled": cancelled}  # expired: half of 4
    assert m["provider"]["openai/fake"]["retries"] == 2 + cancelled
    server.reset()
    server.queue_batch_endings("failed")
    code = main(["run", str(recipe), "--quiet", "--out", "refused", "--fresh"])
    assert code == 1  # every record of the first step failed: over max_failure_rate
    rejects = read_jsonl(Path("refused/rejects.jsonl"))
    assert len(rejects) == 4 and {r["reason"].split(":")[0] for r in rejects} == {"batch_failed"}
    assert "Injected batch failure" in rejects[0]["error"]


def test_retries_go_online_when_the_alias_allows(server: FakeOpenAIServer, project: Path) -> None:
    model = f", batch: true, batch_fallback: online, {FAST}"
    recipe = _recipe(project, server.base_url, ["[[fault:500 times=1]]"], model, n=4)
    rows, _, m = run_completed(recipe, project / "out")
    assert len(rows) == 4
    stats = server.stats()
    assert stats["requests"] == 4  # the four failed lines of the first step, retried online
    assert m["provider"]["openai/fake"]["batched"] == 4  # the second step's, all in a batch


def _spawn(recipe: Path, cache: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, SYNTHDSL_CACHE=str(cache), SYNTHDSL_RETRY_BASE="0.01")
    cmd = [sys.executable, "-m", "synthdsl.cli", "run", str(recipe), "--quiet", "--out", "out"]
    return subprocess.Popen(
        cmd, cwd=recipe.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.mark.parametrize("case", ["kept", "id lost", "batch gone"])
def test_a_killed_run_collects_its_batches_instead_of_submitting_again(
    server: FakeOpenAIServer, project: Path, case: str
) -> None:
    recipe = _recipe(project, server.base_url, [""], f", batch: true, {FAST}")
    cache = project / "cache.sqlite"
    server.set_batch_delay(1.0)
    try:
        proc = _spawn(recipe, cache)
        deadline = time.monotonic() + 30
        path = project / "out" / ".batches" / "journal.jsonl"
        while not (path.exists() and "submitted" in path.read_text()):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        journal = read_jsonl(path)
        assert [e["event"] for e in journal] == ["prepared", "uploaded", "submitted"]
        lines = path.read_text().splitlines()
        if case == "id lost":  # killed between creating the batch and writing its id down
            path.write_text("\n".join(lines[:2]) + "\n")
        elif case == "batch gone":  # the provider no longer knows it: submit again
            path.write_text("\n".join([*lines[:2], lines[2].replace("batch-", "batch-x")]) + "\n")
        assert server.stats()["batches_created"] == 1
        server.set_batch_delay(0.05)
        assert main(["run", str(recipe), "--quiet", "--out", "out"]) == 0
    finally:
        server.set_batch_delay(0.05)
    stats = server.stats()
    m = json.loads((project / "out" / "manifest.json").read_text("utf-8"))
    assert m["status"] == "completed" and m["output"]["records"] == N
    assert stats["requests"] == 0
    if case == "batch gone":
        assert stats["batches_created"] == 3 and stats["batch_lines"] == 2 * N
        assert m["provider"]["openai/fake"]["errors"] == {"batch_lost": N}
        return
    # the first step's batch was collected, not made again: one more, for the second step
    assert stats["batches_created"] == 2 and stats["files_uploaded"] == 2
    assert stats["batch_lines"] == 2 * N
    assert [b["lines"] for b in m["batches"]] == [N, N]
    assert not (project / "out" / ".batches").exists()


def test_batch_true_on_a_model_without_a_batch_api_is_a_recipe_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = project / "r.yaml"
    steps = (
        "sources:\n  s: {records: [{q: a}]}\n"
        "steps:\n  - id: g\n    generate: {template: '{{ q }}', model: gen}\n"
    )
    recipe.write_text(
        "synthdsl: 1\nmodels:\n  gen: {model: local/smollm2, batch: true}\n" + steps,
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}:3:38: error: model 'gen' (local/smollm2) cannot run in batch mode" in err
    assert "hint: batch: true needs an OpenAI-compatible endpoint" in err
    recipe.write_text(
        "synthdsl: 1\nmodels:\n  gen: {model: openai/x, max_batch_requests: 0}\n" + steps,
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 2
    assert f"{recipe}:3:46: error: models.gen.max_batch_requests" in capsys.readouterr().err
    # --batch leaves a model without a batch API online instead
    recipe.write_text("synthdsl: 1\nmodels:\n  gen: {model: local/smollm2}\n" + steps)
    assert main(["validate", str(recipe), "--batch"]) == 0
    # and so does --model choosing one for a batch alias, with a warning
    recipe.write_text("synthdsl: 1\nmodels:\n  gen: {model: openai/x, batch: true}\n" + steps)
    capsys.readouterr()
    assert main(["validate", str(recipe), "--model", "gen=local/smollm2"]) == 0
    assert "warning: model 'gen' (local/smollm2) cannot run in batch mode: it runs online" in (
        capsys.readouterr().err
    )


def test_plan_prices_batch_aliases_at_half(project: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    recipe = project / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nmodels:\n  gen: {model: openai/gpt-4o-mini, max_tokens: 200}\n"
        "sources:\n  s: {records: [{q: a}, {q: b}, {q: c}]}\n"
        "steps:\n  - id: g\n    generate: {template: '{{ q }}', model: gen}\n",
        encoding="utf-8",
    )
    plans = []
    for extra in ([], ["--batch"]):
        assert main(["plan", str(recipe), "--format", "json", *extra]) == 0
        plans.append(json.loads(capsys.readouterr().out))
    online, batch = (p["totals"]["cost_usd_max"] for p in plans)
    assert online > 0 and batch == pytest.approx(online / 2, rel=1e-3)
    assert plans[0]["recipe"]["hash"] == plans[1]["recipe"]["hash"]
    assert "batch" in plans[1]["models"]["gen"][0] and "batch" not in plans[0]["models"]["gen"][0]
    assert main(["plan", str(recipe), "--batch"]) == 0
    text = capsys.readouterr().out
    assert "gen          openai/gpt-4o-mini (batch API)" in text
    assert "(batch-mode aliases at the batch price)" in text
