"""Block-wise ROUGE-L dedup on forked workers decides exactly as one item at a time."""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from synthdsl.textproc import rouge_blocks
from synthdsl.textproc.rouge_blocks import dedup_block
from synthdsl.textproc.similarity import RougeIndex

WORDS = (
    "write explain list describe a the an of to and in for with poem story essay code "
    "function python data sort numbers about cats dogs ocean history short long three"
).split()


def _texts(n: int, seed: int) -> list[str]:
    """Random texts, ~40 % of them small edits of an earlier one (many near duplicates,
    some inside one block, some exact repeats)."""
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        if out and rng.random() < 0.4:
            toks = rng.choice(out).split()
            for _ in range(rng.randint(0, 2)):
                toks[rng.randrange(len(toks))] = rng.choice(WORDS)
        else:
            toks = [rng.choice(WORDS) for _ in range(rng.randint(3, 12))]
        out.append(" ".join(toks))
    return out


def _one_at_a_time(texts: list[str], threshold: float) -> list[tuple[str, float] | None]:
    index = RougeIndex(min_threshold=threshold)
    out: list[tuple[str, float] | None] = []
    for i, text in enumerate(texts):
        found = index.nearest(text, threshold)
        if found is None:
            index.add(str(i), text)
        out.append(found)
    return out


def _blocks(
    texts: list[str], threshold: float, block: int, workers: int
) -> tuple[list[tuple[str, float] | None], RougeIndex]:
    index = RougeIndex(min_threshold=threshold)
    out: list[tuple[str, float] | None] = []
    for start in range(0, len(texts), block):
        items = [(str(i), texts[i]) for i in range(start, min(start + block, len(texts)))]
        out.extend(dedup_block(index, items, threshold, workers=workers))
    return out, index


@pytest.mark.parametrize(("block", "workers"), [(1, 2), (37, 2), (200, 3), (200, 1)])
def test_blocks_decide_as_one_at_a_time(block: int, workers: int) -> None:
    texts = _texts(700, seed=block + workers)
    expected = _one_at_a_time(texts, 0.7)
    got, index = _blocks(texts, 0.7, block, workers)
    assert got == expected  # same kept set, same named match and score
    assert sum(d is None for d in got) == len(index)
    # within-block matches happened: some item names an item of its own block
    named_inside = [
        i for i, d in enumerate(got) if d is not None and int(d[0]) // block == i // block
    ]
    if block > 1:
        assert named_inside


def test_a_failed_worker_costs_time_not_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that dies (or cannot be forked) has its share checked in the caller."""
    texts = _texts(300, seed=3)
    expected = _one_at_a_time(texts, 0.7)

    def crash(*args: Any) -> list[tuple[str, float] | None]:
        if os.getpid() != parent:
            os._exit(3)
        return real(*args)

    parent = os.getpid()
    real = rouge_blocks._check
    monkeypatch.setattr(rouge_blocks, "_check", crash)
    got, _ = _blocks(texts, 0.7, 100, 2)
    assert got == expected
    monkeypatch.setattr(rouge_blocks, "_fork_share", lambda *args: None)
    monkeypatch.setattr(rouge_blocks, "_check", real)
    got, _ = _blocks(texts, 0.7, 100, 2)
    assert got == expected


def test_threshold_below_the_index_is_refused() -> None:
    with pytest.raises(ValueError, match="min_threshold"):
        dedup_block(RougeIndex(min_threshold=0.8), [("a", "x y")], 0.7)
