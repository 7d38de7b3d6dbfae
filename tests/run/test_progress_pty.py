"""The live progress table, seen as a user sees it: ``synthdsl run`` in a pseudo-terminal.

The run's stdin, stdout and stderr are the slave side of a pty 80 columns wide; the
test reads everything the run drew, takes the last frame the display left on the
screen and checks it line by line against the manifest the run wrote.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

from synthdsl import api
from synthdsl.testing.fake_openai import FakeOpenAIServer

N = 12
WIDTH = 80
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _recipe(project: Path, base_url: str) -> Path:
    rows = ", ".join(
        f'{{q: "question {i}", n: {i}, f: "{"[[fault:400]]" if i in (4, 9) else ""}"}}'
        for i in range(N)
    )
    path = project / "progress.yaml"
    path.write_text(
        f"""
synthdsl: 1
name: progress-check
models:
  gen: {{model: openai/fake, api_base: "{base_url}", concurrency: 2}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: grow
    from: s
    loop:
      rounds: 2
      mode: chain
      steps:
        - id: harder
          generate: {{template: "harder: {{{{ q }}}}", model: gen, into: q}}
  - id: keep
    filter: "n % 3 != 0"
  - id: answer
    generate: {{template: "{{{{ q }}}} {{{{ f }}}}", model: gen, into: a}}
output: {{from: answer}}
""",
        encoding="utf-8",
    )
    return path


def _run_in_pty(recipe: Path, project: Path) -> tuple[int, str]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, WIDTH, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", SYNTHDSL_CACHE=str(project / "cache.sqlite"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthdsl.cli", "run", str(recipe), "--out", str(project / "out")],
        cwd=project,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its side
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")


def _last_frame(screen: str) -> list[str]:
    """The lines the display drew last: after its last erase, before the summary."""
    tail = screen[screen.rindex("\x1b[2K") + len("\x1b[2K") :]
    text = _ANSI.sub("", tail).replace("\r", "")
    return text.split("wrote ")[0].rstrip("\n").split("\n")


def test_final_frame_equals_the_manifest(server: FakeOpenAIServer, project: Path) -> None:
    server.set_latency(0.05)  # a run long enough to draw several frames
    recipe = _recipe(project, server.base_url)
    bound = api.build_plan(api.validate(recipe, api.CompileOptions())).llm_calls_max
    code, screen = _run_in_pty(recipe, project)
    assert code == 0, screen[-2000:]
    manifest: dict[str, Any] = json.loads((project / "out" / "manifest.json").read_text())
    frame = _last_frame(screen)
    assert all(len(line) <= WIDTH for line in frame), frame

    nodes = manifest["nodes"]
    calls = sum(n.get("calls", 0) + n.get("cache_hits", 0) for n in nodes.values())
    head = frame[0].split(" · ")
    assert head[0] == "synthdsl run progress-check"
    assert head[1].startswith("completed in ")
    assert head[2] == f"calls {calls}/≤{bound}"  # done against the plan's bound
    assert "cost —" in frame[1]  # openai/fake has no price: unknown, not $0

    assert frame[2].split() == [
        "node",
        "kind",
        "in",
        "out",
        "drop",
        "fail",
        "calls",
        "hits",
        "rate",
    ]
    table = frame[3:]
    order = manifest["node_order"]
    assert len(table) == len(order)
    for line, nid in zip(table, order, strict=True):
        node = nodes[nid]
        depth = 1 if nid.startswith("grow.") else 0
        assert line.startswith("  " * depth + nid.rsplit(".", 1)[-1] + " "), line
        cells = line.split()
        assert cells[1] == node["kind"]
        dropped = sum(node["dropped"].values()) + node.get("discarded", 0)
        counts = [node["in"], node["out"], dropped, sum(node["failed"].values())]
        if "calls" in node:
            counts += [node["calls"], node["cache_hits"]]
            assert re.fullmatch(r"\d+(\.\d)?/s", cells[-1]), line
        assert [int(c) for c in cells[2 : 2 + len(counts)]] == counts, line
    # what the run did, so the comparison above compared something
    assert sum(nodes["keep"]["dropped"].values()) == 4
    assert sum(nodes["answer"]["failed"].values()) == 1  # record 4 (9 was dropped)
    assert nodes["output"]["out"] == manifest["output"]["records"] == 7
