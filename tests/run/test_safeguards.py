"""Collapse safeguards in recipes: rank filters, entropy, surprisal, MinHash dedup,
stage bands and the real-data floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import manifest as _manifest
from helpers import rows as _rows
from helpers import run as _run

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer


def _write(project: Path, text: str) -> Path:
    path = project / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rank_filter_drops_the_lowest_share_exactly(project: Path) -> None:
    texts = [f"{'w ' * (i % 7 + 1)}{' '.join(f't{j}' for j in range(i % 5))}" for i in range(50)]
    records = ", ".join(json.dumps({"t": t, "i": i}) for i, t in enumerate(texts))
    recipe = _write(
        project,
        f"""
synthdsl: 1
sources:
  s: {{records: [{records}]}}
steps:
  - id: diverse
    filter: {{by: "entropy(t)", drop_lowest: 0.3}}
""",
    )
    assert _run(recipe) == 0
    rows = _rows(project)
    assert len(rows) == 35  # exactly floor(0.3 * 50) = 15 dropped
    kept = [r["i"] for r in rows]
    assert kept == sorted(kept)  # arrival order kept
    from synthdsl.lang.expr import parse_expression

    ent = parse_expression("entropy(t)")
    kept_scores = [ent.evaluate({"t": texts[i]}) for i in kept]
    dropped = [i for i in range(50) if i not in set(kept)]
    dropped_scores = [ent.evaluate({"t": texts[i]}) for i in dropped]
    assert max(dropped_scores) <= min(kept_scores)
    node = _manifest(project)["nodes"]["diverse"]
    assert node["rank"]["dropped_lowest"] == 15 and node["balanced"]
    rejects = (project / "out" / "rejects.jsonl").read_text().splitlines()
    assert len(rejects) == 15 and "lowest 30%" in rejects[0]


def test_rank_filter_needs_a_share(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = _write(
        project,
        "synthdsl: 1\nsources:\n  s: {records: [{t: a}]}\nsteps:\n"
        '  - id: f\n    filter: {by: "entropy(t)"}\n',
    )
    assert main(["validate", str(recipe)]) == 2
    assert "'by' ranks records: say how many to drop" in capsys.readouterr().err


def test_surprisal_from_logprobs(server: FakeOpenAIServer, project: Path) -> None:
    recipe = _write(
        project,
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{{q: "one"}}, {{q: "two"}}, {{q: "three"}}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen, logprobs: true}}
  - id: surprising
    filter: {{by: "response_surprisal", drop_highest: 0.34}}
""",
    )
    assert _run(recipe) == 0
    rows = _rows(project)
    assert len(rows) == 2
    assert all(
        isinstance(r["response_surprisal"], float) and r["response_surprisal"] > 0 for r in rows
    )


def test_minhash_dedup_drops_near_duplicates(project: Path) -> None:
    base = "the quick brown fox jumps over the lazy dog near the quiet river bank today"
    near = base.replace("today", "tonight")
    other = "completely different words about cooking pasta with garlic and olive oil"
    recipe = _write(
        project,
        f"""
synthdsl: 1
sources:
  s: {{records: [{{t: "{base}"}}, {{t: "{near}"}}, {{t: "{other}"}}, {{t: "{base.upper()}"}}]}}
steps:
  - id: u
    dedup: {{field: t, method: minhash, threshold: 0.7}}
""",
    )
    assert _run(recipe) == 0
    assert [r["t"] for r in _rows(project)] == [base, other]
    rejects = [json.loads(x) for x in (project / "out" / "rejects.jsonl").read_text().splitlines()]
    reasons = sorted(r["reason"] for r in rejects)
    assert reasons == ["duplicate (exact)", "near duplicate (minhash jaccard >= 0.7)"]
    near_row = next(r for r in rejects if r["reason"].startswith("near"))
    assert 0.7 <= near_row["detail"]["score"] < 1.0


MIX = """
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{base}"}}
sources:
  topics: {{records: [{topics}]}}
  human: {{records: [{human}]}}
steps:
  - id: g
    from: topics
    generate: {{template: "{{{{ t }}}}", model: gen, into: text}}
  - id: train
    mix:
      stage: {stage}
      {extra}
      parts: [{{from: g, ratio: {ratio}}}, {{from: human, ratio: {rest}}}]
"""


def _mix(server: FakeOpenAIServer, stage: str, ratio: float, extra: str = "") -> str:
    topics = ", ".join(f'{{t: "topic {i}"}}' for i in range(20))
    human = ", ".join(f'{{t: "h{i}", text: "human {i}"}}' for i in range(20))
    return MIX.format(
        base=server.base_url,
        topics=topics,
        human=human,
        stage=stage,
        ratio=ratio,
        rest=round(1 - ratio, 6),
        extra=extra,
    )


def test_stage_band_ok_is_noted(server: FakeOpenAIServer, project: Path) -> None:
    recipe = _write(project, _mix(server, "instruction_tuning", 0.5))
    assert _run(recipe) == 0
    mix = _manifest(project)["nodes"]["train"]["mix"]
    assert mix["stage"] == "instruction_tuning" and mix["band"] == [0.4, 0.6]
    assert mix["synthetic_share"] == 0.5 and mix["status"] == "ok"
    assert [p["synthetic"] for p in mix["parts"]] == [True, False]


def test_stage_band_warns_by_default_and_strict_fails(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _write(project, _mix(server, "pretraining", 0.5))
    assert main(["validate", str(recipe)]) == 0
    err = capsys.readouterr().err
    assert "warning: mix 'train' is 50% synthetic, outside the pretraining band 20%-35%" in err
    recipe = _write(project, _mix(server, "pretraining", 0.5, "stage_policy: strict"))
    assert main(["validate", str(recipe)]) == 2
    assert "error: mix 'train' is 50% synthetic" in capsys.readouterr().err


def test_min_real_is_enforced(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _write(project, _mix(server, "reasoning", 0.8, "min_real: 0.3"))
    assert main(["validate", str(recipe)]) == 2
    assert "has 20% real data, below min_real 30%" in capsys.readouterr().err


def test_model_pool_shares_in_manifest(server: FakeOpenAIServer, project: Path) -> None:
    rows = ", ".join(f'{{q: "item {i}"}}' for i in range(200))
    recipe = _write(
        project,
        f"""
synthdsl: 1
models:
  gen:
    pool:
      - {{model: openai/big, api_base: "{server.base_url}", weight: 3}}
      - {{model: openai/small, api_base: "{server.base_url}", weight: 1}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
""",
    )
    assert _run(recipe) == 0
    m = _manifest(project)
    shares = m["nodes"]["g"]["models"]
    assert sum(shares.values()) == 200
    assert 120 <= shares["openai/big"] <= 180  # weight 3:1, stable per record
    assert {r["_provenance"]["model"] for r in _rows(project)} == {"openai/big", "openai/small"}
    assert m["models"]["openai/small"]["calls"] == shares["openai/small"]


REFILL = """
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{base}", seed: 1}}
sources:
  topics: {{records: [{topics}]}}
  human: {{records: [{human}]}}
steps:
  - id: g
    from: topics
    generate: {{template: "{{{{ t }}}}", model: gen, into: text}}
  - id: long
    filter: "words(text) >= 24"
  - id: train
    mix:
      total: 16
      refill: {{{refill}}}
      parts: [{{from: long, ratio: 0.5}}, {{from: human, ratio: 0.5}}]
"""


def _refill_recipe(server: FakeOpenAIServer, refill: str) -> str:
    topics = ", ".join(f'{{t: "topic {i}"}}' for i in range(10))
    human = ", ".join(f'{{t: "h{i}", text: "human {i}"}}' for i in range(10))
    return REFILL.format(base=server.base_url, topics=topics, human=human, refill=refill)


def test_mix_refills_a_short_synthetic_part(server: FakeOpenAIServer, project: Path) -> None:
    recipe = _write(project, _refill_recipe(server, "max_rounds: 10"))
    assert _run(recipe) == 0
    m = _manifest(project)
    mix = m["nodes"]["train"]["mix"]
    assert mix["refill"]["outcome"] == "target met"
    assert mix["refill"]["rounds"] == 2
    assert mix["achieved_total"] == 16
    rows = _rows(project)
    synthetic = [r for r in rows if r["t"].startswith("topic")]
    assert len(rows) == 16 and len(synthetic) == 8
    # refilled records are new samples: distinct texts, marked with their refill scope
    assert len({r["text"] for r in synthetic}) == 8
    assert any(r["_provenance"].get("scope", "").startswith("refill") for r in synthetic)
    assert m["accounting_balanced"]
    assert m["nodes"]["g"]["calls"] == 10 * (1 + mix["refill"]["rounds"])


def test_mix_refill_stops_at_the_call_budget(server: FakeOpenAIServer, project: Path) -> None:
    recipe = _write(project, _refill_recipe(server, "max_rounds: 10, max_calls: 5"))
    assert _run(recipe) == 0
    mix = _manifest(project)["nodes"]["train"]["mix"]
    refill = mix["refill"]
    # this data needs two refill rounds; one round of 10 calls passes the budget of 5
    assert refill["outcome"] == "call budget reached"
    assert refill["rounds"] == 1 and refill["calls"] == 10
    assert mix["achieved_total"] < 16
    assert mix["parts"][0]["taken"] == mix["parts"][1]["taken"]  # ratios still hold


def test_embedding_dedup_catches_a_paraphrase(project: Path) -> None:
    recipe = _write(
        project,
        """
synthdsl: 1
sources:
  s:
    records:
      - {t: "How do I reverse a list in Python?"}
      - {t: "How can I reverse a Python list?"}
      - {t: "Name three rivers in Africa."}
steps:
  - id: u
    dedup: {field: t, method: embedding, threshold: 0.9}
""",
    )
    assert _run(recipe) == 0
    # ROUGE-L F of the first two is 10/15 = 0.67: below 0.7, so only embeddings catch it
    assert [r["t"] for r in _rows(project)] == [
        "How do I reverse a list in Python?",
        "Name three rivers in Africa.",
    ]
    rejects = [json.loads(x) for x in (project / "out" / "rejects.jsonl").read_text().splitlines()]
    assert rejects[0]["reason"] == "near duplicate (embedding cosine >= 0.9)"
    assert rejects[0]["detail"]["score"] >= 0.9
