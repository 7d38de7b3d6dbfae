"""The ``dedup`` kind: option checks, ``against`` references, and each method's runner."""

from __future__ import annotations

import pytest

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.dedup import DedupConfig

from .kit import (
    FILE,
    FakeEstimator,
    FakeRuntime,
    Resolver,
    configure,
    described,
    dropped,
    emitted,
    make_node,
    make_records,
    run_map,
    run_stream,
)

KIND = node_kind("dedup")


def config(options: str) -> DedupConfig:
    done = configure(
        f"""
        steps:
          - id: dd
            dedup: {options}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: DedupConfig = done.config
    return cfg


def test_configure_fields_methods_and_default_thresholds() -> None:
    cfg = config("{fields: [question, answer], method: minhash, num_perm: 64, shingle: 2}")
    assert (cfg.fields, cfg.method, cfg.threshold, cfg.num_perm, cfg.shingle) == (
        ["question", "answer"],
        "minhash",
        0.8,
        64,
        2,
    )
    assert KIND.read_fields(cfg) == [
        ("question", Span(FILE, 3, 22)),
        ("answer", Span(FILE, 3, 32)),
    ]
    assert config("{field: text}").threshold == 0.7  # unused by exact, but defined
    assert config("{field: text, method: embedding}").threshold == 0.9
    assert config("{field: text, method: rouge_l, threshold: 0.5}").threshold == 0.5


def test_option_errors_point_at_their_keys() -> None:
    done = configure(
        """
        steps:
          - id: dd
            dedup:
              field: a
              fields: [b]
              threshold: 0.5
              shingle: 4
          - id: none
            dedup: {method: exact}
        """
    )
    assert done.at("give either 'field' or 'fields', not both") == Span(FILE, 5, 7)
    assert done.at("'threshold' applies to near-duplicate methods") == Span(FILE, 6, 7)
    assert done.at("'shingle' applies to method: minhash only") == Span(FILE, 7, 7)
    empty = configure(done.ctx.doc.text, step=1)
    assert empty.at("dedup needs 'field' (or 'fields') to compare") == Span(FILE, 9, 12)


def test_against_links_references_and_keeps_the_main_input_apart() -> None:
    cfg = config("{field: text, against: [pool, missing]}")
    resolver = Resolver({"pool": "loop.pool"})
    refs = KIND.link(cfg, ["gen"], resolver)
    assert refs == ["loop.pool"]  # an unresolved name adds nothing (it was reported)
    assert cfg.main == ["gen"]
    assert [(r.source, r.node) for r in cfg.against] == [("pool", "loop.pool"), ("missing", "")]
    assert [name for name, _ in resolver.asked] == ["pool", "missing"]
    assert resolver.asked[0][1] == Span(FILE, 3, 36)
    fields = KIND.upstream_fields(cfg, {"gen": ["text", "n"], "loop.pool": ["text", "seed"]})
    assert fields == ["text", "n"]
    assert KIND.supports_when(cfg) is False
    assert KIND.map_runner(make_node("dedup", cfg), FakeRuntime()) is None
    assert described(KIND, cfg)["against"] == ["loop.pool", "missing"]


def test_estimate_and_describe() -> None:
    cfg = config("{field: text, method: minhash}")
    assert KIND.supports_when(cfg) is True
    est = KIND.estimate(make_node("dedup", cfg), 8, FakeEstimator())
    assert (est.records, est.exact) == (8, False)
    assert described(KIND, cfg) == {
        "fields": ["text"],
        "method": "minhash",
        "threshold": 0.8,
        "num_perm": 128,
        "shingle": 3,
    }
    assert described(KIND, config("{field: text}")) == {"fields": ["text"], "method": "exact"}


async def test_exact_duplicates_after_normalisation_keep_the_first() -> None:
    cfg = config("{fields: [q, a]}")
    recs = make_records(
        {"q": "Hello  World", "a": "x"},
        {"q": "hello world", "a": "X"},
        {"q": "hello world", "a": "y"},
        {"q": "x", "a": None},
    )
    outcomes = await run_map(KIND.map_runner(make_node("dedup", cfg), FakeRuntime()), recs)
    assert emitted(outcomes[0]) == [recs[0]]
    second = dropped(outcomes[1])
    assert (second.reason, second.detail) == ("duplicate (exact)", {"duplicate_of": recs[0].id})
    assert emitted(outcomes[2]) == [recs[2]]  # another answer: not a duplicate
    assert emitted(outcomes[3]) == [recs[3]]


async def test_rouge_l_drops_near_duplicates_with_their_score() -> None:
    cfg = config("{field: text, method: rouge_l, threshold: 0.8}")
    recs = make_records(
        {"text": "the cat sat on the mat"},
        {"text": "the cat sat on the mat today"},
        {"text": "a completely different sentence here"},
    )
    first, near, other = await run_map(
        KIND.map_runner(make_node("dedup", cfg), FakeRuntime()), recs
    )
    assert emitted(first) == [recs[0]]
    drop = dropped(near)
    assert drop.reason == "near duplicate (rouge_l >= 0.8)"
    assert drop.detail is not None and drop.detail["duplicate_of"] == recs[0].id
    # LCS 6 of 6 and 7 words: F = 2PR/(P+R) = 12/13.
    assert drop.detail["score"] == pytest.approx(12 / 13, abs=1e-4)
    assert emitted(other) == [recs[2]]


async def test_minhash_drops_a_near_copy_and_keeps_other_text() -> None:
    cfg = config("{field: text, method: minhash, threshold: 0.5}")
    words = "one two three four five six seven eight nine ten eleven twelve"
    recs = make_records(
        {"text": words},
        {"text": words.replace("twelve", "dozen")},
        {"text": "entirely unrelated words make up this other line of text"},
    )
    first, near, other = await run_map(
        KIND.map_runner(make_node("dedup", cfg), FakeRuntime()), recs
    )
    assert emitted(first) == [recs[0]]
    drop = dropped(near)
    assert drop.reason == "near duplicate (minhash jaccard >= 0.5)"
    assert drop.detail is not None and drop.detail["duplicate_of"] == recs[0].id
    # 9 of 11 distinct 3-word shingles shared: Jaccard 9/11, estimated from 128 hashes.
    assert drop.detail["score"] == pytest.approx(9 / 11, abs=0.15)
    assert emitted(other) == [recs[2]]


async def test_against_indexes_the_references_first_and_never_emits_them() -> None:
    cfg = config("{field: text, against: [pool]}")
    KIND.link(cfg, ["gen"], Resolver({"pool": "p"}))
    pool = make_records({"text": "Seen before"}, {"text": "seen before"}, node="p")
    new = make_records(
        {"text": "SEEN before"}, {"text": "brand new"}, {"text": "brand new"}, node="gen"
    )
    out = await run_stream(
        KIND.stream_runner(make_node("dedup", cfg), FakeRuntime()), {"p": pool, "gen": new}
    )
    assert out.emitted == [new[1]]
    assert [(r.id, reason, detail) for r, reason, detail in out.dropped] == [
        (new[0].id, "duplicate (exact)", {"duplicate_of": pool[0].id}),
        (new[2].id, "duplicate (exact)", {"duplicate_of": new[1].id}),
    ]
    # References count as in and passed: 2 + 3 in, 2 + 1 passed, 2 dropped.
    assert (out.counted_in, out.passed) == (5, 3)
    assert out.balanced


async def test_rouge_against_in_blocks_gives_the_one_at_a_time_outcomes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large main input is decided in blocks on two processes: the same emitted
    records, drops, reasons, named matches and order as one record at a time."""
    import random

    from synthdsl.nodes import dedup

    rng = random.Random(11)
    words = "write a poem story about cats dogs the sea and sky in spring short long".split()
    texts: list[str] = []
    for _ in range(260):
        if texts and rng.random() < 0.3:
            base = rng.choice(texts)
            toks = base.split()
            toks[rng.randrange(len(toks))] = rng.choice(words)
            texts.append(" ".join(toks) if rng.random() < 0.7 else base.upper())
        else:
            texts.append(" ".join(rng.choice(words) for _ in range(rng.randint(4, 10))))
    cfg = config("{field: text, method: rouge_l, against: [pool]}")
    KIND.link(cfg, ["gen"], Resolver({"pool": "p"}))
    pool = make_records(*({"text": t} for t in texts[:40]), node="p")
    new = make_records(*({"text": t} for t in texts[40:]), node="gen")

    async def outcome() -> tuple[list[str], list[tuple[str, str, object]]]:
        out = await run_stream(
            KIND.stream_runner(make_node("dedup", cfg), FakeRuntime()), {"p": pool, "gen": new}
        )
        assert out.balanced
        return [r.id for r in out.emitted], [(r.id, why, d) for r, why, d in out.dropped]

    monkeypatch.setattr(dedup, "BLOCKS_FROM", 10**9)
    one_at_a_time = await outcome()
    monkeypatch.setattr(dedup, "BLOCKS_FROM", 50)
    monkeypatch.setattr(dedup, "BLOCK_SIZE", 16)  # 220 records: >= 2 blocks
    blocks = await outcome()
    assert blocks == one_at_a_time
    reasons = {why.split(" (")[0] for _, why, _ in one_at_a_time[1]}
    assert reasons == {"duplicate", "near duplicate"}  # both kinds of drop were exercised
