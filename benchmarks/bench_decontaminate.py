"""Benchmark: decontamination of synthetic records against a benchmark-sized reference.

Makes ``--reference`` items (default 100,000; ~40 words each, Zipf-distributed words
from a 20,000-word vocabulary) and ``--records`` records (default 1,000,000; ~60 words
each), of which 1 % carry a 20-word copy of a reference item. Then measures:

- the reference set's build time (13-grams hashed into a sorted uint64 array), and its
  load time from the on-disk cache (what a re-run pays instead);
- records/s checking the records against it in batches of 1,024, as the
  ``decontaminate`` step does (any shared 13-gram), with the hits found (all planted
  copies must be found);
- peak RSS of the process, and the machine's load average before and after (the
  machine is shared: records/s depend on it).

Run: ``.venv/bin/python benchmarks/bench_decontaminate.py`` (full size: a few minutes,
most of it making the records, which is not timed; ~300 MB of RAM);
``--records 20000 --reference 2000`` for a quick check. Texts are generated on the fly
in batches, so the records never sit in memory all at once.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthdsl.textproc.ngram_store import reference_set
from synthdsl.textproc.ngrams import NgramSettings, is_hit

VOCAB = 20_000
BATCH = 1_024
PLANTED_SHARE = 0.01


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    words = [f"w{i}{rng.choice('abcdefghij')}" for i in range(VOCAB)]
    cum, total = [], 0.0
    for rank in range(VOCAB):
        total += 1.0 / (rank + 1)
        cum.append(total)
    return words, cum


def _text(rng: random.Random, words: list[str], weights: list[float], n: int) -> str:
    return " ".join(rng.choices(words, cum_weights=weights, k=n))


def _records(
    count: int, reference: list[str], seed: int, words: list[str], weights: list[float]
) -> Iterator[tuple[str, bool]]:
    rng = random.Random(seed)
    for _ in range(count):
        body = _text(rng, words, weights, 60)
        if rng.random() < PLANTED_SHARE:
            item = rng.choice(reference).split()
            start = rng.randrange(0, len(item) - 20 + 1)
            yield f"{body} {' '.join(item[start : start + 20])}", True
        else:
            yield body, False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--reference", type=int, default=100_000)
    parser.add_argument("--ngram", type=int, default=13)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    load_before = os.getloadavg()
    rng = random.Random(args.seed)
    words, weights = _vocabulary(rng)
    reference = [_text(rng, words, weights, 40) for _ in range(args.reference)]
    items = [(f"item-{i}", [t]) for i, t in enumerate(reference)]
    settings = NgramSettings(n=args.ngram)

    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        ref, built = reference_set(items, settings, Path(folder))
        build = time.perf_counter() - t0
        assert built
        t0 = time.perf_counter()
        _, built_again = reference_set(items, settings, Path(folder))
        load = time.perf_counter() - t0
        assert not built_again

    planted = found = false_hits = checked = 0
    check = 0.0
    stream = _records(args.records, reference, args.seed + 1, words, weights)
    while True:
        batch = [pair for _, pair in zip(range(BATCH), stream, strict=False)]
        if not batch:
            break
        t0 = time.perf_counter()  # making the records is not timed
        matches = ref.match([[t] for t, _ in batch])
        check += time.perf_counter() - t0
        for (_, is_planted), match in zip(batch, matches, strict=True):
            hit = is_hit(match, None)
            planted += is_planted
            found += hit and is_planted
            false_hits += hit and not is_planted
        checked += len(batch)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"reference: {args.reference:,} items, {len(ref):,} distinct {args.ngram}-grams")
    print(
        f"build: {build:.2f} s ({args.reference / build:,.0f} items/s); "
        f"load from cache: {load:.3f} s"
    )
    print(f"check: {checked:,} records in {check:.2f} s = {checked / check:,.0f} records/s")
    print(f"hits: {found:,} of {planted:,} planted copies found, {false_hits:,} other hits")
    print(f"peak RSS: {rss_mb:,.0f} MB")
    before, after = (" ".join(f"{x:.1f}" for x in avg) for avg in (load_before, os.getloadavg()))
    print(f"load average (1, 5, 15 min): {before} before, {after} after, {os.cpu_count()} cores")
    return 0 if found == planted else 1


if __name__ == "__main__":
    raise SystemExit(main())
