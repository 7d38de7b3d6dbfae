"""Throughput: synthdsl against a raw aiohttp client, same calls, same server, one run.

5,000 chat completions at concurrency 128 against the loopback test server with 200 ms
latency (server in its own process). Compared side by side:
- raw aiohttp: one session, a semaphore, POST and parse JSON (the ceiling);
- synthdsl, lean HTTP backend (`backend: http`, the default for OpenAI-compatible);
- synthdsl, litellm backend (`backend: litellm`), and a plain `litellm.acompletion` loop
  (a semaphore and gather, what a user writes by hand), with --litellm.
Each client runs in its own process; CPU is that process's user+sys time.
Targets: synthdsl calls/s ≥ 0.8× raw; synthdsl CPU per call ≤ 2× raw. synthdsl runs
with --no-report: report.html is post-processing the raw client has no equivalent of
(bench_memory.py runs with it).

``--baseline=REV`` also runs synthdsl as of git revision REV (its package exported with
``git archive``, first on PYTHONPATH) on the lean path, interleaved with the others.

Run: python benchmarks/bench_throughput.py [CALLS] [CONCURRENCY] [LATENCY] [--litellm]
[--repeats=N] [--baseline=REV]
"""

from __future__ import annotations

import compileall
import os
import sys
import tempfile
from pathlib import Path

from _common import PY, ROOT, Measured, export, fake_server, measure, median

RAW_CLIENT = r"""
import asyncio, json, sys, time
import aiohttp

async def main(url, n, conc):
    sem = asyncio.Semaphore(conc)
    conn = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=conn) as s:
        async def one(i):
            async with sem:
                body = {"model": "fake", "messages": [{"role": "user", "content": f"question {i}"}],
                        "max_tokens": 32}
                async with s.post(url + "/chat/completions", json=body) as r:
                    data = await r.json()
                    return data["choices"][0]["message"]["content"]
        t0 = time.perf_counter()
        out = await asyncio.gather(*(one(i) for i in range(n)))
        print(len(out), time.perf_counter() - t0)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""

LITELLM_LOOP = r"""
import asyncio, sys, time
import litellm

async def main(url, n, conc):
    sem = asyncio.Semaphore(conc)
    async def one(i):
        async with sem:
            r = await litellm.acompletion(
                model="openai/fake", api_base=url, api_key="unused", max_tokens=32,
                messages=[{"role": "user", "content": f"question {i}"}])
            return r.choices[0].message.content
    t0 = time.perf_counter()
    out = await asyncio.gather(*(one(i) for i in range(n)))
    print(len(out), time.perf_counter() - t0)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""

RECIPE = """
synthdsl: 1
name: throughput
models:
  gen: {{model: openai/fake, api_base: "{url}", max_tokens: 32, concurrency: {conc},
         backend: {backend}}}
sources:
  s: {{path: {rows}}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
"""


def run_synthdsl(
    work: Path, url: str, n: int, conc: int, backend: str, baseline: str = ""
) -> Measured:
    """``synthdsl run`` of RECIPE over ``n`` questions ("question 0" ...) in ``work``;
    with ``baseline`` (a folder holding an exported ``synthdsl``), that version."""
    rows = work / f"rows-{n}.jsonl"
    if not rows.exists():
        rows.write_text("".join(f'{{"q": "question {i}"}}\n' for i in range(n)), "utf-8")
    recipe = work / f"{backend}-{n}.yaml"
    recipe.write_text(RECIPE.format(url=url, conc=conc, backend=backend, rows=rows.name), "utf-8")
    tag = f"{backend}-base" if baseline else backend
    env = {"SYNTHDSL_CACHE": str(work / f"cache-{tag}.sqlite")}
    if baseline:
        env["PYTHONPATH"] = baseline
    return measure(
        [
            PY,
            "-m",
            "synthdsl.cli",
            "run",
            str(recipe),
            "--quiet",
            "--fresh",
            "--no-report",  # the report is post-processing the raw client does not do
            "--out",
            str(work / f"out-{tag}"),
        ],
        env=env,
        cwd=str(work),
    )


def _run_clients(
    work: Path, url: str, n: int, conc: int, backends: list[str], baseline: tuple[str, str] | None
) -> dict[str, Measured]:
    out: dict[str, Measured] = {
        "raw aiohttp": measure([PY, str(work / "raw.py"), url, str(n), str(conc)])
    }
    if "litellm" in backends:
        out["plain litellm loop"] = measure(
            [PY, str(work / "litellm_loop.py"), url, str(n), str(conc)]
        )
    for backend in backends:
        out[f"synthdsl ({backend})"] = run_synthdsl(work, url, n, conc, backend)
    if baseline is not None:
        rev, folder = baseline
        out[f"{rev} (http)"] = run_synthdsl(work, url, n, conc, "http", folder)
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if len(args) > 0 else 5000
    conc = int(args[1]) if len(args) > 1 else 128
    latency = float(args[2]) if len(args) > 2 else 0.2
    repeats = int(next((a.split("=")[1] for a in sys.argv if a.startswith("--repeats=")), 3))
    small = max(n // 5, conc)
    backends = ["http"] + (["litellm"] if "--litellm" in sys.argv else [])
    rev = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--baseline=")), "")
    # timed as installed: bytecode compiled beforehand, and the clients may write theirs
    compileall.compile_dir(ROOT / "synthdsl", quiet=1)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    runs: dict[int, list[dict[str, Measured]]] = {n: [], small: []}
    with tempfile.TemporaryDirectory() as tmp, fake_server(latency) as url:
        work = Path(tmp)
        baseline = (rev, str(export(rev, work / "baseline"))) if rev else None
        (work / "raw.py").write_text(RAW_CLIENT, encoding="utf-8")
        (work / "litellm_loop.py").write_text(LITELLM_LOOP, encoding="utf-8")
        for _ in range(repeats):  # interleaved, so machine noise hits every client alike
            for size in (n, small):
                runs[size].append(_run_clients(work, url, size, conc, backends, baseline))
    names = list(runs[n][0])

    def med(size: int, name: str, attr: str) -> float:
        return median([getattr(r[name], attr) for r in runs[size]])

    print(
        f"{n} calls, concurrency {conc}, server latency {latency * 1000:.0f} ms "
        f"(ideal wall {n / conc * latency:.1f} s); medians of {repeats} interleaved runs"
    )
    print(
        f"{'client':<20} {'wall s':>7} {'calls/s':>8} {'CPU s':>6} {'CPU ms/call':>11} "
        f"{'marginal':>9} {'calls/s vs raw':>14} {'CPU/call vs raw':>15}"
    )
    base_rate = n / med(n, "raw aiohttp", "wall")
    marg: dict[str, float] = {}
    for name in names:
        wall, cpu = med(n, name, "wall"), med(n, name, "cpu")
        marg[name] = (cpu - med(small, name, "cpu")) / (n - small) * 1000
        total_ratio = cpu / med(n, "raw aiohttp", "cpu")
        print(
            f"{name:<20} {wall:>7.2f} {n / wall:>8.0f} {cpu:>6.2f} {cpu / n * 1000:>11.3f} "
            f"{marg[name]:>9.3f} {n / wall / base_rate:>13.2f}x "
            f"{total_ratio:>6.2f}x/{marg[name] / marg['raw aiohttp']:.2f}x"
        )
    ours = "synthdsl (http)"
    rate_ratio = n / med(n, ours, "wall") / base_rate
    cpu_ratio = marg[ours] / marg["raw aiohttp"]
    print(
        f"\ncalls/s ratio {rate_ratio:.2f} (target ≥ 0.8): {'OK' if rate_ratio >= 0.8 else 'MISSED'}"
    )
    print(
        f"CPU per call ratio, marginal {cpu_ratio:.2f} (target ≤ 2): "
        f"{'OK' if cpu_ratio <= 2 else 'MISSED'}"
    )
    print(
        "'marginal' = CPU ms per extra call between runs of "
        f"{small} and {n} calls, which removes process start-up from both sides; "
        "the total column includes synthdsl's start-up, compile, SQLite cache and outputs"
    )


if __name__ == "__main__":
    main()
