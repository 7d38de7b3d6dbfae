"""Crash consistency: a run killed with SIGKILL at 20 points, resumed after each kill,
ends with exactly the records of a clean run (same ids, none missing, none repeated).

Sixteen kills land mid-generation, each as soon as the call cache reaches a progress
point drawn with a fixed seed (plus a random few milliseconds); four land at random
times in a run whose calls are all cached, where the time goes to start-up, the dedup
and the sink. The recipe has a per-record LLM step, a judge, a filter and an exact
dedup, so resumed runs cross every kind of state the run keeps (the call cache, the
output files, the manifest).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from synthdsl.run.cache import CallCache
from synthdsl.testing.fake_openai import FakeOpenAIServer

N = 30
KILLS = 20


def _recipe(project: Path, base_url: str) -> Path:
    rows = ", ".join(f'{{q: "question {i % 25}", i: {i}}}' for i in range(N))
    path = project / "r.yaml"
    path.write_text(
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{base_url}", concurrency: 4, seed: 3}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: answer
    generate: {{template: "[[words: 12]] {{{{ q }}}}", model: gen, into: a}}
  - id: score
    judge: {{template: "Rate: {{{{ a }}}}", model: gen, scale: [1, 10]}}
  - id: keep
    filter: "words(a) > 3"
  - id: once
    dedup: {{fields: [q]}}
""",
        encoding="utf-8",
    )
    return path


def _run(recipe: Path, out: Path, cache: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, SYNTHDSL_CACHE=str(cache), SYNTHDSL_RETRY_BASE="0.01")
    return subprocess.Popen(
        [sys.executable, "-m", "synthdsl.cli", "run", str(recipe), "--quiet", "--out", str(out)],
        cwd=recipe.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _entries(cache: Path) -> int:
    if not cache.exists():
        return 0
    with CallCache(cache) as opened:
        return opened.stats().entries


def _kill_at(proc: subprocess.Popen[bytes], cache: Path, calls: int, jitter: float) -> bool:
    """SIGKILL once the cache holds ``calls`` entries; False if the run ended first."""
    while proc.poll() is None and _entries(cache) < calls:
        time.sleep(0.005)
    time.sleep(jitter)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    return True


def _records(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "dataset.jsonl").read_text("utf-8").splitlines()]


def test_twenty_kills_and_resumes_end_with_the_clean_runs_records(
    server: FakeOpenAIServer, project: Path
) -> None:
    server.set_latency(0.05)
    recipe = _recipe(project, server.base_url)
    started = time.monotonic()
    clean = _run(recipe, project / "clean", project / "clean.sqlite")
    assert clean.wait(timeout=300) == 0
    duration = time.monotonic() - started
    expected = _records(project / "clean")
    assert len(expected) == 25  # 30 rows, 5 repeated questions removed by the dedup

    rng = random.Random(20261205)
    out, cache = project / "crashed", project / "crashed.sqlite"
    progress_points = sorted(rng.sample(range(2, 2 * N), KILLS - 4))
    mid_run = 0
    for calls in progress_points:
        proc = _run(recipe, out, cache)
        mid_run += _kill_at(proc, cache, calls, rng.uniform(0.0, 0.02))
        proc.wait(timeout=60)
    for _ in range(4):  # every call cached now: start-up, dedup and sink are left
        proc = _run(recipe, out, cache)
        time.sleep(rng.uniform(0.0, duration))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    final = _run(recipe, out, cache)
    assert final.wait(timeout=300) == 0
    got = _records(out)
    assert [r["_provenance"] for r in got] == [r["_provenance"] for r in expected]
    assert got == expected
    assert (out / "dataset.jsonl").read_bytes() == (
        project / "clean" / "dataset.jsonl"
    ).read_bytes()
    assert not list(out.glob("*.tmp"))
    assert mid_run >= KILLS - 6  # kills landed while calls were being made
