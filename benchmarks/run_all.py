"""Rerun every figure of docs/benchmarks.md, one benchmark after the other.

Each benchmark runs in its own process with its own side-by-side comparison (raw aiohttp,
a plain litellm loop, a plain Python loop, brute-force ROUGE-L, the previous revision),
so its ratios come from one sitting. The output is printed and saved, with the machine
(cores, load before each step), the date and the git revision, to ``--out`` (default
``benchmarks/results-<date>.md``, not committed).

Default sizes keep the whole run under 15 minutes on the project's 2-core machine;
``--full`` adds the large sizes of the page (ROUGE-L at 300k, decontamination at 1M
records × 100k items), which take much longer and need ~2 GB of RAM.
``--peers`` adds the ``peers`` step (``bench_peers.py``: the 2,000-call workload through
Curator, distilabel, NeMo Data Designer and sdg_hub). It is opt-in because its first run
installs each peer into its own venv from PyPI (3–5 minutes a peer on this machine,
once; later runs reuse the venvs) and the step itself takes ~6 minutes.
With the ``ray`` extra installed, ``litellm-workers`` (``bench_ray.py 4000 2 litellm``:
4,000 calls through the litellm backend by the local executor and by Ray with 1 and 2
worker processes, ~3 minutes) runs after the throughput steps.
``--only NAME[,NAME]`` runs a subset (names as printed; ``--only peers`` needs no
``--peers``).

Run: python benchmarks/run_all.py [--baseline REV] [--full] [--peers] [--only throughput,rouge] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The revision the side-by-side figures compare with: main before the 2026-12-06 session
# (override with --baseline REV).
BASELINE = "134afe0"
PY = sys.executable


def steps(full: bool, peers: bool = False, baseline: str = BASELINE) -> list[tuple[str, list[str]]]:
    """(name, argv) of every benchmark on the page, in the page's order."""
    out: list[tuple[str, list[str]]] = [
        ("throughput-16", ["bench_throughput.py", "600", "16", "0.2", "--repeats=2"]),
        ("throughput-64", ["bench_throughput.py", "2000", "64", "0.2", "--litellm"]),
        ("throughput-256", ["bench_throughput.py", "6000", "256", "0.2", "--repeats=2"]),
        ("throughput-1024", ["bench_throughput.py", "10000", "1024", "0.2", "--repeats=2"]),
        ("cached-rerun", ["bench_cached_rerun.py", "--repeats", "3", "--baseline", baseline]),
        ("pipeline-1m", ["bench_memory.py", "1000000", "--baseline", baseline]),
        ("cold-start", ["bench_cold_start.py"]),
        ("rouge", ["bench_rouge_dedup.py", "--sizes", "10000,30000,100000"]),
        (
            "decontaminate",
            ["bench_decontaminate.py", "--records", "100000", "--reference", "10000"],
        ),
    ]
    if importlib.util.find_spec("ray") is not None:  # the `ray` extra
        # litellm's client CPU per call spread over 1 and 2 worker processes
        out.insert(4, ("litellm-workers", ["bench_ray.py", "4000", "2", "litellm"]))
    if peers:  # the throughput-64 workload, so it sits right after it
        out.insert(2, ("peers", ["bench_peers.py"]))
    if full:
        out += [
            ("rouge-300k", ["bench_rouge_dedup.py", "--sizes", "300000", "--brute-max", "0"]),
            ("decontaminate-full", ["bench_decontaminate.py"]),
        ]
    return out


def git_rev() -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(HERE.parent), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--peers", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default="")
    ap.add_argument("--baseline", default=BASELINE, metavar="REV")
    args = ap.parse_args()
    today = datetime.date.today().isoformat()
    out = Path(args.out) if args.out else HERE / f"results-{today}.md"
    only = args.only.split(",") if args.only else []
    chosen = [
        s
        for s in steps(args.full, args.peers or "peers" in only, args.baseline)
        if not only or s[0] in only
    ]
    head = (
        f"# synthdsl benchmarks, {today}\n\nrevision {git_rev()}; {os.cpu_count()} cores; "
        f"Python {platform.python_version()}; {platform.platform()}\n"
    )
    print(head, flush=True)
    parts = [head]
    failed = []
    t_all = time.perf_counter()
    for name, argv in chosen:
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        done = subprocess.run([PY, *argv], cwd=HERE, capture_output=True, text=True)
        took = time.perf_counter() - t0
        status = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        if done.returncode != 0:
            failed.append(name)
        text = (
            f"## {name}: {status}, {took:.0f} s (load before: {load:.1f})\n\n"
            f"`python benchmarks/{' '.join(argv)}`\n\n```\n{done.stdout.rstrip()}\n"
            + (f"{done.stderr.rstrip()}\n" if done.returncode != 0 else "")
            + "```\n"
        )
        print(text, flush=True)
        parts.append(text)
    total = (
        f"all done in {time.perf_counter() - t_all:.0f} s; failed: {', '.join(failed) or 'none'}\n"
    )
    print(total)
    parts.append(total)
    out.write_text("\n".join(parts), encoding="utf-8")
    print(f"saved to {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
