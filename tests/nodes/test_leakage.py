"""The ``leakage`` kind: copied spans just over and under n, ``against`` sources, secrets."""

from __future__ import annotations

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.leakage import LeakageConfig

from .kit import (
    FILE,
    FakeRuntime,
    Resolver,
    configure,
    dropped,
    emitted,
    make_node,
    make_records,
    run_map,
    run_stream,
)

KIND = node_kind("leakage")

SOURCE = (
    "Our internal pricing model weights churn risk by region, tenure and the number "
    "of support tickets opened in the last ninety days before renewal."
)
WORDS = SOURCE.replace(",", "").replace(".", "").split()


def config(options: str) -> LeakageConfig:
    done = configure(
        f"""
        steps:
          - id: leak
            leakage: {options}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: LeakageConfig = done.config
    return cfg


def copying(k: int, start: int = 3) -> str:
    """An answer that copies exactly ``k`` consecutive source words."""
    return "In short: " + " ".join(WORDS[start : start + k]) + " — paraphrased otherwise."


def test_bad_configs_are_located() -> None:
    done = configure(
        """
        steps:
          - id: leak
            leakage: {fields: [answer], against_fields: [body]}
        """
    )
    assert done.at("leakage needs the proprietary text") == Span(FILE, 3, 14)
    assert done.at("'against_fields' goes with 'against'") == Span(FILE, 3, 33)


async def test_spans_just_over_and_under_n_with_provenance_fields() -> None:
    cfg = config("{fields: [answer], source_fields: [text], n: 12}")
    rt = FakeRuntime()
    records = make_records(
        {"text": SOURCE, "answer": copying(12)},
        {"text": SOURCE, "answer": copying(11)},
        {"text": SOURCE, "answer": copying(13).upper()},  # case and punctuation ignored
        {"text": "something else entirely", "answer": copying(20)},  # not its source
    )
    outcomes = await run_map(KIND.map_runner(make_node("leakage", cfg, "leak"), rt), records)
    drop = dropped(outcomes[0])
    span = " ".join(WORDS[3:15]).lower()
    assert drop.reason == f'leakage: answer copies 12 words: "{span}"'
    assert drop.detail == {"field": "answer", "span": span, "words": 12}
    assert emitted(outcomes[1]) == [records[1]]
    assert dropped(outcomes[2]).detail["words"] == 13  # type: ignore[index]
    assert emitted(outcomes[3]) == [records[3]]
    assert rt.notes["leak"]["leakage"] == {
        "checked": 4,
        "copies": 2,
        "secrets": 0,
        "rate": 0.5,
        "n": 12,
    }


async def test_flag_marks_copies_but_secrets_are_always_dropped() -> None:
    cfg = config("{fields: [answer], source_fields: [text], n: 8, action: flag}")
    assert KIND.output_fields(cfg, ["text", "answer"]) == ["text", "answer", "leak_span"]
    rt = FakeRuntime()
    key = "sk-" + "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF"
    records = make_records(
        {"text": SOURCE, "answer": copying(8)},
        {"text": SOURCE, "answer": "A fresh answer."},
        {"text": SOURCE, "answer": f"Use the key {key} to call it."},
    )
    outcomes = await run_map(KIND.map_runner(make_node("leakage", cfg, "leak"), rt), records)
    assert emitted(outcomes[0])[0].data["leak_span"] == " ".join(WORDS[3:11]).lower()
    assert emitted(outcomes[1])[0].data["leak_span"] is None
    secret = dropped(outcomes[2])
    assert secret.reason == "leakage: secret (api_key) in answer"
    assert key not in str(secret.detail)
    assert rt.notes["leak"]["leakage"]["secrets"] == 1


async def test_against_a_named_source_and_accounting() -> None:
    cfg = config("{fields: [answer], against: [docs], against_fields: [body]}")
    assert KIND.link(cfg, ["gen"], Resolver({"docs": "docs"})) == ["docs"]
    assert KIND.supports_when(cfg) is False
    assert KIND.map_runner(make_node("leakage", cfg), FakeRuntime()) is None
    docs = make_records({"body": "unrelated text"}, {"body": SOURCE}, node="docs")
    gen = make_records({"answer": copying(12, start=0)}, {"answer": copying(11)}, node="gen")
    rt = FakeRuntime()
    out = await run_stream(
        KIND.stream_runner(make_node("leakage", cfg, "leak"), rt), {"docs": docs, "gen": gen}
    )
    assert out.emitted == [gen[1]]
    assert [r.id for r, _, _ in out.dropped] == [gen[0].id]
    assert out.balanced and (out.counted_in, out.passed) == (4, 3)
    assert rt.notes["leak"]["leakage"]["rate"] == 0.5
