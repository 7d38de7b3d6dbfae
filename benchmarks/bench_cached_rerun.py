"""Cached re-run: a recipe of 10,000 calls run again when every call is in the cache.

The first run fills the content cache against the loopback test server (no latency);
then the same command runs again, 5 times, with and without the report. Each re-run
makes 0 calls, writes the same dataset and rebuilds the manifest, calls log and dataset
card. Measured per process: wall time, CPU time (user+sys) and peak RSS, medians of
interleaved runs. Bytecode is compiled beforehand (as a wheel install does), and
``PYTHONDONTWRITEBYTECODE`` is cleared for the measured processes.

``--baseline REV`` measures synthdsl as of git revision REV beside the working tree, in
the same run (its package is exported with ``git archive`` and put first on PYTHONPATH).
Targets (issue "Speed at scale"): ≤ 1 s without the report, ≤ 2 s with it.

Run: python benchmarks/bench_cached_rerun.py [--calls 10000] [--repeats 5] [--baseline REV]
"""

from __future__ import annotations

import argparse
import compileall
import os
import tempfile
from pathlib import Path

from _common import PY, ROOT, Measured, export, fake_server, measure, median

RECIPE = """
synthdsl: 1
name: cached
models:
  gen: {{model: openai/fake, api_base: "{url}", max_tokens: 32, concurrency: 128}}
sources:
  s: {{path: rows.jsonl}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--baseline", default="", metavar="REV")
    args = ap.parse_args()
    compileall.compile_dir(ROOT / "synthdsl", quiet=1)
    env_base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp, fake_server(0.0) as url:
        work = Path(tmp)
        (work / "rows.jsonl").write_text(
            "".join(f'{{"q": "question {i} about topic {i % 97}"}}\n' for i in range(args.calls)),
            "utf-8",
        )
        (work / "r.yaml").write_text(RECIPE.format(url=url), "utf-8")
        versions: dict[str, str] = {"working tree": ""}
        if args.baseline:
            versions[args.baseline] = str(export(args.baseline, work / "baseline"))

        def run(version: str, report: bool) -> Measured:
            env = dict(env_base)
            tag = "wt" if not versions[version] else "base"
            env["SYNTHDSL_CACHE"] = str(work / f"cache-{tag}" / "cache.sqlite")
            if versions[version]:
                env["PYTHONPATH"] = versions[version]
            cmd = [PY, "-m", "synthdsl.cli", "run", "r.yaml", "--quiet", "--out", f"out-{tag}"]
            cmd += [] if report else ["--no-report"]
            return measure(cmd, cwd=str(work), env=env)

        os.environ.clear()
        os.environ.update(env_base)
        first = {v: run(v, True) for v in versions}
        runs: dict[tuple[str, bool], list[Measured]] = {}
        for _ in range(args.repeats):  # interleaved: machine noise hits every variant alike
            for v in versions:
                for report in (False, True):
                    runs.setdefault((v, report), []).append(run(v, report))
    print(
        f"cached re-run of {args.calls} calls; medians of {args.repeats} interleaved runs "
        f"(load {os.getloadavg()[0]:.1f}); first run (filling the cache) for reference"
    )
    print(f"{'version':<14} {'report':<7} {'wall s':>7} {'CPU s':>6} {'peak MB':>8}  first run s")
    for (v, report), ms in runs.items():
        wall = median([m.wall for m in ms])
        cpu = median([m.cpu for m in ms])
        rss = median([m.max_rss_kb for m in ms]) / 1024
        print(
            f"{v:<14} {'yes' if report else 'no':<7} {wall:>7.2f} {cpu:>6.2f} {rss:>8.0f}  "
            f"{first[v].wall:.1f}"
        )
        if v == "working tree":
            goal = 2.0 if report else 1.0
            verdict = "OK" if wall <= goal else f"MISSED by {wall - goal:.2f} s"
            print(f"{'':<14} goal ≤ {goal:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
