"""Test helpers shipped with synthdsl.

``fake_openai``: a loopback OpenAI-compatible HTTP server with deterministic replies and
fault injection (``FakeOpenAIServer``, ``python -m synthdsl.testing.fake_openai``).
``fake_client``: ``FakeClient``, an in-process LLM client giving the same replies, for
``RunOptions(client=...)``. Importing this package imports neither; nothing is raised.
"""

__all__: list[str] = []
