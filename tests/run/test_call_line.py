"""``call_line`` writes the same bytes as ``json_line(call_row(...))``, for any call.

The fast line is assembled from its strings' JSON; the generic row is what ``show``
reads back and what a Ray worker sends. Random calls (any text, lone surrogates and
control characters included; assistant turns; rounds; errors; no reply) must give
byte-identical lines either way.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from synthdsl.io.json_text import json_line
from synthdsl.llm.types import LLMRequest, ModelSpec
from synthdsl.run.call_log import call_line, call_row

texts = st.text(alphabet=st.characters(codec=None), max_size=40)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "user", "assistant"]) | texts, "content": texts}
    ),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(
    node=texts,
    record=texts,
    alias=texts,
    model=texts,
    sample=st.integers(min_value=0, max_value=10**12),
    msgs=messages,
    reply=st.none() | texts,
    cached=st.booleans(),
    round_=st.none() | st.integers(min_value=0, max_value=1000),
    error=st.none() | texts,
)
def test_the_fast_line_is_the_generic_line(
    node: str,
    record: str,
    alias: str,
    model: str,
    sample: int,
    msgs: list[dict[str, str]],
    reply: str | None,
    cached: bool,
    round_: int | None,
    error: str | None,
) -> None:
    request = LLMRequest(
        spec=ModelSpec(alias=alias, model=model), messages=tuple(msgs), sample_index=sample
    )
    expected = json_line(call_row(node, record, request, reply, cached, round_, error))
    assert call_line(node, record, request, reply, cached, round_, error) == expected


def test_a_value_that_is_not_plain_text_goes_the_generic_way() -> None:
    request = LLMRequest(
        spec=ModelSpec(alias="gen", model="openai/m"),
        messages=({"role": "user", "content": 42},),  # type: ignore[dict-item]
    )
    line = call_line("g", "r1", request, "ok", True, None, None)
    assert line == json_line(call_row("g", "r1", request, "ok", True, None, None))
    assert b'"content": 42' in line
