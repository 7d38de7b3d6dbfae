"""The Ray executor beside the local one: calls/s, CPU per call, scaling 1 → 2 workers.

Two workloads against the loopback test server (in its own process), each run by the
local executor and by ``--executor ray`` with 1 and 2 workers, interleaved, medians of
the repeats, all in one run of this script:

- throughput: N generate calls, server latency 200 ms, concurrency 128 (the calls
  wait on the wire: the client's CPU is not the limit);
- client-bound: N generate calls with no server latency and concurrency 64, so the
  client's own work per call (render, cache, HTTP, JSON, accounting) is the limit:
  what more workers buy;
- CPU-heavy verify (``verify_workload``): N/20 sandboxed programs whose tests burn
  ~70 ms of pure Python each; checks/s, CPU per check (sandboxes included), the scaling
  1 → 2 workers. ``bench_ray.py verify [CHECKS] [REPEATS]`` runs it alone.

Each run is a fresh ``synthdsl run`` process with a fresh cache (``--fresh``) that starts
its own Ray; the wall time of the run itself is the manifest's ``wall_time_s`` (Ray's
start-up, a few seconds, is reported apart). CPU: the driver's (``ru_utime+ru_stime`` of
the process) plus the workers' (the manifest's ``cluster.worker_cpu_s``). The machine
has 2 cores shared with the test server, so "2 workers" competes with the server for
them.

- litellm: N generate calls through the litellm backend (``backend: litellm``), no
  server latency: litellm's own CPU per call is the limit, so this is what worker
  processes scale (issue 10's ``--workers`` goal), reported per core too.

Run: python benchmarks/bench_ray.py [CALLS] [REPEATS] [throughput,cpu,litellm,verify]
     python benchmarks/bench_ray.py verify [CHECKS] [REPEATS]
"""

from __future__ import annotations

import json
import os
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


def _machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process)."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


BUSY: dict[str, list[float]] = {}  # cores busy on average during each run, by config
WORKER_CPU: dict[str, list[float]] = {}  # the worker processes' CPU s in each run


def _one(work: Path, recipe: Path, name: str, workers: list[str]) -> tuple[float, float, float]:
    """(run wall s, whole process wall s, CPU s) of one run."""
    out = work / f"out-{len(workers) and workers[0]}"
    cmd = [PY, "-m", "synthdsl.cli", "run", str(recipe), "--quiet", "--fresh", "--no-report"]
    cmd += ["--out", str(out)]
    if workers:
        cmd += ["--executor", "ray", "--workers", workers[0]]
    busy = _machine_busy_s()
    m = measure(cmd, env={"SYNTHDSL_CACHE": str(work / f"cache-{name}.sqlite")}, cwd=str(work))
    BUSY.setdefault(name, []).append((_machine_busy_s() - busy) / m.wall)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "completed", manifest["error"]
    worker_cpu = manifest.get("cluster", {}).get("worker_cpu_s", 0.0)
    WORKER_CPU.setdefault(name, []).append(worker_cpu)
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
    # Everything on the machine (driver, workers, Ray's own processes, the test server):
    # when this nears the core count, a second worker has no core to run on.
    print(
        "worker processes' CPU ms per call: "
        + ", ".join(f"{name} {median(WORKER_CPU[name]) / n * 1000:.2f}" for name, _ in CONFIGS[1:])
    )
    print(
        f"cores busy on average during a run (of {os.cpu_count()}, whole process, every "
        "process on the machine): "
        + ", ".join(f"{name} {median(BUSY[name]):.2f}" for name, _ in CONFIGS)
    )


VERIFY_RECIPE = """
synthdsl: 1
name: bench-ray-verify
sources:
  s: {{path: {rows}}}
steps:
  - id: v
    verify: {{group: problem, concurrency: {conc}, timeout: 120, cpu: 60}}
"""
# Loop turns of one program's test: ~70 ms of pure Python on this machine, unloaded.
BURN = 1_200_000
VERIFY_CONFIGS = [("local", []), ("ray, 1 worker", ["1"]), ("ray, 2 workers", ["2"])]


def _programs(n: int) -> str:
    """``n`` programs (2 samples per problem), each checked by a test that burns CPU in
    the solution's process: a loop of ``BURN`` turns, a little longer for each."""
    rows = []
    for i in range(n):
        turns = BURN + i
        expected = sum(k * k % 7 for k in range(turns))
        code = "def burn(n):\n    t = 0\n    for k in range(n):\n        t += k * k % 7\n    return t\n"
        tests = f"assert burn({turns}) == {expected}\n"
        rows.append(json.dumps({"problem": i // 2, "code": code, "tests": tests}))
    return "\n".join(rows) + "\n"


def _verify_one(work: Path, recipe: Path, workers: list[str]) -> tuple[float, float, float]:
    """(run wall s, whole process wall s, CPU s: driver, workers and their sandboxes)."""
    out = work / f"vout-{len(workers) and workers[0]}"
    cmd = [PY, "-m", "synthdsl.cli", "run", str(recipe), "--quiet", "--no-report"]
    cmd += ["--out", str(out)]
    if workers:
        cmd += ["--executor", "ray", "--workers", workers[0]]
    m = measure(cmd, env={"SYNTHDSL_CACHE": str(work / "cache.sqlite")}, cwd=str(work))
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "completed", manifest["error"]
    checked = manifest["nodes"]["v"]["verify"]
    assert checked["passed"] == checked["checked"], checked
    worker_cpu = manifest.get("cluster", {}).get("worker_cpu_s", 0.0)
    return manifest["wall_time_s"], m.wall, m.cpu + worker_cpu


def verify_workload(n: int, repeats: int) -> None:
    """CPU-heavy: ``n`` verify checks, each a sandboxed program whose test burns ~70 ms
    of pure Python (plus the sandbox's own start: two Python processes). The local
    executor runs 2 checks at once (the step's concurrency, this machine's cores); a
    Ray worker runs its CPU share, one (``worker.py: cpu_slots``). Checks/s and CPU per
    check, the scaling 1 → 2 workers."""
    conc = 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = work / "programs.jsonl"
        rows.write_text(_programs(n), "utf-8")
        recipe = work / "recipe.yaml"
        recipe.write_text(VERIFY_RECIPE.format(conc=conc, rows=rows.name), "utf-8")
        got: dict[str, list[tuple[float, float, float]]] = {n: [] for n, _ in VERIFY_CONFIGS}
        for _ in range(repeats):
            for name, workers in VERIFY_CONFIGS:
                got[name].append(_verify_one(work, recipe, workers))
    print(f"\nCPU-heavy verify: {n} checks (~70 ms of Python each + the sandbox), local")
    print(f"concurrency {conc}; medians of {repeats} interleaved runs; load {_load()}")
    print(f"{'executor':<16} {'run s':>6} {'checks/s':>8} {'process s':>9} {'CPU ms/check':>12}")
    rate: dict[str, float] = {}
    for name, _ in VERIFY_CONFIGS:
        run = median([g[0] for g in got[name]])
        whole = median([g[1] for g in got[name]])
        cpu = median([g[2] for g in got[name]])
        rate[name] = n / run
        print(f"{name:<16} {run:>6.2f} {rate[name]:>8.2f} {whole:>9.2f} {cpu / n * 1000:>12.1f}")
    print(
        f"scaling 2 workers / 1 worker: {rate['ray, 2 workers'] / rate['ray, 1 worker']:.2f}x; "
        f"ray 2 workers / local: {rate['ray, 2 workers'] / rate['local']:.2f}x checks/s"
    )


def _load() -> str:
    """The 1-minute load average now (other users share the machine)."""
    return f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def main() -> None:
    if sys.argv[1:2] == ["verify"]:  # the verify workload alone
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
        verify_workload(n, int(sys.argv[3]) if len(sys.argv) > 3 else 3)
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    which = (
        sys.argv[3].split(",") if len(sys.argv) > 3 else ["throughput", "cpu", "litellm", "verify"]
    )
    if "throughput" in which:
        with fake_server(0.2) as url:
            throughput(url, n, repeats)
    if "cpu" in which:
        with fake_server(0.0) as url:
            _workload(url, n, 64, repeats, "client-bound generate (no server latency)")
    if "litellm" in which:
        with fake_server(0.0) as url:
            litellm_workers(url, n, repeats)
    if "verify" in which:
        verify_workload(max(20, n // 20), repeats)


if __name__ == "__main__":
    main()
