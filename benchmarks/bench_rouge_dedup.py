"""Benchmark: exact ROUGE-L dedup of a stream, the curve over pool sizes.

Input: synthetic instructions (template phrasing, Zipf content words, 8-30 words,
~15 % near-duplicates made by word edits of an earlier item), generated with a fixed
seed by the helpers of ``bench_rouge_index.py``. For each size (default 10k, 30k, 100k)
and each algorithm, runs the dedup the node performs (an item is kept iff no earlier
KEPT item has ROUGE-L F >= threshold; a dropped item names its best match, ties to the
earliest) in a fresh forked process, and prints wall time, CPU time, the peak RSS of
that process above its start, and how many items were kept.

Exactness: at every size, a sample of positions (200 by default) is decided by brute
force (rapidfuzz LCS against every earlier kept item) and must match each algorithm's
decision and named match; the kept sets of all algorithms must be identical. Any
mismatch exits 1.

Algorithms: ``main`` is ``RougeIndex`` (``nearest`` then ``add``, as the dedup node
does); ``brute force`` scores every earlier kept item with rapidfuzz (sizes up to
``--brute-max``, default 10k). A faster exact algorithm goes in ``ALGORITHMS`` next to
them, so every row is measured in the same run on the same texts.

Run: ``.venv/bin/python benchmarks/bench_rouge_dedup.py [--sizes 10000,30000,100000]
[--threshold 0.7] [--sample 200] [--only main]`` (about 4 minutes with the defaults).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import LCSseq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_rouge_index import _content_vocab, _edit, _instruction

from synthdsl.textproc.rouge_blocks import dedup_block
from synthdsl.textproc.similarity import RougeIndex
from synthdsl.textproc.tokens import tokenize

SEED = 20261205
DUP_RATE = 0.15
BLOCK = 4096  # items per block for ``blocks x2``

# (kept flag, best match index or -1) per item
Decisions = tuple[bytes, list[int]]


def make_texts(n: int, seed: int = SEED) -> list[str]:
    """``n`` instructions of 8-30 words; ~15 % are word edits of an earlier one."""
    rng = random.Random(seed)
    vocab = _content_vocab(rng, 6000)
    weights = list(accumulate(1.0 / (r + 1) ** 1.05 for r in range(len(vocab))))
    texts: list[str] = []
    while len(texts) < n:
        if texts and rng.random() < DUP_RATE:
            text = _edit(rng, rng.choice(texts), vocab)
        else:
            text = _instruction(rng, vocab, weights)
        if 8 <= len(text.split()) <= 30:
            texts.append(text)
    return texts


def dedup_main(texts: list[str], threshold: float, index_cls: type = RougeIndex) -> Decisions:
    index = index_cls(min_threshold=threshold)
    kept = bytearray(len(texts))
    match = [-1] * len(texts)
    for i, text in enumerate(texts):
        found = index.nearest(text, threshold)
        if found is None:
            index.add(str(i), text)
            kept[i] = 1
        else:
            match[i] = int(found[0])
    return bytes(kept), match


def dedup_blocks(texts: list[str], threshold: float) -> Decisions:
    """``main``'s index, queried a block at a time with the pool check on 2 processes."""
    index = RougeIndex(min_threshold=threshold)
    kept = bytearray(len(texts))
    match = [-1] * len(texts)
    for start in range(0, len(texts), BLOCK):
        items = [(str(i), texts[i]) for i in range(start, min(start + BLOCK, len(texts)))]
        for i, found in enumerate(dedup_block(index, items, threshold, workers=2), start):
            if found is None:
                kept[i] = 1
            else:
                match[i] = int(found[0])
    return bytes(kept), match


def dedup_brute(texts: list[str], threshold: float) -> Decisions:
    vocab: dict[str, int] = {}
    enc = ["".join(chr(vocab.setdefault(t, len(vocab))) for t in tokenize(x)) for x in texts]
    kept = bytearray(len(texts))
    match = [-1] * len(texts)
    pool: list[int] = []
    pool_enc: list[str] = []
    for i, q in enumerate(enc):
        j = _best_earlier(q, pool, pool_enc, enc, threshold)
        if j < 0:
            kept[i] = 1
            pool.append(i)
            pool_enc.append(q)
        else:
            match[i] = j
    return bytes(kept), match


def _best_earlier(
    q: str, pool: list[int], pool_enc: list[str], enc: list[str], threshold: float
) -> int:
    """The earliest best pool item scoring >= threshold, by scoring all of them; or -1."""
    # Any match needs LCS >= ceil(θ·|q|/(2−θ)) (see RougeIndex); a safe integer cutoff.
    theta = threshold - 1e-9
    need = max(1, math.ceil(theta * len(q) / (2.0 - theta)))
    best_j, best_s = -1, -1.0
    found = process.extract(q, pool_enc, scorer=LCSseq.similarity, score_cutoff=need, limit=None)
    for _, lcs, k in found:
        j = pool[k]
        la, lb = len(q), len(enc[j])
        s = 2.0 * lcs / (la + lb) if la + lb else 0.0
        if s >= threshold and (s > best_s or (s == best_s and j < best_j)):
            best_j, best_s = j, s
    return best_j


ALGORITHMS: dict[str, Callable[[list[str], float], Decisions]] = {
    "main": dedup_main,
    "blocks x2": dedup_blocks,
    "brute force": dedup_brute,
}


def add_baseline(rev: str) -> None:
    """Add ``RougeIndex`` as it was at git revision ``rev`` as the algorithm ``rev``."""
    import subprocess
    import types

    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{rev}:synthdsl/textproc/similarity.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"similarity_{rev}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:similarity.py", "exec"), module.__dict__)

    def dedup_baseline(texts: list[str], threshold: float) -> Decisions:
        return dedup_main(texts, threshold, module.RougeIndex)

    ALGORITHMS[rev] = dedup_baseline


def _rss_kb() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _child(name: str, texts: list[str], threshold: float, conn: object) -> None:
    start_rss = _rss_kb()
    t0 = time.perf_counter()
    c0 = time.process_time()
    decisions = ALGORITHMS[name](texts, threshold)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += children.ru_utime + children.ru_stime
    peak = max(usage.ru_maxrss, children.ru_maxrss) - start_rss
    conn.send((wall, cpu, peak, decisions))  # type: ignore[attr-defined]
    conn.close()  # type: ignore[attr-defined]


def run_isolated(
    name: str, texts: list[str], threshold: float
) -> tuple[float, float, int, Decisions]:
    """Run one algorithm in a forked process: (wall s, cpu s, peak RSS above start KB, decisions)."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(name, texts, threshold, child))
    proc.start()
    child.close()
    result = parent.recv()
    proc.join()
    return result  # type: ignore[no-any-return]


def brute_force_check(
    texts: list[str], threshold: float, decisions: Decisions, sample: list[int]
) -> int:
    """Mismatches between ``decisions`` and brute force at the sampled positions."""
    kept, match = decisions
    vocab: dict[str, int] = {}
    enc = ["".join(chr(vocab.setdefault(t, len(vocab))) for t in tokenize(x)) for x in texts]
    bad = 0
    for i in sample:
        pool = [j for j in range(i) if kept[j]]
        best_j = _best_earlier(enc[i], pool, [enc[j] for j in pool], enc, threshold)
        want_kept = best_j < 0
        if bool(kept[i]) != want_kept or (not want_kept and match[i] != best_j):
            bad += 1
            print(f"    MISMATCH at {i}: kept={kept[i]} match={match[i]}; brute force {best_j}")
    return bad


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,30000,100000")
    ap.add_argument("--threshold", type=float, default=0.7)
    ap.add_argument("--sample", type=int, default=200)
    ap.add_argument("--brute-max", type=int, default=10_000)
    ap.add_argument("--only", default="", help="comma-separated algorithm names")
    ap.add_argument(
        "--baseline", default="", metavar="REV", help="also run RougeIndex as of git REV"
    )
    args = ap.parse_args()
    if args.baseline:
        add_baseline(args.baseline)
    sizes = [int(s) for s in args.sizes.split(",")]
    names = [n for n in ALGORITHMS if not args.only or n in args.only.split(",")]
    print(
        f"ROUGE-L dedup, threshold {args.threshold}; {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    rows: list[tuple[int, str, float, float, int, int]] = []
    failed = False
    for n in sizes:
        texts = make_texts(n)
        lens = [len(tokenize(t)) for t in texts]
        print(f"\n{n} texts, {min(lens)}-{max(lens)} tokens (median {statistics.median(lens)})")
        sample = sorted(random.Random(n).sample(range(n), min(args.sample, n)))
        reference: bytes | None = None
        for name in names:
            if name == "brute force" and n > args.brute_max:
                print(f"  {name:>15}: skipped (--brute-max {args.brute_max})")
                continue
            wall, cpu, peak, decisions = run_isolated(name, texts, args.threshold)
            kept = sum(decisions[0])
            bad = brute_force_check(texts, args.threshold, decisions, sample)
            same = (
                ""
                if reference is None
                else (", kept set identical" if decisions[0] == reference else ", KEPT SET DIFFERS")
            )
            if reference is None:
                reference = decisions[0]
            elif decisions[0] != reference:
                failed = True
            failed = failed or bad > 0
            print(
                f"  {name:>15}: {wall:7.2f} s wall, {cpu:7.2f} s cpu, peak +{peak / 1024:6.1f} MB,"
                f" kept {kept} ({kept / n:.1%}); brute force sample {len(sample) - bad}/"
                f"{len(sample)} agree{same}"
            )
            rows.append((n, name, wall, cpu, peak, kept))
    print("\n| items | algorithm | wall s | cpu s | peak MB | vs main |")
    print("|---:|---|---:|---:|---:|---:|")
    main_wall = {n: w for n, name, w, *_ in rows if name == "main"}
    for n, name, wall, cpu, peak, _kept in rows:
        ratio = f"{main_wall[n] / wall:.1f}x" if n in main_wall else "-"
        print(f"| {n} | {name} | {wall:.2f} | {cpu:.2f} | {peak / 1024:.0f} | {ratio} |")
    if failed:
        raise SystemExit("exactness check failed")


if __name__ == "__main__":
    main()
