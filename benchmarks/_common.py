"""Helpers shared by the benchmarks: a fake server subprocess, timing, medians."""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PY = sys.executable
ROOT = Path(__file__).resolve().parents[1]


def export(rev: str, into: Path) -> Path:
    """The ``synthdsl`` package as of git revision ``rev``, unpacked and compiled under
    ``into`` (a folder to put first on PYTHONPATH); that folder."""
    into.mkdir(parents=True, exist_ok=True)
    archive = into / "src.tar"
    with archive.open("wb") as fh:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev, "synthdsl"], stdout=fh, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    compileall.compile_dir(into / "synthdsl", quiet=1)
    return into


@contextmanager
def fake_server(latency: float = 0.0) -> Iterator[str]:
    """Start the loopback OpenAI-compatible server in its own process; yield its URL."""
    proc = subprocess.Popen(
        [PY, "-m", "synthdsl.testing.fake_openai", "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"server did not start: {line!r}")
        yield line.split(" ", 1)[1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Measured:
    wall: float
    cpu: float
    max_rss_kb: int
    stdout: str


def measure(
    cmd: Sequence[str], env: dict[str, str] | None = None, cwd: str | None = None
) -> Measured:
    """Run ``cmd``; return its wall time, CPU time (user+sys) and peak RSS.

    Output goes to temporary files, not pipes: a child that prints more than a pipe
    holds (64 KiB) would block on a pipe nobody reads while we wait for it."""
    merged = dict(os.environ)
    if env:
        merged.update(env)
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=merged, cwd=cwd, stdout=out_f, stderr=err_f, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read(), err_f.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out}\n{err}")
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out)


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)
