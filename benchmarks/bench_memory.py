"""Memory: 200,000 source records through a filter and exact dedup; peak RSS.

Compared in one run with two baselines: a bare interpreter that imports synthdsl's CLI,
and a plain Python loop doing the same work (read JSONL, filter, exact dedup by hash,
write JSONL). Target: synthdsl's peak RSS ≤ 300 MB, and flat in the number of records
(measured at 50,000 and 200,000).

Run: python benchmarks/bench_memory.py [N]
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

from _common import PY, measure

RECIPE = """
synthdsl: 1
name: memory
sources:
  rows: {{path: {rows}}}
steps:
  - id: keep
    filter: "words(text) >= 4 and score >= 2"
  - id: unique
    dedup: {{field: text}}
"""

PLAIN = r"""
import hashlib, json, sys
seen = set()
with open(sys.argv[1]) as fh, open(sys.argv[2], "w") as out:
    for line in fh:
        row = json.loads(line)
        if len(row["text"].split()) >= 4 and row["score"] >= 2:
            d = hashlib.blake2b(" ".join(row["text"].lower().split()).encode(), digest_size=16).digest()
            if d not in seen:
                seen.add(d)
                out.write(json.dumps(row) + "\n")
"""

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
    "write",
    "explain",
    "list",
    "describe",
]


def make_rows(path: Path, n: int) -> None:
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            k = rng.randint(2, 30)
            text = " ".join(rng.choice(WORDS) for _ in range(k))
            if i % 10 == 0 and i:  # 10% exact duplicates
                text = text.upper()
            fh.write(f'{{"id": {i}, "text": "{text}", "score": {rng.randint(1, 5)}}}\n')


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results = []
        for size in (n // 4, n):
            rows = work / f"rows-{size}.jsonl"
            make_rows(rows, size)
            recipe = work / f"memory-{size}.yaml"
            recipe.write_text(RECIPE.format(rows=rows.name), "utf-8")
            (work / "plain.py").write_text(PLAIN, "utf-8")
            base = measure([PY, "-c", "import synthdsl.cli"])
            plain = measure([PY, str(work / "plain.py"), str(rows), str(work / "plain.jsonl")])
            ours = measure(
                [
                    PY,
                    "-m",
                    "synthdsl.cli",
                    "run",
                    str(recipe),
                    "--quiet",
                    "--out",
                    str(work / "out"),
                ],
                env={"SYNTHDSL_CACHE": str(work / "cache.sqlite")},
                cwd=str(work),
            )
            results.append((size, base, plain, ours))
    print(
        f"{'records':>8} {'import-only MB':>15} {'plain loop MB':>14} {'synthdsl MB':>12} "
        f"{'synthdsl s':>10} {'plain s':>8} {'time ratio':>10}"
    )
    for size, base, plain, ours in results:
        print(
            f"{size:>8} {base.max_rss_kb / 1024:>15.0f} {plain.max_rss_kb / 1024:>14.0f} "
            f"{ours.max_rss_kb / 1024:>12.0f} {ours.wall:>10.2f} {plain.wall:>8.2f} "
            f"{ours.wall / plain.wall:>9.1f}x"
        )
    peak = results[-1][3].max_rss_kb / 1024
    growth = (results[-1][3].max_rss_kb - results[0][3].max_rss_kb) / 1024
    print(
        f"\npeak RSS at {n} records: {peak:.0f} MB (target ≤ 300): "
        f"{'OK' if peak <= 300 else 'MISSED'}; growth from {n // 4} to {n} records: "
        f"{growth:.0f} MB (the dedup keeps a 16-byte digest and an id per distinct record)"
    )


if __name__ == "__main__":
    main()
