"""synthdsl.analysis.diversity: known values of each metric, and collapse flags that separate a
diverse dataset from a collapsed one.

The datasets come from ``make_texts``: a seeded toy language (topics with their own
pseudo-words, shared words, sentence templates, Zipfian choices, heavy-tailed lengths).
``generations=g`` simulates g rounds of training on one's own output: each round keeps
only the most likely topics, words and templates and sharpens their distribution,
narrows the spread of lengths, and adds near-repeats of earlier texts.
``tests/cli/test_stats_cmd.py`` imports it too (as ``analysis.test_diversity``).
"""

from __future__ import annotations

import math
import random
from itertools import combinations, pairwise

import numpy as np
import pytest

from synthdsl.analysis.diversity import (
    DiversityReport,
    TextProfile,
    Thresholds,
    bleu,
    collapse_flags,
    compare,
    compare_profiles,
    compression_ratio,
    distinct_n,
    drift_judged,
    js_divergence,
    length_stats,
    ngram_entropy,
    self_bleu,
    summarize,
    token_entropy,
    vocabulary_size,
)
from synthdsl.analysis.diversity import profile as diversity_profile
from synthdsl.analysis.diversity.counts import Reservoir, rarefied_types
from synthdsl.textproc.tokens import tokenize

# --------------------------------------------------------------------------- generator

FUNCTION_WORDS = (
    "the a an of to in on for with by from about as at into over under and or but if "
    "when while because so than then that this these those it its is are was were be "
    "been can could should would will may might must how why what which who"
).split()


def _pseudo_words(rng: random.Random, count: int) -> list[str]:
    onsets = "b c d f g h j k l m n p r s t v w z br cl st tr sh ch gr pl".split()
    vowels = "a e i o u ai ou ea".split()
    codas = ["", "", "n", "r", "s", "t", "l", "m", "x"]
    seen = set(FUNCTION_WORDS)
    out: list[str] = []
    while len(out) < count:
        syllables = rng.randint(2, 4)
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables))
        word += rng.choice(codas)
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


def _zipf(k: int, s: float) -> list[float]:
    weights = [1.0 / r**s for r in range(1, k + 1)]
    total = sum(weights)
    return [w / total for w in weights]


def _narrow(p: list[float], keep: float, power: float) -> list[float]:
    """One generation: keep the most likely ``keep`` share of outcomes, sharpen them."""
    alive = [i for i, x in enumerate(p) if x > 0]
    kept = sorted(alive, key=lambda i: -p[i])[: max(1, int(len(alive) * keep))]
    q = [0.0] * len(p)
    for i in kept:
        q[i] = p[i] ** power
    total = sum(q)
    return [x / total for x in q]


class World:
    """The toy language: 40 topics of 60 words, 600 shared words, 60 templates."""

    def __init__(self, seed: int = 1234) -> None:
        rng = random.Random(seed)
        words = _pseudo_words(rng, 40 * 60 + 600)
        self.topics = [words[i * 60 : (i + 1) * 60] for i in range(40)]
        self.shared = words[40 * 60 :]
        self.templates = [
            ["*" if rng.random() < 0.55 else rng.choice(FUNCTION_WORDS) for _ in range(n)]
            for n in (rng.randint(5, 14) for _ in range(60))
        ]


WORLD = World()


def make_texts(n: int, seed: int, generations: int = 0) -> list[str]:
    """``n`` texts of the toy language; ``generations`` rounds of collapse applied."""
    rng = random.Random(seed)
    topic_p = _zipf(len(WORLD.topics), 1.0)
    word_p = _zipf(60, 1.1)
    shared_p = _zipf(len(WORLD.shared), 1.0)
    template_p = _zipf(len(WORLD.templates), 0.7)
    sentences_sd, repeat_p = 0.6, 0.0
    for _ in range(generations):
        topic_p = _narrow(topic_p, 0.7, 1.3)
        word_p = _narrow(word_p, 0.7, 1.3)
        shared_p = _narrow(shared_p, 0.6, 1.3)
        template_p = _narrow(template_p, 0.6, 1.3)
        sentences_sd *= 0.6
        repeat_p = min(0.6, repeat_p + 0.12)
    out: list[str] = []
    for _ in range(n):
        if out and rng.random() < repeat_p:  # a near-repeat: an earlier text, 1-2 words swapped
            tokens = rng.choice(out).split()
            for _ in range(rng.randint(1, 2)):
                tokens[rng.randrange(len(tokens))] = rng.choices(WORLD.shared, shared_p)[0]
            out.append(" ".join(tokens))
            continue
        topic = WORLD.topics[rng.choices(range(len(WORLD.topics)), topic_p)[0]]
        sentences = []
        for _ in range(max(1, round(rng.lognormvariate(1.0, sentences_sd)))):
            template = rng.choices(WORLD.templates, template_p)[0]
            words = [
                slot
                if slot != "*"
                else rng.choices(topic, word_p)[0]
                if rng.random() < 0.7
                else rng.choices(WORLD.shared, shared_p)[0]
                for slot in template
            ]
            sentences.append(" ".join(words).capitalize() + ".")
        out.append(" ".join(sentences))
    return out


DIVERSE = make_texts(400, seed=1)
COLLAPSED = make_texts(400, seed=3, generations=3)
REFERENCE = make_texts(400, seed=2)


# --------------------------------------------------------------------------- known values


def test_tokens_fast_path_matches_tokenize() -> None:
    samples = [
        "Hello, World! snake_case x2 3.14 don't",
        "  MiXeD\tcase\nlines  ",
        "a_b__c 42nd",
        "",
        "Café naïve 你好 Привет",  # not ASCII: the general path
        *DIVERSE[:20],
    ]
    for text in samples:
        assert diversity_profile._tokens(text) == tokenize(text)


def test_distinct_n_hand_computed() -> None:
    texts = ["a b a b", "a c"]
    assert distinct_n(texts, 1) == pytest.approx(3 / 6)  # a b c out of 6 tokens
    # (a b) (b a) (a b) | (a c): n-grams never cross texts, so no (b a) from "b" + "a"
    assert distinct_n(texts, 2) == pytest.approx(3 / 4)
    assert distinct_n(texts, 3) == pytest.approx(2 / 2)
    assert distinct_n(texts, 4) == pytest.approx(1 / 1)
    assert distinct_n(texts, 5) == 0.0
    assert distinct_n([], 2) == 0.0
    with pytest.raises(ValueError):
        distinct_n(texts, 0)


def test_ngram_entropy_of_uniform_distributions() -> None:
    assert ngram_entropy(["a b c d e f g h"], 1) == pytest.approx(3.0)
    assert ngram_entropy(["w x y", "z"], 1) == pytest.approx(2.0)
    # 4 distinct bigrams, each twice: log2(4)
    assert ngram_entropy(["p q r s t", "p q r s t"], 2) == pytest.approx(2.0)
    assert ngram_entropy(["same same same"], 1) == 0.0
    assert ngram_entropy([], 3) == 0.0
    # skewed: p = (1/2, 1/4, 1/4) gives 1.5 bits
    assert ngram_entropy(["a a b c"], 1) == pytest.approx(1.5)


def test_token_entropy() -> None:
    assert token_entropy("one two three four") == pytest.approx(2.0)
    assert token_entropy("the the the") == 0.0
    assert token_entropy("") == 0.0
    assert token_entropy("Yes, yes! NO no.") == pytest.approx(1.0)


def test_js_divergence_known_values() -> None:
    p = {"a": 3, "b": 1}
    assert js_divergence(p, {"a": 6, "b": 2}) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence({"a": 1}, {"b": 5}) == pytest.approx(1.0)
    # P = (1, 0), Q = (½, ½): M = (¾, ¼); ½·log2(4/3) + ½·(½·log2(2/3) + ½·log2(2))
    expected = 0.5 * math.log2(4 / 3) + 0.5 * (0.5 * math.log2(2 / 3) + 0.5)
    assert js_divergence({"x": 1}, {"x": 1, "y": 1}) == pytest.approx(expected)
    assert js_divergence({"x": 1, "y": 1}, {"x": 1}) == pytest.approx(expected)
    assert js_divergence({}, {}) == 0.0
    assert js_divergence({}, {"a": 1}) == 1.0
    with pytest.raises(ValueError):
        js_divergence({"a": -1}, {"a": 1})


def test_bleu_known_values() -> None:
    words = "the cat sat on the mat".split()
    assert bleu(words, [words]) == pytest.approx(1.0)
    assert bleu(words, [["a", "dog"], words]) == pytest.approx(1.0)
    # p1 = 3/4; smoothed p2 = (2+1)/(3+1), p3 = (1+1)/(2+1), p4 = (0+1)/(1+1); BP = 1
    expected = (3 / 4 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25
    assert bleu(list("abcd"), [list("abce")]) == pytest.approx(expected)
    # two tokens, both matching: orders 1-2 only, brevity penalty exp(1 - 4/2)
    assert bleu(["a", "b"], [list("abcd")]) == pytest.approx(math.exp(-1))
    # clipping: "the" counts at most twice, its largest count in any one reference
    assert bleu(["the"] * 4, [["the", "the", "x", "y"]], max_n=1) == pytest.approx(0.5)
    assert bleu([], [words]) == 0.0
    assert bleu(words, []) == 0.0
    assert bleu(["zzz"], [words]) == 0.0


def test_self_bleu_matches_the_pairwise_definition() -> None:
    texts = make_texts(30, seed=9)
    tokens = [tokenize(t) for t in texts]
    naive = [bleu(tokens[i], tokens[:i] + tokens[i + 1 :]) for i in range(len(tokens))]
    # the sample holds every text when it is not smaller than the dataset
    assert self_bleu(texts, sample=50) == pytest.approx(sum(naive) / len(naive))


def test_self_bleu_extremes_and_sampling() -> None:
    assert self_bleu(["the same text here"] * 10) == pytest.approx(1.0)
    assert self_bleu(["alpha beta", "gamma delta", "epsilon zeta"]) == 0.0
    assert self_bleu(["only one"]) is None
    assert self_bleu(["", "", "x y"]) is None  # empty texts are not sampled
    a = self_bleu(DIVERSE, sample=50, seed=1)
    assert a == self_bleu(DIVERSE, sample=50, seed=1)  # deterministic
    assert a != self_bleu(DIVERSE, sample=50, seed=2)


def test_compression_ratio() -> None:
    assert compression_ratio([]) == 0.0
    repetitive = compression_ratio(["the same sentence, again and again"] * 200)
    assert repetitive > 20
    assert compression_ratio(DIVERSE) < compression_ratio(COLLAPSED) < repetitive


def test_length_stats_and_vocabulary() -> None:
    stats = length_stats(["a", "a b", "a b c", "a b c d"])
    assert (stats.count, stats.min, stats.max) == (4, 1, 4)
    assert stats.mean == pytest.approx(2.5)
    assert stats.std == pytest.approx(math.sqrt(1.25))
    assert stats.p50 == pytest.approx(2.5)
    assert stats.p10 == pytest.approx(1.3)
    assert stats.p90 == pytest.approx(3.7)
    assert length_stats([]).count == 0
    assert vocabulary_size(["Hello hello world", "WORLD again"]) == 3


def test_rarefaction_matches_enumeration() -> None:
    counts = np.array([2, 1, 1], dtype=np.int64)  # tokens a a b c
    tokens = ["a", "a", "b", "c"]
    pairs = list(combinations(range(4), 2))
    brute = sum(len({tokens[i], tokens[j]}) for i, j in pairs) / len(pairs)
    assert rarefied_types(counts, 2) == pytest.approx(brute)  # 11/6
    assert rarefied_types(counts, 1) == pytest.approx(1.0)
    assert rarefied_types(counts, 4) == 3.0
    assert rarefied_types(counts, 10) == 3.0


def test_reservoir_is_uniform() -> None:
    hits = [0] * 20
    for seed in range(3000):
        reservoir = Reservoir(5, seed)
        for i in range(20):
            reservoir.offer([i])
        assert len(reservoir.items) == 5
        for item in reservoir.items:
            hits[int(item[0])] += 1
    # each position is kept with probability 5/20: 750 of 3000 expected, sd ≈ 24
    assert all(650 < h < 850 for h in hits), hits


def test_chunked_counting_matches_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = TextProfile().update(DIVERSE[:150])
    monkeypatch.setattr(diversity_profile, "_CHUNK_TOKENS", 37)
    chunked = TextProfile().update(DIVERSE[:150])
    for n in (1, 2, 3):
        a_keys, a_counts = whole.ngram_counts(n)
        b_keys, b_counts = chunked.ngram_counts(n)
        assert np.array_equal(a_keys, b_keys) and np.array_equal(a_counts, b_counts)
    assert np.allclose(whole.record_entropies(), chunked.record_entropies())
    assert whole.report() == chunked.report()


def test_record_entropies_match_token_entropy() -> None:
    texts = [*DIVERSE[:50], "", "x x x", "a b"]
    profile = TextProfile().update(texts)
    assert np.allclose(profile.record_entropies(), [token_entropy(t) for t in texts])


def test_summarize_agrees_with_the_single_metrics() -> None:
    report = summarize(DIVERSE, sample=100)
    assert report.records == 400
    assert report.distinct_2 == pytest.approx(distinct_n(DIVERSE, 2))
    assert report.entropy_3 == pytest.approx(ngram_entropy(DIVERSE, 3))
    assert report.compression_ratio == pytest.approx(compression_ratio(DIVERSE))
    assert report.self_bleu == pytest.approx(self_bleu(DIVERSE, sample=100))
    assert report.length == length_stats(DIVERSE)
    assert report.vocabulary_size == vocabulary_size(DIVERSE)
    assert report.tokens == sum(len(tokenize(t)) for t in DIVERSE)
    # fewer than 10,000 bigrams: the normalised distinct-2 is the plain one
    small = summarize(DIVERSE[:40])
    assert small.distinct_2_at_10k == pytest.approx(small.distinct_2)
    assert '"distinct_2_at_10k"' in report.to_json()


def test_empty_dataset() -> None:
    report = summarize([])
    assert (report.records, report.tokens, report.self_bleu) == (0, 0, None)
    assert collapse_flags(report, None) == []


def test_compare_identical_sets() -> None:
    drift = compare(REFERENCE, REFERENCE)
    assert drift.js_unigram == pytest.approx(0.0, abs=1e-12)
    assert drift.js_bigram == pytest.approx(0.0, abs=1e-12)
    assert drift.length_variance_ratio == pytest.approx(1.0)
    assert drift.entropy_variance_ratio == pytest.approx(1.0)
    assert drift.vocabulary_ratio == pytest.approx(1.0)
    assert drift.mode_coverage == 1.0
    assert drift.modes and all(m.covered for m in drift.modes)


def test_compare_disjoint_vocabularies() -> None:
    drift = compare(["alpha beta gamma"] * 300, ["delta epsilon zeta"] * 300)
    assert drift.js_unigram == pytest.approx(1.0)
    assert drift.js_bigram == pytest.approx(1.0)
    assert drift.length_variance_ratio is None  # the reference has no length variance


def test_vocabulary_ratio_ignores_size() -> None:
    # the same distribution at a quarter of the size: raw vocabularies differ a lot,
    # the ratio at equal size does not
    small, large = make_texts(100, seed=21), make_texts(400, seed=22)
    assert vocabulary_size(small) / vocabulary_size(large) < 0.6
    ratio = compare(small, large).vocabulary_ratio
    assert ratio is not None and 0.85 < ratio < 1.15


# --------------------------------------------------------------------------- collapse


@pytest.fixture(scope="module")
def reports() -> dict[str, DiversityReport]:
    return {"diverse": summarize(DIVERSE), "collapsed": summarize(COLLAPSED)}


def test_collapsed_set_is_less_diverse_on_every_metric(reports: dict[str, DiversityReport]) -> None:
    div, col = reports["diverse"], reports["collapsed"]
    assert col.distinct_1 < div.distinct_1 / 4
    assert col.distinct_2 < div.distinct_2 / 3
    assert col.distinct_3 < div.distinct_3 / 2
    assert col.entropy_1 < div.entropy_1 - 2
    assert col.vocabulary_size < div.vocabulary_size / 5
    assert col.compression_ratio > 2 * div.compression_ratio
    assert div.self_bleu is not None and col.self_bleu is not None
    assert col.self_bleu > 2 * div.self_bleu
    assert col.length.std < div.length.std / 2
    assert col.record_entropy_std < div.record_entropy_std


def test_metrics_move_monotonically_over_generations() -> None:
    profiles = [TextProfile().update(make_texts(300, seed=40 + g, generations=g)) for g in range(4)]
    reference = TextProfile().update(make_texts(300, seed=50))
    reps = [p.report() for p in profiles]
    drifts = [compare_profiles(p, reference) for p in profiles]
    for a, b in pairwise(reps):
        assert b.distinct_2 < a.distinct_2
        assert b.vocabulary_size < a.vocabulary_size
        assert b.self_bleu is not None and a.self_bleu is not None and b.self_bleu > a.self_bleu
    for c, d in pairwise(drifts):
        assert d.js_unigram > c.js_unigram
        assert d.vocabulary_ratio is not None and c.vocabulary_ratio is not None
        assert d.vocabulary_ratio < c.vocabulary_ratio


def test_collapsed_set_is_flagged_with_reasons() -> None:
    drift = compare(COLLAPSED, REFERENCE)
    flags = collapse_flags(summarize(COLLAPSED), drift)
    by_metric = {f.metric: f for f in flags}
    assert set(by_metric) == {
        "distinct_2_at_10k",
        "self_bleu",
        "compression_ratio",
        "js_unigram",
        "length_variance_ratio",
        "entropy_variance_ratio",
        "vocabulary_ratio",
        "mode_coverage",
    }
    t = Thresholds()
    assert by_metric["length_variance_ratio"].value < t.min_length_variance_ratio / 2
    assert by_metric["vocabulary_ratio"].value < t.min_vocabulary_ratio / 2
    assert by_metric["mode_coverage"].value <= 0.6
    assert by_metric["self_bleu"].value > t.max_self_bleu + 0.1
    assert by_metric["distinct_2_at_10k"].value < t.min_distinct_2 / 2
    assert by_metric["js_unigram"].value > t.max_js_unigram
    message = by_metric["length_variance_ratio"].message
    assert message.startswith("length variance ratio 0.") and "< 0.5" in message
    assert "reference modes lost: '" in by_metric["mode_coverage"].message
    assert by_metric["self_bleu"].message.startswith("self-BLEU 0.")
    # lost modes: topics (and templates) the narrowing dropped, gone from the set
    lost = drift.lost_modes
    assert len(lost) >= 4
    assert all(m.synthetic_share < 0.25 * m.reference_share for m in lost)
    topic_words = {w for topic in WORLD.topics for w in topic}
    assert any(m.term in topic_words for m in lost)
    kept = [m for m in drift.modes if m.covered]
    assert kept and all(m.term in topic_words for m in kept)  # the head topics survive


def test_diverse_set_is_not_flagged_with_margin() -> None:
    report, drift = summarize(DIVERSE), compare(DIVERSE, REFERENCE)
    assert collapse_flags(report, drift) == []
    t = Thresholds()
    assert report.distinct_2_at_10k > 2 * t.min_distinct_2
    assert report.self_bleu is not None and report.self_bleu < t.max_self_bleu / 2
    assert report.compression_ratio < t.max_compression_ratio - 2
    assert drift.js_unigram < t.max_js_unigram / 2
    assert drift.vocabulary_ratio is not None and drift.vocabulary_ratio > 0.9
    assert drift.length_variance_ratio is not None
    assert drift.length_variance_ratio > t.min_length_variance_ratio + 0.2
    assert drift.mode_coverage is not None and drift.mode_coverage >= 0.8


def test_custom_thresholds_and_small_sets() -> None:
    report, drift = summarize(DIVERSE), compare(DIVERSE, REFERENCE)
    strict = Thresholds(max_js_bigram=0.1, min_distinct_2=0.9)
    assert {f.metric for f in collapse_flags(report, drift, strict)} == {
        "js_bigram",
        "distinct_2_at_10k",
    }
    # below min_records on a side, drift is reported but not flagged
    small = compare(COLLAPSED[:100], REFERENCE)
    assert not drift_judged(small)
    flagged = {f.metric for f in collapse_flags(summarize(COLLAPSED[:100]), small)}
    assert flagged == {"distinct_2_at_10k", "self_bleu", "compression_ratio"}
    assert drift_judged(small, Thresholds(min_records=50))
