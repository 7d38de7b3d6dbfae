"""Grouping texts without labels: TF-IDF or sentence-embedding vectors, spherical k-means.

Input: texts. Output:

- ``lexical_vectors(texts)`` → float64 array ``(len(texts), vocabulary)``: TF-IDF over
  the alphabetic word tokens of three letters or more of ``tokens.tokenize``
  (sublinear term frequency ``1 + log tf``, smoothed ``idf = log((1 + N) / (1 + df))
  + 1``); the vocabulary is the terms found in at least two texts (a term in one text
  links nothing), at most the 1,024 most frequent; unit rows (a text with none of
  those terms is a zero row, and joins the first cluster);
- ``kmeans(vectors, k, seed)`` → a cluster index per row: spherical k-means (cosine),
  ten seeded k-means++ starts (three when rows × k exceeds 200,000), each iterated
  (Lloyd) until no row moves (past 1,000 rows: at most 0.1 % of them; at most 50
  iterations), the run with the largest summed cosine to its centres kept; an empty
  cluster takes the row farthest from its centre. Clusters are renumbered by their first row, so
  the result depends only on the rows, ``k`` and ``seed``;
- ``auto_k(n)`` → ``max(1, round(sqrt(n / 2)))``, the usual rule of thumb, never more
  than ``n``;
- ``top_terms(texts, labels, count)`` → per cluster, the words with the largest summed
  TF-IDF weight in it (a label a person can read).

Embedding vectors come from ``textproc/embed.py``'s ``TextEncoder`` (unit rows), which
the caller loads. Errors: ``ValueError`` for ``k < 1`` or vectors that are not 2-D.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from synthdsl.textproc.tokens import tokenize

__all__ = ["auto_k", "kmeans", "lexical_vectors", "top_terms"]

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
_MAX_TERMS = 1024  # columns of a TF-IDF matrix: memory is texts x this x 8 bytes
_RESTARTS = 10  # k-means++ starts tried; the best run is kept
_RESTARTS_LARGE = 3  # when rows x clusters exceed _SMALL
_SMALL = 200_000
_MAX_ITER = 50


def _terms(text: str) -> list[str]:
    return [t for t in tokenize(text) if t.isalpha() and len(t) > 2]


def _vocabulary(docs: Sequence[list[str]]) -> tuple[dict[str, int], F64]:
    """The terms that can link two texts (in at least two of them), at most
    ``_MAX_TERMS`` of the most frequent, with their idf."""
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    shared = sorted((t for t, c in df.items() if c >= 2), key=lambda t: (-df[t], t))
    vocab = {term: i for i, term in enumerate(sorted(shared[:_MAX_TERMS]))}
    n = len(docs)
    idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in vocab], dtype=np.float64)
    return vocab, idf


def lexical_vectors(texts: Sequence[str]) -> F64:
    """TF-IDF rows of ``texts`` (see the module docstring), unit length or zero."""
    docs = [_terms(t) for t in texts]
    vocab, idf = _vocabulary(docs)
    out = np.zeros((len(docs), max(1, len(vocab))), dtype=np.float64)
    for row, doc in enumerate(docs):
        for term, tf in Counter(doc).items():
            col = vocab.get(term)
            if col is not None:
                out[row, col] = (1.0 + math.log(tf)) * idf[col]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def auto_k(n: int) -> int:
    """The number of clusters used when none is given."""
    return max(1, min(n, round(math.sqrt(n / 2))))


def _unit(rows: Any) -> Any:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


def _plus_plus(x: F32, k: int, rng: np.random.Generator) -> F32:
    """k-means++: each next centre drawn with probability ∝ its cosine distance to the
    nearest centre so far (kept up to date one centre at a time)."""
    first = int(rng.integers(len(x)))
    centres = [x[first]]
    nearest = x @ x[first]
    for _ in range(1, k):
        distance = np.clip(1.0 - nearest, 0.0, None)
        total = float(distance.sum())
        if total <= 0:
            pick = int(rng.integers(len(x)))
        else:
            pick = int(rng.choice(len(x), p=distance / total))
        centres.append(x[pick])
        np.maximum(nearest, x @ x[pick], out=nearest)
    return np.stack(centres)


def _lloyd(x: F32, k: int, rng: np.random.Generator) -> tuple[npt.NDArray[np.int64], float]:
    """One k-means run from a k-means++ start: labels and the summed cosine to centres."""
    n = len(x)
    centres = _plus_plus(x, k, rng)
    labels = np.full(n, -1, dtype=np.int64)
    for _ in range(_MAX_ITER):
        similarity = x @ centres.T
        new = np.argmax(similarity, axis=1)
        moved = int(np.count_nonzero(new != labels))
        labels = new
        if moved <= n // 1000:  # none moved (or, past 1,000 rows, under 0.1 %)
            break
        order = np.argsort(labels, kind="stable")
        present, starts = np.unique(labels[order], return_index=True)
        centres[present] = _unit(np.add.reduceat(x[order], starts, axis=0))
        for c in sorted(set(range(k)) - set(present.tolist())):
            # an empty cluster restarts at the row least like its own centre
            worst = int(np.argmin(similarity[np.arange(n), labels]))
            centres[c] = x[worst]
    score = float((x @ centres.T)[np.arange(n), labels].sum())
    return labels, score


def kmeans(vectors: npt.ArrayLike, k: int, seed: int = 0) -> list[int]:
    """A cluster index (0 .. k'-1, k' ≤ k) per row, numbered by first appearance: the
    best (largest summed cosine to the centres) of ``_RESTARTS`` seeded runs."""
    x = _unit(np.asarray(vectors, dtype=np.float32))
    if x.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array, got {x.ndim} dimensions")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    n = len(x)
    if n == 0:
        return []
    k = min(k, n)
    rng = np.random.default_rng(seed)
    best: tuple[npt.NDArray[np.int64], float] | None = None
    for _ in range(_RESTARTS if n * k <= _SMALL else _RESTARTS_LARGE):
        found = _lloyd(x, k, rng)
        if best is None or found[1] > best[1] + 1e-12:
            best = found
    assert best is not None
    renumber: dict[int, int] = {}
    for label in best[0].tolist():
        renumber.setdefault(int(label), len(renumber))
    return [renumber[int(label)] for label in best[0].tolist()]


def top_terms(texts: Sequence[str], labels: Sequence[int], count: int = 3) -> list[list[str]]:
    """Per cluster (0 .. max label), the ``count`` words weighing most (summed TF-IDF)."""
    docs = [_terms(t) for t in texts]
    vocab, idf = _vocabulary(docs)
    clusters = max(labels, default=-1) + 1
    weight: list[dict[str, float]] = [{} for _ in range(clusters)]
    for doc, label in zip(docs, labels, strict=True):
        mine = weight[label]
        for term, tf in Counter(doc).items():
            col = vocab.get(term)
            if col is not None:
                mine[term] = mine.get(term, 0.0) + (1.0 + math.log(tf)) * float(idf[col])
    return [
        [t for t, _ in sorted(w.items(), key=lambda item: (-item[1], item[0]))[:count]]
        for w in weight
    ]
