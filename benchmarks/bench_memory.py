"""Memory: 200,000 source records through a filter and exact dedup; peak RSS.

Compared in one run with two baselines: a bare interpreter that imports synthdsl's CLI,
and a plain Python loop doing the same work (read JSONL, filter, exact dedup by hash,
write JSONL). Target: synthdsl's peak RSS ≤ 300 MB, and flat in the number of records
(measured at 50,000 and 200,000).

Run: python benchmarks/bench_memory.py [N] [--baseline REV]

synthdsl runs as a user runs it (the HTML report included, which reads the dataset and
the rejects back), and again with ``--no-report``: the pipeline alone.

``--baseline REV`` also runs synthdsl as of git REV (its ``synthdsl/`` unpacked to a
temporary folder, first on PYTHONPATH) on the same rows, and checks that both runs wrote
the same dataset (byte for byte) and the same rejects lines.
"""

from __future__ import annotations

import argparse
import random
import subprocess
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


def _baseline_tree(rev: str, into: Path) -> Path:
    """synthdsl as of git ``rev``, unpacked under ``into`` (run with PYTHONPATH)."""
    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(
        ["git", "archive", rev, "synthdsl"], cwd=root, capture_output=True, check=True
    ).stdout
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _same_outputs(a: Path, b: Path) -> str:
    """Whether two runs wrote the same dataset (bytes) and the same rejects (lines)."""
    data = (a / "dataset.jsonl").read_bytes() == (b / "dataset.jsonl").read_bytes()
    rejects = sorted((a / "rejects.jsonl").read_bytes().splitlines()) == sorted(
        (b / "rejects.jsonl").read_bytes().splitlines()
    )
    return (
        f"dataset {'identical' if data else 'DIFFERS'}, rejects {'same' if rejects else 'DIFFER'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=200_000)
    ap.add_argument("--baseline", default="", metavar="REV", help="also run synthdsl at git REV")
    args = ap.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base_tree = _baseline_tree(args.baseline, work / "baseline") if args.baseline else None
        (work / "plain.py").write_text(PLAIN, "utf-8")
        results = []
        for size in (n // 4, n):
            rows = work / f"rows-{size}.jsonl"
            make_rows(rows, size)
            recipe = work / f"memory-{size}.yaml"
            recipe.write_text(RECIPE.format(rows=rows.name), "utf-8")
            base = measure([PY, "-c", "import synthdsl.cli"])
            plain = measure([PY, str(work / "plain.py"), str(rows), str(work / "plain.jsonl")])
            runs = {}
            for label, tree, extra in (
                ("synthdsl", None, []),
                ("no report", None, ["--no-report"]),
                (args.baseline, base_tree, []),
            ):
                if label == "":
                    continue
                env = {"SYNTHDSL_CACHE": str(work / "cache.sqlite")}
                if tree is not None:
                    env["PYTHONPATH"] = str(tree)
                out = work / f"out-{label.replace(' ', '-')}-{size}"
                cmd = [PY, "-m", "synthdsl.cli", "run", str(recipe), "--quiet", "--out", str(out)]
                runs[label] = measure([*cmd, *extra], env=env, cwd=str(work))
            same = ""
            if args.baseline:
                same = _same_outputs(
                    work / f"out-synthdsl-{size}", work / f"out-{args.baseline}-{size}"
                )
            results.append((size, base, plain, runs, same))
    print(
        f"{'records':>8} {'run':>10} {'peak MB':>8} {'wall s':>7} {'cpu s':>7} "
        f"{'× plain wall':>12} {'× plain cpu':>11}"
    )
    for size, base, plain, runs, same in results:
        print(f"{size:>8} {'import':>10} {base.max_rss_kb / 1024:>8.0f}")
        print(
            f"{size:>8} {'plain loop':>10} {plain.max_rss_kb / 1024:>8.0f} {plain.wall:>7.2f} "
            f"{plain.cpu:>7.2f}"
        )
        for label, ours in runs.items():
            print(
                f"{size:>8} {label[:10]:>10} {ours.max_rss_kb / 1024:>8.0f} {ours.wall:>7.2f} "
                f"{ours.cpu:>7.2f} {ours.wall / plain.wall:>11.2f}x {ours.cpu / plain.cpu:>10.2f}x"
            )
        if same:
            print(f"{size:>8} outputs of synthdsl and {args.baseline}: {same}")
    small, large = results[0][3]["synthdsl"], results[-1][3]["synthdsl"]
    peak = large.max_rss_kb / 1024
    growth = (large.max_rss_kb - small.max_rss_kb) / 1024
    print(
        f"\npeak RSS at {n} records: {peak:.0f} MB (target ≤ 300): "
        f"{'OK' if peak <= 300 else 'MISSED'}; growth from {n // 4} to {n} records: "
        f"{growth:.0f} MB (the dedup keeps a 16-byte digest and an id per distinct record)"
    )


if __name__ == "__main__":
    main()
