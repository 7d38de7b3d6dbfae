"""The cache key is the v1 formula, so caches written before stay valid.

The formula, spelled out as it was first written: the sha256 of ``json.dumps`` (sorted
keys, compact separators, unicode kept, ``default=str``) of the version, the model, the
messages, the sorted parameters and extras as lists of pairs, the response format, the
sample index and the salt. ``cache_key`` builds the same text faster; any request,
random ones here, must get the very same key (a re-run of an older cache makes 0 calls).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from synthdsl.llm.types import LLMRequest, ModelSpec
from synthdsl.run.cache import cache_key

texts = st.text(max_size=20)
values = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
pairs = st.dictionaries(texts, values | st.lists(values, max_size=3), max_size=4).map(
    lambda d: tuple(sorted(d.items()))
)


def v1_key(request: LLMRequest) -> str:
    spec = request.spec
    payload: dict[str, Any] = {
        "v": 1,
        "model": spec.model,
        "messages": [dict(m) for m in request.messages],
        "params": [[k, v] for k, v in sorted(spec.params, key=lambda kv: kv[0])],
        "response_format": request.response_format,
        "sample_index": request.sample_index,
        "extra": [[k, v] for k, v in sorted(request.extra, key=lambda kv: kv[0])],
        "salt": request.salt,
    }
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@settings(max_examples=300, deadline=None)
@given(
    model=texts,
    messages=st.lists(st.fixed_dictionaries({"role": texts, "content": texts}), max_size=3),
    params=pairs,
    extra=pairs,
    response_format=st.none() | st.dictionaries(texts, values, max_size=2),
    sample=st.integers(min_value=0, max_value=99),
    salt=texts,
)
def test_the_key_is_the_v1_formula(
    model: str,
    messages: list[dict[str, str]],
    params: tuple[tuple[str, Any], ...],
    extra: tuple[tuple[str, Any], ...],
    response_format: dict[str, Any] | None,
    sample: int,
    salt: str,
) -> None:
    request = LLMRequest(
        spec=ModelSpec(alias="a", model=model, params=params),
        messages=tuple(messages),
        response_format=response_format,
        sample_index=sample,
        extra=extra,
        salt=salt,
    )
    assert cache_key(request) == v1_key(request)
