"""``SpanIndex``: the longest copied span, its tokenizer, two indexes together."""

from __future__ import annotations

from synthdsl.textproc.ngrams import SpanIndex
from synthdsl.textproc.tokens import tokenize

SOURCE = "Alpha beta, gamma delta epsilon; zeta eta theta."


def test_span_survives_case_and_punctuation_with_tokenize() -> None:
    index = SpanIndex(3, tokenize)
    index.add(SOURCE)
    assert index.longest_shared_span("So: GAMMA delta  epsilon zeta! done") == (
        "gamma delta epsilon zeta"
    )
    assert index.longest_shared_span("gamma delta and epsilon zeta") is None
    assert index.longest_shared_span("beta gamma") is None  # fewer than n words


def test_tokenizer_is_a_parameter() -> None:
    exact = SpanIndex(3, str.split)  # case and punctuation now count
    exact.add(SOURCE)
    assert exact.longest_shared_span("gamma delta epsilon; Zeta") == "gamma delta epsilon;"
    assert exact.longest_shared_span("Gamma delta epsilon;") is None


def test_first_of_equal_runs_and_union_with_also() -> None:
    own = SpanIndex(2, tokenize)
    own.add("a b c")
    other = SpanIndex(2, tokenize)
    other.add("c d e")
    text = "x a b y c d"
    assert own.longest_shared_span(text) == "a b"
    assert own.longest_shared_span(text, other) == "a b"  # "c d" is as long: first wins
    assert own.longest_shared_span("a b c d e", other) == "a b c d e"  # runs join across
    assert SpanIndex(2, tokenize).longest_shared_span("a b c") is None


def test_adding_after_a_lookup_is_seen() -> None:
    index = SpanIndex(2, tokenize)
    index.add("one two")
    assert index.longest_shared_span("two three") is None
    index.add("two three")
    assert index.longest_shared_span("one two three") == "one two three"


def test_the_bit_filter_never_rules_out_a_present_hash() -> None:
    import numpy as np  # numpy only for this test's arrays

    from synthdsl.textproc.ngrams import _BitFilter, _lookup, _lookup_filtered

    rng = np.random.default_rng(3)
    ref = np.unique(rng.integers(0, 2**64 - 1, 50_000, dtype=np.uint64))
    queries = np.concatenate([ref[::7], rng.integers(0, 2**64 - 1, 20_000, dtype=np.uint64)])
    bit_filter = _BitFilter(ref)
    assert bit_filter.maybe(ref).all()
    pos, found = _lookup_filtered(ref, bit_filter, queries)
    plain_pos, plain_found = _lookup(ref, queries)
    assert (found == plain_found).all() and found.sum() == len(ref[::7])
    assert (pos[found] == plain_pos[found]).all()
    ruled_out = (~bit_filter.maybe(queries[len(ref[::7]) :])).mean()
    assert ruled_out > 0.9  # the point of it: most absent hashes need no search
