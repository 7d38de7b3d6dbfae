"""ROUGE-L values and the exactness of RougeIndex against brute force."""

from __future__ import annotations

import random

import pytest

from synthdsl.textproc.similarity import RougeIndex, lcs_length, rouge_l, rouge_l_text
from synthdsl.textproc.tokens import tokenize

# ---------------------------------------------------------------- rouge_l


def test_rouge_l_known_values() -> None:
    a = "the cat sat on the mat".split()
    b = "the cat on the mat".split()
    assert lcs_length(a, b) == 5
    assert rouge_l(a, b) == pytest.approx(2 * 5 / (6 + 5))
    assert rouge_l(b, a) == rouge_l(a, b)
    # LCS of "a b c d" and "b d a c" is 2 ("b d", "a c", "b c"...): F = 4/8.
    assert rouge_l("a b c d".split(), "b d a c".split()) == pytest.approx(0.5)
    # Repeated tokens: LCS("a a b", "a b b") = 2 ("a b"): F = 4/6.
    assert rouge_l(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx(4 / 6)
    assert rouge_l(["x"], ["x"]) == 1.0
    assert rouge_l(["x"], ["y"]) == 0.0


def test_rouge_l_empty() -> None:
    assert rouge_l([], []) == 0.0
    assert rouge_l([], ["a"]) == 0.0
    assert rouge_l(["a"], []) == 0.0


def test_rouge_l_text_uses_tokenize() -> None:
    assert rouge_l_text("The cat, sat!", "the CAT sat") == 1.0


def test_rouge_l_non_ascii() -> None:
    a = "Напишите короткое стихотворение о зимнем лесе и снеге."
    b = "Напишите короткое стихотворение о зимнем лесе."
    assert rouge_l_text(a, b) > 0.8
    zh_a = "写一首关于秋天的短诗。"
    zh_b = "写一首关于春天的短诗。"
    assert rouge_l_text(zh_a, zh_b) > 0.8
    assert rouge_l_text(a, zh_a) == 0.0


def _lcs_dp(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def test_lcs_matches_dynamic_programming() -> None:
    rng = random.Random(7)
    vocab = ["a", "b", "c", "d", "e"]
    for _ in range(300):
        a = [rng.choice(vocab) for _ in range(rng.randint(0, 12))]
        b = [rng.choice(vocab) for _ in range(rng.randint(0, 12))]
        assert lcs_length(a, b) == _lcs_dp(a, b)


# ---------------------------------------------------------------- RougeIndex

VOCAB = (
    "write explain list describe a the an of to and in for with poem story essay "
    "code function python data list sort numbers about cats dogs ocean history "
    "short long simple three five ideas tips steps"
).split()


def _edit(rng: random.Random, words: list[str]) -> list[str]:
    out = list(words)
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        if op < 0.3 and len(out) > 1:
            del out[rng.randrange(len(out))]
        elif op < 0.6:
            out.insert(rng.randint(0, len(out)), rng.choice(VOCAB))
        elif op < 0.85 and out:
            out[rng.randrange(len(out))] = rng.choice(VOCAB)
        elif len(out) > 1:
            i = rng.randrange(len(out) - 1)
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


def _random_texts(rng: random.Random, n: int) -> list[str]:
    texts: list[list[str]] = []
    for _ in range(n):
        if texts and rng.random() < 0.6:
            texts.append(_edit(rng, rng.choice(texts)))
        else:
            texts.append([rng.choice(VOCAB) for _ in range(rng.randint(1, 14))])
    return [" ".join(t) for t in texts]


def _brute_best(pool: list[tuple[str, list[str]]], text: str) -> tuple[str, float] | None:
    """Score every pool item; the highest score wins, ties going to the first added."""
    q = tokenize(text)
    best: tuple[str, float] | None = None
    for item_id, toks in pool:
        score = rouge_l(q, toks)
        if best is None or score > best[1]:
            best = (item_id, score)
    return best


def _passes(
    best: tuple[str, float] | None, threshold: float, inclusive: bool = True
) -> tuple[str, float] | None:
    if best is None:
        return None
    ok = best[1] >= threshold if inclusive else best[1] > threshold
    return best if ok else None


def _brute(
    pool: list[tuple[str, list[str]]], text: str, threshold: float, inclusive: bool = True
) -> tuple[str, float] | None:
    return _passes(_brute_best(pool, text), threshold, inclusive)


def test_index_equals_brute_force_randomized() -> None:
    rng = random.Random(20240611)
    texts = _random_texts(rng, 600)
    pool_texts, query_texts = texts[:400], texts[400:]
    # Queries also include fresh edits of pool items (likely near duplicates) and
    # texts with words the pool has never seen.
    query_texts = query_texts[:120] + [
        " ".join(_edit(rng, rng.choice(pool_texts).split())) for _ in range(60)
    ]
    query_texts += [f"{rng.choice(pool_texts)} zebra quokka" for _ in range(20)]
    assert len(query_texts) == 200

    index = RougeIndex(min_threshold=0.5)
    pool: list[tuple[str, list[str]]] = []
    for i, text in enumerate(pool_texts):
        index.add(f"id{i}", text)
        pool.append((f"id{i}", tokenize(text)))
    for text in query_texts:
        expected = _brute_best(pool, text)
        assert index.best(text) == expected
        for theta in (0.5, 0.7, 0.9):
            for inclusive in (True, False):
                got = index.nearest(text, theta, inclusive=inclusive)
                assert got == _passes(expected, theta, inclusive), (text, theta, inclusive)
    assert index.stats.lcs < 3 * len(query_texts) * len(pool)


@pytest.mark.parametrize(("min_threshold", "shared"), [(0.3, 4), (0.6, 1), (0.6, 4), (0.75, 7)])
def test_index_exact_while_growing(min_threshold: float, shared: int) -> None:
    """Queries interleaved with adds (as in a self-instruct loop), across rebuilds, for
    several numbers of shared prefix elements (the k of the k-prefix filter)."""
    rng = random.Random(5)
    texts = _random_texts(rng, 500)
    index = RougeIndex(min_threshold=min_threshold, shared=shared)
    pool: list[tuple[str, list[str]]] = []
    for i, text in enumerate(texts):
        expected = _brute_best(pool, text)
        for theta in (0.6, 0.7, 0.85, 1.0):
            assert index.nearest(text, theta) == _passes(expected, theta), (i, theta)
        if index.nearest(text, 0.7) is None:
            index.add(f"t{i}", text)
            pool.append((f"t{i}", tokenize(text)))
    assert index.stats.rebuilds >= 2
    # Thresholds under min_threshold fall back to a full scan, still exact.
    for text in texts[:50]:
        for theta in (0.0, 0.3):
            assert index.nearest(text, theta) == _brute(pool, text, theta)


def test_encoding_past_the_last_code_point() -> None:
    """Token ids past U+10FFFF fall back to int tuples, which mix with str encodings."""
    from rapidfuzz.distance import LCSseq

    from synthdsl.textproc.similarity import _encode

    big = _encode([5, 0x110000, 7])
    assert isinstance(big, tuple)
    assert LCSseq.similarity(big, _encode([5, 7])) == 2


def test_index_ties_go_to_first_added() -> None:
    index = RougeIndex()
    index.add("first", "write a poem about cats")
    index.add("second", "write a poem about cats")
    index.add("third", "write a poem about dogs")
    assert index.nearest("write a poem about cats", 0.9) == ("first", 1.0)
    assert index.best("write a poem about cats") == ("first", 1.0)


def test_index_threshold_boundaries() -> None:
    index = RougeIndex()
    index.add("a", "the cat sat on the mat")
    score = 2 * 5 / 11
    assert index.nearest("the cat on the mat", score) == ("a", score)
    assert index.nearest("the cat on the mat", score, inclusive=False) is None
    assert index.nearest("the cat on the mat", 0.95) is None
    assert index.nearest("completely different words", 0.5) is None
    with pytest.raises(ValueError):
        index.nearest("x", 1.5)


def test_index_edge_cases() -> None:
    index = RougeIndex()
    assert index.best("anything") is None
    assert index.nearest("anything", 0.7) is None
    index.add("empty", "")
    index.add("full", "hello world")
    assert len(index) == 2 and "empty" in index
    assert index.nearest("", 0.5) is None
    assert index.best("") == ("empty", 0.0)
    assert index.best("unrelated") == ("empty", 0.0)
    assert index.best("hello there") == ("full", 0.5)
    with pytest.raises(ValueError):
        index.add("full", "again")
    with pytest.raises(ValueError):
        RougeIndex(min_threshold=0.0)


def test_index_non_ascii() -> None:
    index = RougeIndex()
    index.add("ru", "Напишите короткое стихотворение о зимнем лесе и снеге.")
    index.add("zh", "写一首关于秋天的短诗。")
    hit = index.nearest("Напишите короткое стихотворение о зимнем лесе.", 0.7)
    assert hit is not None and hit[0] == "ru"
    hit = index.nearest("写一首关于春天的短诗。", 0.7)
    assert hit is not None and hit[0] == "zh"
