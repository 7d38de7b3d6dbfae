"""The Ray executor beside the local one: calls/s, CPU per call, scaling 1 → 2 workers.

Two workloads against the loopback test server (in its own process), each run by the
local executor and by ``--executor ray`` with 1 and 2 workers, interleaved, medians of
the repeats, all in one run of this script:

- throughput: N generate calls, server latency 200 ms, concurrency 128 (the calls
  wait on the wire: the client's CPU is not the limit);
- CPU-heavy: N generate calls with no server latency and concurrency 64, so the
  client's own work per call (render, cache, HTTP, JSON, accounting) is the limit:
  what more workers buy.

Each run is a fresh ``synthdsl run`` process with a fresh cache (``--fresh``) that starts
its own Ray; the wall time of the run itself is the manifest's ``wall_time_s`` (Ray's
start-up, a few seconds, is reported apart). CPU: the driver's (``ru_utime+ru_stime`` of
the process) plus the workers' (the manifest's ``cluster.worker_cpu_s``). The machine
has 2 cores shared with the test server, so "2 workers" competes with the server for
them.

- litellm: N/4 generate calls through the litellm backend (``backend: litellm``), no
  server latency: litellm's own CPU per call is the limit, so this is what worker
  processes scale (issue 10's ``--workers`` goal), reported per core too.

Run: python benchmarks/bench_ray.py [CALLS] [REPEATS] [throughput,cpu,litellm]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from _common import PY, fake_server, measure, median

RECIPE = """
synthdsl: 1
name: bench-ray
models:
  gen: {{model: openai/fake, api_base: "{url}", max_tokens: 32, concurrency: {conc}{extra}}}
sources:
  s: {{path: {rows}}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
"""

CONFIGS = [("local", []), ("ray, 1 worker", ["1"]), ("ray, 2 workers", ["2"])]


def _one(work: Path, recipe: Path, name: str, workers: list[str]) -> tuple[float, float, float]:
    """(run wall s, whole process wall s, CPU s) of one run."""
    out = work / f"out-{len(workers) and workers[0]}"
    cmd = [PY, "-m", "synthdsl.cli", "run", str(recipe), "--quiet", "--fresh", "--no-report"]
    cmd += ["--out", str(out)]
    if workers:
        cmd += ["--executor", "ray", "--workers", workers[0]]
    m = measure(cmd, env={"SYNTHDSL_CACHE": str(work / f"cache-{name}.sqlite")}, cwd=str(work))
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "completed", manifest["error"]
    worker_cpu = manifest.get("cluster", {}).get("worker_cpu_s", 0.0)
    return manifest["wall_time_s"], m.wall, m.cpu + worker_cpu


def _workload(
    url: str, n: int, conc: int, repeats: int, title: str, extra: str = ""
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = work / "rows.jsonl"
        rows.write_text("".join(f'{{"q": "question {i}"}}\n' for i in range(n)), "utf-8")
        recipe = work / "recipe.yaml"
        recipe.write_text(RECIPE.format(url=url, conc=conc, rows=rows.name, extra=extra), "utf-8")
        got: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _ in CONFIGS}
        for _ in range(repeats):
            for name, workers in CONFIGS:
                got[name].append(_one(work, recipe, name, workers))
    print(f"\n{title}: {n} calls, concurrency {conc}; medians of {repeats} interleaved runs")
    print(f"{'executor':<16} {'run s':>6} {'calls/s':>8} {'process s':>9} {'CPU ms/call':>11}")
    rate: dict[str, float] = {}
    for name, _ in CONFIGS:
        run = median([g[0] for g in got[name]])
        whole = median([g[1] for g in got[name]])
        cpu = median([g[2] for g in got[name]])
        rate[name] = n / run
        print(f"{name:<16} {run:>6.2f} {rate[name]:>8.0f} {whole:>9.2f} {cpu / n * 1000:>11.3f}")
    print(
        f"scaling 2 workers / 1 worker: {rate['ray, 2 workers'] / rate['ray, 1 worker']:.2f}x; "
        f"ray 1 worker / local: {rate['ray, 1 worker'] / rate['local']:.2f}x calls/s"
    )
    return rate


def throughput(url: str, n: int, repeats: int) -> None:
    """The calls wait on the wire (200 ms): Ray's own overhead against the local executor."""
    _workload(url, n, 128, repeats, "throughput (200 ms server latency)")


def litellm_workers(url: str, n: int, repeats: int) -> None:
    """The litellm backend (``backend: litellm``, ~9 ms of client CPU a call): the client
    is the limit, so worker processes are what scales it (issue 10's litellm goal:
    2 workers >= 1.8x one worker on 2 cores). Calls/s per core divides by the cores
    the run may use (local and 1 worker: 1; 2 workers: 2)."""
    rate = _workload(
        url, n, 64, repeats, "litellm backend (no server latency)", ", backend: litellm"
    )
    per_core = {"local": rate["local"], "ray, 1 worker": rate["ray, 1 worker"]}
    per_core["ray, 2 workers"] = rate["ray, 2 workers"] / 2
    print(
        "calls/s per core: " + ", ".join(f"{name} {value:.0f}" for name, value in per_core.items())
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    which = sys.argv[3].split(",") if len(sys.argv) > 3 else ["throughput", "cpu", "litellm"]
    if "throughput" in which:
        with fake_server(0.2) as url:
            throughput(url, n, repeats)
    if "cpu" in which:
        with fake_server(0.0) as url:
            _workload(url, n, 64, repeats, "CPU-heavy (no server latency)")
    if "litellm" in which:
        with fake_server(0.0) as url:
            litellm_workers(url, n // 4, repeats)


if __name__ == "__main__":
    main()
