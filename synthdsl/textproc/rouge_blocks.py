"""Exact keep-first ROUGE-L dedup of a block of texts, the pool check spread over processes.

Input: a ``RougeIndex`` holding the items kept so far, and a block of ``(item_id, text)``
in arrival order. Output: per item, ``None`` if it is kept (it is then added to the
index, in order) or ``(id, score)`` of its best match: the best-scoring earlier kept
item (ties: the earliest), exactly what scoring every kept item would name.

Errors: ``ValueError`` for a threshold below the index's ``min_threshold`` or an id
already in the pool; nothing else. A worker process that cannot be forked or dies
only costs time: its share of the block is checked in the calling process.

How the block is decided (an item is kept iff no earlier *kept* item reaches the
threshold):

1. Pool check, in parallel: each item of the block is looked up in the index as it was
   before the block (read-only). The block is cut into ``workers`` contiguous shares;
   the calling process checks the first, forked children the others (they share the
   index's memory copy-on-write and send back only ``(position, score)`` per item).
2. Inside the block, in order, in the calling process: a small index holds the items
   of the block kept so far. An item with a pool match of score ``s`` still names an
   earlier item of the block if one scores strictly more than ``s`` (every pool item
   precedes every block item, so on a tie the pool item is the earlier); an item with
   no pool match is checked against the block's kept items at the threshold. An item
   with no match at all is kept.
3. The kept items are added to the index in arrival order.

Step 2 is cheap next to step 1 once the pool is large (the block's own index holds at
most one block), so two processes bring the time per block towards half.
"""

from __future__ import annotations

import gc
import os
import pickle
import warnings
from collections.abc import Sequence

from synthdsl.textproc.similarity import RougeIndex

__all__ = ["dedup_block"]

Match = tuple[str, float] | None


def dedup_block(
    index: RougeIndex,
    items: Sequence[tuple[str, str]],
    threshold: float,
    *,
    workers: int = 2,
) -> list[Match]:
    """Decide a block of items against ``index`` and each other; add the kept ones.

    ``workers`` is the number of processes checking the pool (1: no child process).
    """
    if threshold < index.min_threshold:
        raise ValueError(
            f"threshold {threshold} is below the index's min_threshold {index.min_threshold}"
        )
    pool_best = _pool_matches(index, [text for _, text in items], threshold, workers)
    local = RougeIndex(min_threshold=threshold, tokenizer=index.tokenizer, shared=index.shared)
    decisions: list[Match] = []
    kept: list[tuple[str, str]] = []
    for (item_id, text), found in zip(items, pool_best, strict=True):
        if found is None:
            match = local.nearest(text, threshold) if len(local) else None
        else:
            inside = local.nearest(text, found[1], inclusive=False) if len(local) else None
            match = found if inside is None else inside
        if match is None:
            local.add(item_id, text)
            kept.append((item_id, text))
        decisions.append(match)
    for item_id, text in kept:
        index.add(item_id, text)
    return decisions


def _pool_matches(
    index: RougeIndex, texts: list[str], threshold: float, workers: int
) -> list[Match]:
    """``index.nearest(text, threshold)`` for every text, shares checked in children."""
    n = len(texts)
    shares = max(1, min(workers, n))
    bounds = [n * k // shares for k in range(shares + 1)]
    children: list[tuple[int, int, int, int]] = []  # (pid, read fd, start, end)
    if shares > 1:
        gc_was_enabled = gc.isenabled()
        gc.disable()  # a collection would touch (and copy) every page the children share
        try:
            for k in range(1, shares):
                child = _fork_share(index, texts, threshold, bounds[k], bounds[k + 1])
                if child is not None:
                    children.append(child)
            results = _check(index, texts, threshold, 0, bounds[1])
        finally:
            if gc_was_enabled:
                gc.enable()
    else:
        results = _check(index, texts, threshold, 0, n)
    by_start: dict[int, list[Match]] = {0: results}
    for pid, fd, start, end in children:
        got = _collect(pid, fd)
        if got is not None and len(got) == end - start:
            by_start[start] = got
    out: list[Match] = []
    for k in range(shares):
        start, end = bounds[k], bounds[k + 1]
        out.extend(
            by_start[start] if start in by_start else _check(index, texts, threshold, start, end)
        )
    return out


def _check(
    index: RougeIndex, texts: list[str], threshold: float, start: int, end: int
) -> list[Match]:
    return [index.nearest(texts[i], threshold) for i in range(start, end)]


def _fork_share(
    index: RougeIndex, texts: list[str], threshold: float, start: int, end: int
) -> tuple[int, int, int, int] | None:
    """Fork a child that checks ``texts[start:end]`` and writes the pickled answers."""
    if not hasattr(os, "fork"):  # pragma: no cover - not on POSIX
        return None
    read_fd, write_fd = os.pipe()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork in a threaded process; the child only
            # computes on memory it owns a copy of, takes no lock, and exits.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # pragma: no cover - runs in the child, which never returns
        status = 1
        try:
            os.close(read_fd)
            data = pickle.dumps(_check(index, texts, threshold, start, end), protocol=5)
            with os.fdopen(write_fd, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    return pid, read_fd, start, end


def _collect(pid: int, fd: int) -> list[Match] | None:
    """A child's answers, or None if it failed (its share is then checked here)."""
    with os.fdopen(fd, "rb") as src:
        data = src.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    try:
        got = pickle.loads(data)
    except Exception:  # a truncated answer: check the share here instead
        return None
    return got if isinstance(got, list) else None
