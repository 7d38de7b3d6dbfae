"""textproc/clusters.py: TF-IDF vectors, seeded spherical k-means, cluster labels."""

from __future__ import annotations

import numpy as np
import pytest

from synthdsl.textproc.clusters import auto_k, kmeans, lexical_vectors, top_terms


def test_kmeans_finds_separated_directions_and_numbers_clusters_by_first_row() -> None:
    rng = np.random.default_rng(3)
    axes = np.eye(3)
    truth = [int(i) for i in rng.integers(0, 3, size=60)]
    rows = np.stack([axes[t] + rng.normal(0, 0.05, 3) for t in truth])
    labels = kmeans(rows, 3, seed=1)
    # the same partition as the truth, renumbered by first appearance
    first: dict[int, int] = {}
    expected = [first.setdefault(t, len(first)) for t in truth]
    assert labels == expected
    assert kmeans(rows, 3, seed=1) == labels  # deterministic
    assert kmeans(np.eye(2), 5) == [0, 1]  # k capped at the number of rows
    assert kmeans(np.zeros((0, 3)), 2) == []
    with pytest.raises(ValueError):
        kmeans(rows, 0)


def test_tfidf_ignores_words_no_two_texts_share_and_labels_clusters() -> None:
    texts = [
        "sql query joins tables",
        "sql query counts rows",
        "fraction simplify numerator",
        "fraction add numerator denominator",
    ]
    vectors = lexical_vectors(texts)
    # terms in at least two texts only: sql, query, fraction, numerator
    assert vectors.shape == (4, 4)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    labels = kmeans(vectors, 2)
    assert labels == [0, 0, 1, 1]
    assert top_terms(texts, labels, 2) == [["query", "sql"], ["fraction", "numerator"]]
    assert [auto_k(n) for n in (1, 2, 8, 50, 200)] == [1, 1, 2, 5, 10]
