"""``llm/providers.PROVIDERS`` is the installed litellm's provider list, exactly."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
from litellm.llms.openai_like.json_loader import JSONProviderRegistry

from synthdsl.llm.providers import PROVIDERS


def test_the_snapshot_matches_the_installed_litellm() -> None:
    live = {getattr(p, "value", p) for p in litellm.provider_list}
    live |= set(JSONProviderRegistry.list_providers())
    assert set(PROVIDERS) == live, (
        "litellm's providers changed: regenerate synthdsl/llm/providers.py "
        f"(missing: {sorted(live - PROVIDERS)}, gone: {sorted(PROVIDERS - live)})"
    )
