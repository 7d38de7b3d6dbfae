"""Test helpers shipped with synthdsl: a fake OpenAI-compatible HTTP server (``fake_openai``)
and an in-process fake LLM client giving the same replies (``fake_client``)."""
