"""``llm/providers.PROVIDERS`` is the installed litellm's provider list, exactly.

litellm is imported in a child process: importing it into the test process changes
which of its lazy pydantic warnings later tests see.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from synthdsl.llm.providers import PROVIDERS

LIST_PROVIDERS = """
import json, litellm
from litellm.llms.openai_like.json_loader import JSONProviderRegistry
live = {getattr(p, "value", p) for p in litellm.provider_list}
print(json.dumps(sorted(live | set(JSONProviderRegistry.list_providers()))))
"""


def test_the_snapshot_matches_the_installed_litellm() -> None:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
    done = subprocess.run(
        [sys.executable, "-c", LIST_PROVIDERS], capture_output=True, text=True, env=env, check=True
    )
    live = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert set(PROVIDERS) == live, (
        "litellm's providers changed: regenerate synthdsl/llm/providers.py "
        f"(missing: {sorted(live - PROVIDERS)}, gone: {sorted(PROVIDERS - live)})"
    )
