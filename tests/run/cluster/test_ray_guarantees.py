"""The Ray executor's guarantees beyond equal results: secrets travel only in the
environment, limits hold across workers, a killed worker loses nothing and repeats no
finished call, a re-run makes no call."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import ray_worker_pids, read_jsonl

from synthdsl.api import CompileOptions, validate
from synthdsl.cli import main
from synthdsl.records import Record
from synthdsl.run import options as run_options
from synthdsl.run.cluster.setup import WorkerSetup, pack, worker_env
from synthdsl.run.cluster.worker import Batch
from synthdsl.run.options import ClusterOptions
from synthdsl.testing.fake_openai import FakeOpenAIServer

pytestmark = pytest.mark.ray

SECRET = "sk-test-0123456789abcdef-never-shipped"


def _recipe(project: Path, base_url: str, rows: int, model_extra: str = "") -> Path:
    topics = "".join(json.dumps({"topic": f"topic number {i}"}) + "\n" for i in range(rows))
    (project / "topics.jsonl").write_text(topics, encoding="utf-8")
    recipe = project / "recipe.yaml"
    recipe.write_text(
        f"""synthdsl: 1
name: ray-guarantees
models:
  gen: {{model: openai/fake, api_base: "{base_url}"{model_extra}}}
sources:
  topics: {{path: topics.jsonl}}
steps:
  - id: ask
    generate: {{template: "Write one question about {{{{ topic }}}}.", model: gen, into: q}}
  - id: short
    filter: "words(q) >= 1"
""",
        encoding="utf-8",
    )
    return recipe


def _run(recipe: Path, out: Path, *extra: str) -> int:
    return main(["run", str(recipe), "--quiet", "--no-report", "--out", str(out), *extra])


def test_secret_reaches_workers_only_through_the_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch, ray_instance: Any
) -> None:
    monkeypatch.setenv("RAY_TEST_KEY", SECRET)
    with FakeOpenAIServer(require_api_key=SECRET) as srv:
        recipe = _recipe(project, srv.base_url, 6, ", api_key_env: RAY_TEST_KEY")
        # what a worker is started with, and what a batch carries, hold no key
        compiled = validate(recipe, CompileOptions())
        setup = WorkerSetup.make(
            compiled,
            project / "cache.sqlite",
            fresh=False,
            concurrency=None,
            limit=None,
            retry_base=0.01,
            retry_cap=1.0,
            hedge=True,
        )
        shipped = zlib.decompress(pack(setup))
        assert SECRET.encode() not in shipped and b"RAY_TEST_KEY" in shipped
        batch = Batch("ask", None, "", [Record("r1", {"topic": "x"})])
        from ray import cloudpickle  # what Ray pickles a batch with

        assert SECRET.encode() not in cloudpickle.dumps(batch)  # type: ignore[no-untyped-call]
        # the environment is the way: the worker's calls carry the key (401 otherwise)
        assert worker_env(compiled)["RAY_TEST_KEY"] == SECRET
        assert _run(recipe, project / "out", "--executor", "ray", "--workers", "2") == 0
        assert srv.stats()["by_status"] == {"200": 6}
    for name in ("dataset.jsonl", "calls.jsonl", "manifest.json"):
        assert SECRET not in (project / "out" / name).read_text("utf-8")
    assert SECRET not in (project / "cache.sqlite").read_bytes().decode("latin-1")


def test_concurrency_and_rpm_are_global_across_two_workers(
    project: Path, ray_instance: Any
) -> None:
    # 2 workers, each could send 3 at once and 4 a second by itself: the service holds
    # the pair to 3 in flight and 4 a second (rpm 240, a burst of one)
    with FakeOpenAIServer(latency=0.15) as srv:
        recipe = _recipe(project, srv.base_url, 24, ", concurrency: 3, rpm: 240")
        t0 = time.monotonic()
        assert _run(recipe, project / "out", "--executor", "ray", "--workers", "2") == 0
        stats, answers = srv.stats(), srv.answers()
    assert stats["by_status"] == {"200": 24}
    assert stats["max_in_flight"] <= 3
    sent = sorted(t for t, _ in answers if t >= t0)
    assert len(sent) == 24
    # answers in any one second: at most 4 paced + 1 burst
    worst = max(sum(1 for u in sent if t <= u < t + 1.0) for t in sent)
    assert worst <= 5, worst
    assert sent[-1] - sent[0] >= (24 - 2) / 4 - 0.5  # paced, not bursty


@dataclass(frozen=True)
class _SmallBatches(ClusterOptions):
    batch: int = 4


def test_killed_worker_loses_nothing_and_repeats_no_finished_call(
    project: Path, ray_instance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # batches of 4: a worker has many batches under way at once, so one that finishes
    # while the others are half done, and a kill, find every way counts could go astray
    monkeypatch.setattr(run_options, "ClusterOptions", _SmallBatches)
    rows = 80
    with FakeOpenAIServer(latency=0.1) as srv:
        recipe = _recipe(project, srv.base_url, rows, ", concurrency: 8")
        assert _run(recipe, project / "local", "--cache", str(project / "local.sqlite")) == 0
        srv.reset()
        killed: list[float] = []

        def kill_one() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if len(srv.answers()) >= 20:
                    pids = ray_worker_pids()
                    if pids:
                        os.kill(pids[0], signal.SIGKILL)
                        killed.append(time.monotonic())
                        return
                time.sleep(0.005)

        killer = threading.Thread(target=kill_one)
        killer.start()
        try:
            assert _run(recipe, project / "ray", "--executor", "ray", "--workers", "2") == 0
        finally:
            killer.join()
        answers = srv.answers()
    assert killed, "no worker was killed"
    # nothing lost: the local executor's dataset, every record accounted for
    ray_rows = read_jsonl(project / "ray" / "dataset.jsonl")
    assert ray_rows == read_jsonl(project / "local" / "dataset.jsonl") and len(ray_rows) == rows
    manifest = json.loads((project / "ray" / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "completed" and manifest["accounting_balanced"] is True
    # the counts are exact: each record's call counted once, by the attempt that
    # delivered it (a call the dead worker finished is a cache hit of the retry), and
    # calls.jsonl has one line per record
    ask = manifest["nodes"]["ask"]
    assert ask["calls"] + ask["cache_hits"] == rows == sum(ask["models"].values()), ask
    totals = manifest["totals"]
    assert (totals["calls"], totals["cache_hits"]) == (ask["calls"], ask["cache_hits"])
    logged = read_jsonl(project / "ray" / "calls.jsonl")
    assert sorted(r["record"] for r in logged) == sorted(
        r["record"] for r in read_jsonl(project / "local" / "calls.jsonl")
    )
    assert sum(not r["cached"] for r in logged) == ask["calls"]
    # every prompt answered; a call answered well before the kill (in the cache by then)
    # is never answered again; only those in flight at the kill may be
    per_key = Counter(key for _, key in answers)
    assert len(per_key) == rows
    settled = {key for t, key in answers if t < killed[0] - 0.05}
    assert settled and all(per_key[key] == 1 for key in settled)
    assert sum(per_key.values()) - rows <= 8  # at most the calls in flight at the kill
    # and a re-run makes no call at all
    before = len(answers)
    with FakeOpenAIServer() as again:
        again_recipe = _recipe(project, again.base_url, rows, ", concurrency: 8")
        assert _run(again_recipe, project / "ray2", "--executor", "ray") == 0
        assert again.stats()["requests"] == 0
    assert before == len(answers)
