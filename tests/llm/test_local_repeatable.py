"""The embedded model repeats itself where the recipe asks: a seeded alias gets the same
replies on every run, also with many calls in flight.

Before, the embedded server decoded four requests per batch and reused prompt caches, so
three ``--fresh`` runs of the seeded quickstart gave 3, 6 and 4 records. Here a seeded
recipe runs twice with ``--fresh`` (every call made again, eight in flight) and the two
datasets must be byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.llm.client import wants_repeatable
from synthdsl.llm.types import ModelSpec

RECIPE = """
synthdsl: 1
models:
  gen: {model: local/smollm2, temperature: 0.9, max_tokens: 16, seed: 11, concurrency: 8}
sources:
  topics:
    records: [{t: rivers}, {t: deserts}, {t: glaciers}, {t: tides}]
steps:
  - id: ask
    generate: {model: gen, template: "Write one question about {{ t }}.", into: q, n: 2}
"""


@pytest.mark.slow
def test_a_seeded_alias_on_the_embedded_model_repeats_its_replies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    datasets = []
    for run in ("one", "two"):
        out = tmp_path / run
        argv = ["run", str(recipe), "--quiet", "--fresh", "--out", str(out)]
        assert main([*argv, "--cache", str(tmp_path / "cache.sqlite")]) == 0
        datasets.append((out / "dataset.jsonl").read_bytes())
    assert datasets[0] == datasets[1]
    assert datasets[0].count(b"\n") == 8


def test_only_seeded_or_greedy_aliases_ask_for_the_one_slot_server() -> None:
    def spec(**params: object) -> ModelSpec:
        return ModelSpec(alias="a", model="local/smollm2", params=tuple(params.items()))

    assert wants_repeatable(spec(seed=3, temperature=0.9))
    assert wants_repeatable(spec(temperature=0))
    assert not wants_repeatable(spec(temperature=0.7))
    assert not wants_repeatable(spec())
