"""The fault matrix: every fault the loopback server can inject, through the real CLI.

Each row runs a recipe whose records carry a fault directive and checks that the run
ends with the right exit code, every record is accounted for (in = passed + dropped +
failed, the dataset plus rejects cover every input) and retries stay within bounds.
Transient faults that clear are retried to success (exit 0); faults that persist fail
their records, and a run where more than ``max_failure_rate`` of a step's records
failed exits 1 with its top failure reasons; a dead endpoint stops the run.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from helpers import read_jsonl

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer

N = 8
MAX_RETRIES = 3


def _recipe(project: Path, base_url: str, faults: list[str], extra: str = "") -> Path:
    rows = ", ".join(json.dumps({"q": f"item {i} {f}".strip()}) for i, f in enumerate(faults))
    path = project / "r.yaml"
    path.write_text(
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{base_url}", concurrency: 8, timeout: 2,
         max_retries: {MAX_RETRIES}}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
{extra}""",
        encoding="utf-8",
    )
    return path


def _run(recipe: Path, *args: str) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    out = recipe.parent / "out"
    code = main(["run", str(recipe), "--quiet", "--out", str(out), *args])
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text("utf-8"))
    rejects = out / "rejects.jsonl"
    return code, manifest, read_jsonl(rejects) if rejects.exists() else []


def _accounted(m: dict[str, Any], rejects: list[dict[str, Any]], n: int) -> None:
    g = m["nodes"]["g"]
    assert g["in"] == n and g["balanced"] and m["accounting_balanced"]
    assert m["output"]["records"] + len(rejects) == n  # every record: a row or a reject


CLEARING = [
    ("429 with Retry-After", "[[fault:429 times=1 retry_after=0.1]]", 1),
    ("429 without Retry-After", "[[fault:429 times=2]]", 2),
    ("500", "[[fault:500 times=1]]", 1),
    ("503", "[[fault:503 times=2]]", 2),
    ("hang past the timeout", "[[fault:hang seconds=30 times=1]]", 1),
    ("connection reset", "[[fault:disconnect times=1]]", 1),
    ("truncated JSON", "[[fault:truncate times=1]]", 1),
    ("empty choices", "[[fault:malformed times=1]]", 1),
]


@pytest.mark.parametrize(
    ("fault", "retries"), [(f, r) for _, f, r in CLEARING], ids=[c[0] for c in CLEARING]
)
def test_a_fault_that_clears_is_retried_to_success(
    server: FakeOpenAIServer, project: Path, fault: str, retries: int
) -> None:
    recipe = _recipe(project, server.base_url, [fault] * N)
    code, m, rejects = _run(recipe)
    assert code == 0 and m["status"] == "completed" and m["reason"] is None
    _accounted(m, rejects, N)
    assert m["output"]["records"] == N and rejects == []
    assert m["totals"]["retries"] == N * retries
    assert m["provider"]["openai/fake"]["retries"] == N * retries
    assert server.stats()["requests"] == N * (retries + 1)


PERSISTENT = [
    ("500", "[[fault:500]]", MAX_RETRIES, "server_error"),
    ("429 with Retry-After", "[[fault:429 retry_after=0.01]]", MAX_RETRIES, "rate_limit"),
    ("truncated JSON", "[[fault:truncate]]", MAX_RETRIES, "malformed"),
    ("400 echoed for every call", "[[fault:400]]", 0, "bad_request"),
    ("content filtered", "[[fault:content_filter]]", 0, "content_filter"),
]


@pytest.mark.parametrize(
    ("fault", "retries", "kind"),
    [(f, r, k) for _, f, r, k in PERSISTENT],
    ids=[c[0] for c in PERSISTENT],
)
def test_a_fault_on_every_call_fails_the_run(
    server: FakeOpenAIServer,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    fault: str,
    retries: int,
    kind: str,
) -> None:
    """Before: every record failed and the run exited 0, status completed."""
    recipe = _recipe(project, server.base_url, [fault] * N)
    code, m, rejects = _run(recipe)
    assert code == 1
    assert m["status"] == "failed" and m["reason"] == "max_failure_rate"
    _accounted(m, rejects, N)
    assert [r["reason"] for r in rejects] == [kind] * N
    assert server.stats()["requests"] == N * (retries + 1)  # retries within bounds
    assert m["totals"]["retries"] == m["provider"]["openai/fake"]["retries"] == N * retries
    (over,) = m["failure_rate"]["exceeded"]
    assert (over["node"], over["failed"], over["in"], over["rate"]) == ("g", N, N, 1.0)
    assert over["top"][0]["kind"] == kind and over["top"][0]["count"] == N
    err = capsys.readouterr().err
    assert "too many records failed (max_failure_rate 0.5)" in err
    assert f"step 'g' failed {N} of {N} records (100%): {kind} x{N}" in err
    assert "Traceback" not in err
    assert not (project / "out" / "dataset.jsonl").exists()
    assert len(read_jsonl(project / "out" / "dataset.partial.jsonl")) == 0


def test_a_few_failures_under_the_threshold_complete_and_retries_agree(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: the summary counted only the retries of calls that succeeded (0 here)
    while the manifest's provider block counted them all."""
    faults = ["[[fault:500]]", "[[fault:500]]"] + [""] * (N - 2)
    recipe = _recipe(project, server.base_url, faults)
    code, m, rejects = _run(recipe)
    assert code == 0 and m["status"] == "completed"
    _accounted(m, rejects, N)
    assert m["failure_rate"] == {"max": 0.5, "exceeded": []}
    assert m["totals"]["retries"] == m["provider"]["openai/fake"]["retries"] == 2 * MAX_RETRIES
    assert f"retries {2 * MAX_RETRIES}," in capsys.readouterr().out


def test_the_threshold_comes_from_the_command_line_then_the_recipe(
    server: FakeOpenAIServer, project: Path
) -> None:
    faults = ["[[fault:400]]"] * 3 + [""] * (N - 3)  # 3 of 8 fail: 37.5 %
    recipe = _recipe(project, server.base_url, faults)
    assert _run(recipe)[0] == 0  # the default, 0.5
    code, m, _ = _run(recipe, "--max-failure-rate", "0.25")
    assert code == 1 and m["failure_rate"]["max"] == 0.25
    recipe = _recipe(project, server.base_url, faults, "run: {max_failure_rate: 0.3}\n")
    code, m, _ = _run(recipe)
    assert code == 1 and m["failure_rate"]["max"] == 0.3
    code, m, _ = _run(recipe, "--max-failure-rate", "1")
    assert code == 0 and m["status"] == "completed"


def test_bad_thresholds_are_usage_and_recipe_errors(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(project, server.base_url, [""] * 2)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(recipe), "--max-failure-rate", "1.5"])
    assert exit_info.value.code == 2
    assert "must be from 0 to 1" in capsys.readouterr().err
    recipe = _recipe(project, server.base_url, [""] * 2, "run: {max_failure_rate: 2}\n")
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "r.yaml:11:" in err and "max_failure_rate" in err


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_a_dead_endpoint_stops_the_run(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: nothing listening, every attempt refused, and the run exited 0 with
    status completed and no rows."""
    recipe = _recipe(project, f"http://127.0.0.1:{_closed_port()}/v1", [""] * 20)
    code, m, _ = _run(recipe)
    assert code == 1
    assert m["status"] == "failed" and m["reason"] == "error"
    assert "cannot connect to http://127.0.0.1:" in m["error"]
    assert "Stopping the run: is the server running" in m["error"]
    provider = m["provider"]["openai/fake"]
    assert provider["ok"] == 0 and set(provider["errors"]) == {"unreachable"}
    assert provider["calls"] <= 20 and provider["retries"] <= 20 * MAX_RETRIES
    err = capsys.readouterr().err
    assert "synthdsl: error:" in err and "Traceback" not in err
