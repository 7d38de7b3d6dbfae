"""Grouping texts without labels: TF-IDF or sentence-embedding vectors, spherical k-means.

Input: texts. Output:

- ``lexical_vectors(texts)`` → float64 array ``(len(texts), vocabulary)``: TF-IDF over
  the alphabetic word tokens of ``tokens.tokenize`` (sublinear term frequency
  ``1 + log tf``, smoothed ``idf = log((1 + N) / (1 + df)) + 1``), unit rows (a text
  with no alphabetic word is a zero row);
- ``kmeans(vectors, k, seed)`` → a cluster index per row: spherical k-means (cosine),
  ten seeded k-means++ starts, each iterated (Lloyd) until no row moves (at most 100),
  the run with the largest summed cosine to its centres kept; an empty cluster takes
  the row farthest from its centre. Clusters are renumbered by their first row, so
  the result depends only on the rows, ``k`` and ``seed``;
- ``auto_k(n)`` → ``max(1, round(sqrt(n / 2)))``, the usual rule of thumb, never more
  than ``n``;
- ``top_terms(texts, labels, cluster, count)`` → the words with the largest summed
  TF-IDF weight in a cluster (a label a person can read).

Embedding vectors come from ``textproc/embed.py``'s ``TextEncoder`` (unit rows), which
the caller loads. Errors: ``ValueError`` for ``k < 1`` or vectors that are not 2-D.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from synthdsl.textproc.tokens import tokenize

__all__ = ["auto_k", "kmeans", "lexical_vectors", "top_terms"]

F64 = npt.NDArray[np.float64]
_MAX_ITER = 100
_RESTARTS = 10  # k-means++ starts tried; the best run is kept


def _terms(text: str) -> list[str]:
    return [t for t in tokenize(text) if t.isalpha() and len(t) > 2]


def _vocabulary(docs: Sequence[list[str]]) -> tuple[dict[str, int], F64]:
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    vocab = {term: i for i, term in enumerate(sorted(df))}
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
            out[row, vocab[term]] = (1.0 + math.log(tf)) * idf[vocab[term]]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def auto_k(n: int) -> int:
    """The number of clusters used when none is given."""
    return max(1, min(n, round(math.sqrt(n / 2))))


def _unit(rows: F64) -> F64:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    out: F64 = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    return out


def _plus_plus(x: F64, k: int, rng: np.random.Generator) -> F64:
    centres = [x[int(rng.integers(len(x)))]]
    for _ in range(1, k):
        distance = 1.0 - np.max(x @ np.stack(centres).T, axis=1)
        distance = np.clip(distance, 0.0, None)
        total = float(distance.sum())
        pick = (
            int(rng.integers(len(x))) if total <= 0 else int(rng.choice(len(x), p=distance / total))
        )
        centres.append(x[pick])
    return np.stack(centres)


def _lloyd(x: F64, k: int, rng: np.random.Generator) -> tuple[npt.NDArray[np.int64], float]:
    """One k-means run from a k-means++ start: labels and the summed cosine to centres."""
    n = len(x)
    centres = _plus_plus(x, k, rng)
    labels = np.full(n, -1, dtype=np.int64)
    for _ in range(_MAX_ITER):
        similarity = x @ centres.T
        new = np.argmax(similarity, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for c in range(k):
            members = x[labels == c]
            if len(members):
                centres[c] = _unit(members.sum(axis=0, keepdims=True))[0]
            else:  # an empty cluster restarts at the row least like its own centre
                worst = int(np.argmin(similarity[np.arange(n), labels]))
                centres[c] = x[worst]
    score = float((x @ centres.T)[np.arange(n), labels].sum())
    return labels, score


def kmeans(vectors: npt.ArrayLike, k: int, seed: int = 0) -> list[int]:
    """A cluster index (0 .. k'-1, k' ≤ k) per row, numbered by first appearance: the
    best (largest summed cosine to the centres) of ``_RESTARTS`` seeded runs."""
    x = _unit(np.asarray(vectors, dtype=np.float64))
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
    for _ in range(_RESTARTS):
        found = _lloyd(x, k, rng)
        if best is None or found[1] > best[1] + 1e-12:
            best = found
    assert best is not None
    renumber: dict[int, int] = {}
    for label in best[0].tolist():
        renumber.setdefault(int(label), len(renumber))
    return [renumber[int(label)] for label in best[0].tolist()]


def top_terms(
    texts: Sequence[str], labels: Sequence[int], cluster: int, count: int = 3
) -> list[str]:
    """The ``count`` words weighing most (summed TF-IDF) in one cluster's texts."""
    docs = [_terms(t) for t in texts]
    vocab, idf = _vocabulary(docs)
    weight: dict[str, float] = {}
    for doc, label in zip(docs, labels, strict=True):
        if label != cluster:
            continue
        for term, tf in Counter(doc).items():
            add = (1.0 + math.log(tf)) * float(idf[vocab[term]])
            weight[term] = weight.get(term, 0.0) + add
    ranked = sorted(weight.items(), key=lambda item: (-item[1], item[0]))
    return [term for term, _ in ranked[:count]]
