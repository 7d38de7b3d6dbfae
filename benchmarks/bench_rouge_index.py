"""Benchmark: RougeIndex.nearest against a brute-force ROUGE-L scan.

Builds a pool of 10,000 synthetic instructions (template phrasing, Zipf-distributed
content words, ~25% near-duplicates made by word edits), then runs 1,000 queries (half
fresh instructions, half edits of pool items) at thresholds 0.7 and 0.5. Prints the
median time per query for the index and for brute force (rapidfuzz LCS against every
pool item, tokens pre-encoded, so only the pruning differs), how many pool items
reached verification, how many exact LCS computations each performed, and checks the
two agree on every query.

Run: ``.venv/bin/python benchmarks/bench_rouge_index.py`` (about 30 s).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from itertools import accumulate
from pathlib import Path

from rapidfuzz.distance import LCSseq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthdsl.textproc.similarity import RougeIndex
from synthdsl.textproc.tokens import tokenize

POOL = 10_000
QUERIES = 1_000
SEED = 1234

VERBS = [
    "write", "explain", "describe", "list", "summarize", "compare", "create", "design",
    "generate", "suggest", "translate", "rewrite", "analyze", "outline", "classify",
    "draft", "give", "find", "implement", "plan",
]  # fmt: skip
FORMS = [
    "a short poem", "an essay", "a python function", "a story", "three tips", "a haiku",
    "five ideas", "a product description", "a lesson plan", "a tweet", "an email",
    "a recipe", "a quiz", "a dialogue", "a sql query", "a summary", "a table",
]  # fmt: skip
GLUE = [
    "about", "on", "for", "with", "that", "in", "of", "the", "a", "to", "and", "which",
    "using", "without", "from",
]  # fmt: skip


def _content_vocab(rng: random.Random, n: int) -> list[str]:
    letters = "abcdefghijklmnoprstuvwyz"
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 9))))
    return sorted(out)


def _instruction(rng: random.Random, vocab: list[str], cum_weights: list[float]) -> str:
    """One instruction; ``cum_weights`` are the content words' cumulative weights (given
    so, ``rng.choices`` does not sum 6,000 weights per word: the same draws, far faster)."""
    parts = [rng.choice(VERBS), rng.choice(FORMS), rng.choice(GLUE)]
    for _ in range(rng.randint(4, 20)):
        if rng.random() < 0.3:
            parts.append(rng.choice(GLUE))
        else:
            parts.append(rng.choices(vocab, cum_weights=cum_weights)[0])
    return " ".join(parts)


def _edit(rng: random.Random, text: str, vocab: list[str]) -> str:
    toks = text.split()
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        if op < 0.35 and len(toks) > 3:
            del toks[rng.randrange(len(toks))]
        elif op < 0.7:
            toks.insert(rng.randint(0, len(toks)), rng.choice(vocab + GLUE))
        else:
            toks[rng.randrange(len(toks))] = rng.choice(vocab + GLUE)
    return " ".join(toks)


class BruteForce:
    """Scores every pool item with rapidfuzz; the baseline the index must equal."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.items: list[tuple[str, str, int]] = []

    def _enc(self, tokens: list[str], grow: bool) -> str:
        out: list[str] = []
        for t in tokens:
            tid = self.vocab.get(t)
            if tid is None:
                tid = len(self.vocab)
                if grow:
                    self.vocab[t] = tid
                else:
                    tid += 1 + len(out)  # unseen token: a code point no item uses
            out.append(chr(tid))
        return "".join(out)

    def add(self, item_id: str, text: str) -> None:
        toks = tokenize(text)
        self.items.append((item_id, self._enc(toks, True), len(toks)))

    def nearest(self, text: str, threshold: float) -> tuple[str, float] | None:
        toks = tokenize(text)
        q = self._enc(toks, False)
        la = len(toks)
        best: tuple[str, float] | None = None
        for item_id, enc, lb in self.items:
            score = 2.0 * LCSseq.similarity(q, enc) / (la + lb) if la + lb else 0.0
            if best is None or score > best[1]:
                best = (item_id, score)
        return best if best is not None and best[1] >= threshold else None


def main() -> None:
    rng = random.Random(SEED)
    vocab = _content_vocab(rng, 4000)
    weights = list(accumulate(1.0 / (r + 1) ** 1.05 for r in range(len(vocab))))  # Zipf-like
    texts: list[str] = []
    for _ in range(POOL):
        if texts and rng.random() < 0.25:
            texts.append(_edit(rng, rng.choice(texts), vocab))
        else:
            texts.append(_instruction(rng, vocab, weights))
    queries = [
        _edit(rng, rng.choice(texts), vocab) if i % 2 else _instruction(rng, vocab, weights)
        for i in range(QUERIES)
    ]

    t0 = time.perf_counter()
    index = RougeIndex(min_threshold=0.5)
    for i, text in enumerate(texts):
        index.add(f"p{i}", text)
    build = time.perf_counter() - t0
    brute = BruteForce()
    for i, text in enumerate(texts):
        brute.add(f"p{i}", text)
    mean_len = statistics.mean(len(tokenize(t)) for t in texts)
    print(f"pool: {POOL} instructions, mean {mean_len:.1f} tokens; {QUERIES} queries")
    print(f"index build: {build:.2f} s ({build / POOL * 1e6:.0f} µs per add)")

    for threshold in (0.7, 0.5):
        before = (index.stats.candidates, index.stats.lcs)
        idx_times: list[float] = []
        idx_answers = []
        for q in queries:
            t = time.perf_counter()
            idx_answers.append(index.nearest(q, threshold))
            idx_times.append(time.perf_counter() - t)
        cands = index.stats.candidates - before[0]
        lcs = index.stats.lcs - before[1]
        bf_times: list[float] = []
        bf_answers = []
        for q in queries:
            t = time.perf_counter()
            bf_answers.append(brute.nearest(q, threshold))
            bf_times.append(time.perf_counter() - t)
        agree = sum(a == b for a, b in zip(idx_answers, bf_answers, strict=True))
        hits = sum(a is not None for a in idx_answers)
        idx_med = statistics.median(idx_times) * 1e3
        bf_med = statistics.median(bf_times) * 1e3
        print(f"\nthreshold {threshold}: {hits}/{QUERIES} queries have a near duplicate")
        print(
            f"  median per query: index {idx_med:.3f} ms, brute force {bf_med:.3f} ms "
            f"({bf_med / idx_med:.0f}x); totals {sum(idx_times):.2f} s vs {sum(bf_times):.2f} s"
        )
        print(
            f"  per query: {cands / QUERIES:.1f} candidates given a bag-of-words bound"
            f" ({cands / QUERIES / POOL:.2%} of the pool), {lcs / QUERIES:.2f} exact LCS vs"
            f" {POOL} for brute force (pruning ratio {lcs / (QUERIES * POOL):.6f})"
        )
        print(f"  answers identical to brute force: {agree}/{QUERIES}")
        if agree != QUERIES:
            raise SystemExit("index and brute force disagree")

    t = time.perf_counter()
    for q in queries[:200]:
        index.best(q)
    print(f"\nbest() (any score): {(time.perf_counter() - t) / 200 * 1e3:.2f} ms per query")


if __name__ == "__main__":
    main()
