"""Stopping a run: Ctrl-C stops cleanly, kill -9 loses nothing finished.

A run in a subprocess is stopped part-way; the re-run must make exactly the calls that
were not finished (the cache holds every completed call).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.run.cache import CallCache
from synthdsl.testing.fake_openai import FakeOpenAIServer

N = 40


def _recipe(project: Path, base_url: str) -> Path:
    rows = ", ".join(f'{{q: "question {i}"}}' for i in range(N))
    path = project / "slow.yaml"
    path.write_text(
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{base_url}", concurrency: 4}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
""",
        encoding="utf-8",
    )
    return path


def _start(recipe: Path, project: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["SYNTHDSL_CACHE"] = str(project / "cache.sqlite")
    return subprocess.Popen(
        [sys.executable, "-m", "synthdsl.cli", "run", str(recipe), "--out", str(project / "out")],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_cached(project: Path, at_least: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    path = project / "cache.sqlite"
    while time.monotonic() < deadline:
        if path.exists():
            with CallCache(path) as cache:
                if cache.stats().entries >= at_least:
                    return
        time.sleep(0.05)
    raise AssertionError("the run made no progress")


def _cached(project: Path) -> int:
    with CallCache(project / "cache.sqlite") as cache:
        return cache.stats().entries


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "kill-9"]
)
def test_stopped_run_resumes_without_repeating_calls(
    server: FakeOpenAIServer, project: Path, sig: signal.Signals
) -> None:
    # 0.5 s a call, 4 at once: ~4 s between the 8th finished call and the last, so the
    # signal lands mid-run even on a loaded machine (at 0.25 s a run under load ~14
    # finished all 40 before its Ctrl-C was handled)
    server.set_latency(0.5)
    recipe = _recipe(project, server.base_url)
    proc = _start(recipe, project)
    try:
        _wait_for_cached(project, 8)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = _cached(project)
    assert 8 <= done < N
    if sig in (signal.SIGINT, signal.SIGTERM):
        # SIGTERM (Kubernetes, Slurm, systemd, Ray) is handled like Ctrl-C; before, it
        # killed the run with no manifest, no resume line and a .tmp file left behind
        assert proc.returncode == (130 if sig == signal.SIGINT else 143)
        assert "resume with: synthdsl run" in err
        assert "Traceback" not in err
        manifest = json.loads((project / "out" / "manifest.json").read_text())
        assert manifest["status"] == "interrupted"
        assert manifest["reason"] == signal.Signals(sig).name
        assert [p.name for p in (project / "out").rglob("*.tmp")] == []
        assert not (project / "out" / ".attempt").exists()
        partial = project / "out" / "dataset.partial.jsonl"
        assert partial.exists()
        assert not (project / "out" / "dataset.jsonl").exists()
        assert manifest["nodes"]["g"]["calls"] >= done
    else:
        assert proc.returncode == -signal.SIGKILL
    server.set_latency(0.0)
    before = server.stats()["requests"]
    assert main(["run", str(recipe), "--quiet", "--out", str(project / "out")]) == 0
    manifest = json.loads((project / "out" / "manifest.json").read_text())
    assert manifest["totals"]["cache_hits"] == done
    assert manifest["totals"]["calls"] == N - done
    assert server.stats()["requests"] - before == N - done
    rows = (project / "out" / "dataset.jsonl").read_text().splitlines()
    assert len(rows) == N


def test_a_killed_rerun_leaves_the_finished_run_as_it_was(
    server: FakeOpenAIServer, project: Path
) -> None:
    """Before: a re-run into a finished output folder deleted the dataset at its start,
    so a kill -9 left the old manifest saying 'completed' beside no dataset."""
    recipe = _recipe(project, server.base_url)
    out = project / "out"
    assert main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    finished = (out / "dataset.jsonl").read_bytes()
    manifest = (out / "manifest.json").read_bytes()
    server.set_latency(0.25)
    before = server.stats()["requests"]
    env = dict(os.environ)
    env["SYNTHDSL_CACHE"] = str(project / "cache.sqlite")
    command = [sys.executable, "-m", "synthdsl.cli", "run", str(recipe), "--fresh"]
    proc = subprocess.Popen(
        [*command, "--quiet", "--out", str(out)],
        cwd=project,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while server.stats()["requests"] - before < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.stats()["requests"] - before >= 8, "the re-run made no calls"
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (out / "manifest.json").read_bytes() == manifest
    assert (out / "dataset.jsonl").read_bytes() == finished
    assert json.loads(manifest)["status"] == "completed"
    server.set_latency(0.0)
    assert main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    assert not (out / ".attempt").exists()
    assert (out / "dataset.jsonl").read_bytes() == finished
