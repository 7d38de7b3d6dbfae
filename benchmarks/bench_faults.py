"""Availability under faults: the same run clean and with a fault mix, side by side.

2,000 chat completions (concurrency 64, 200 ms server latency, server in its own
process), each mix run against the same recipe with a directive in some prompts:

- ``hang``: 1 % of calls hang 30 s on their first attempt; a twin of the hung attempt
  (``llm/hedge.py``) or the model's ``timeout: 5`` and a retry answer. Goal: ≤ 1.5x the
  clean time (before: 20.5x in the issue, 8.4x here: one hung call stalled its step).
  ``hang-no-hedge`` is the same with ``--no-hedge``: what the reorder buffer alone gives
  (the hung calls still cost their timeout, but only to their own records).
- ``storm``: 5 % of calls get a 429 with ``Retry-After: 1``, 5 % a 500, 1 % a body cut
  in half, each on its first attempt. Goal: ≤ 2x the clean time (before: 4.0x, every
  429 paused every call to the model).

Each run is a ``synthdsl run --fresh`` subprocess; the table gives medians of the
interleaved repeats and the ratio to clean. Every run must end with exit 0 and all
2,000 records (the script checks).

Run: python benchmarks/bench_faults.py [CALLS] [REPEATS] [hang|hang-no-hedge|storm ...]
"""

from __future__ import annotations

import json
import sys
import tempfile
import urllib.request
from pathlib import Path

from _common import PY, Measured, fake_server, measure, median

CONCURRENCY = 64
LATENCY = 0.2

RECIPE = """
synthdsl: 1
name: faults
models:
  gen: {{model: openai/fake, api_base: "{url}", max_tokens: 32, concurrency: {conc},
         timeout: 5, max_retries: 6}}
sources:
  s: {{path: {rows}}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
"""


def _fault(mix: str, i: int) -> str:
    """The directive of row ``i`` in ``mix`` ("" for most rows), spread evenly."""
    slot = (i * 37) % 100  # a fixed scatter over the run, the same every time
    if mix in ("hang", "hang-no-hedge"):
        return " [[fault:hang seconds=30 times=1]]" if slot == 0 else ""
    if mix == "storm":
        if slot < 5:
            return " [[fault:429 times=1 retry_after=1]]"
        if slot < 10:
            return " [[fault:500 times=1]]"
        if slot == 10:
            return " [[fault:truncate times=1]]"
    return ""


def _run(work: Path, url: str, n: int, mix: str) -> Measured:
    rows = work / f"rows-{mix}.jsonl"
    if not rows.exists():
        rows.write_text(
            "".join(json.dumps({"q": f"question {i}{_fault(mix, i)}"}) + "\n" for i in range(n)),
            "utf-8",
        )
    recipe = work / f"{mix}.yaml"
    recipe.write_text(RECIPE.format(url=url, conc=CONCURRENCY, rows=rows.name), "utf-8")
    out = work / f"out-{mix}"
    command = [PY, "-m", "synthdsl.cli", "run", str(recipe), "--quiet", "--fresh"]
    measured = measure(
        [*command, "--no-report", "--out", str(out)]
        + (["--no-hedge"] if mix == "hang-no-hedge" else []),
        env={"SYNTHDSL_CACHE": str(work / f"cache-{mix}.sqlite")},
        cwd=str(work),
    )
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    if manifest["status"] != "completed" or manifest["output"]["records"] != n:
        raise RuntimeError(f"{mix}: {manifest['status']}, {manifest['output']['records']} rows")
    return measured


def main() -> None:
    args = [a for a in sys.argv[1:] if a.isdigit()]
    n = int(args[0]) if args else 2000
    repeats = int(args[1]) if len(args) > 1 else 3
    known = ("hang", "hang-no-hedge", "storm")
    mixes = [a for a in sys.argv[1:] if a in known] or list(known)
    goals = {"hang": 1.5, "storm": 2.0}
    walls: dict[str, list[float]] = {m: [] for m in ["clean", *mixes]}
    with tempfile.TemporaryDirectory() as tmp, fake_server(LATENCY) as url:
        work = Path(tmp)
        for _ in range(repeats):  # interleaved, so machine noise hits every mix alike
            for mix in walls:
                _reset(url)  # `times=1` faults fire on a prompt's first attempt: count anew
                walls[mix].append(_run(work, url, n, mix).wall)
    clean = median(walls["clean"])
    print(
        f"{n} calls, concurrency {CONCURRENCY}, server latency {LATENCY * 1000:.0f} ms, "
        f"timeout 5 s; medians of {repeats} interleaved runs"
    )
    print(f"{'mix':<14} {'wall s':>7} {'runs':>24} {'vs clean':>9} {'goal':>6}")
    for mix, xs in walls.items():
        ratio = median(xs) / clean
        goal = goals.get(mix)
        verdict = "" if goal is None else f"≤{goal:g}x {'OK' if ratio <= goal else 'MISSED'}"
        runs = " ".join(f"{x:.2f}" for x in xs)
        print(f"{mix:<14} {median(xs):>7.2f} {runs:>24} {ratio:>8.2f}x {verdict:>6}")


def _reset(url: str) -> None:
    base = url.rsplit("/v1", 1)[0]
    urllib.request.urlopen(urllib.request.Request(base + "/reset", method="POST"), timeout=10)


if __name__ == "__main__":
    main()
