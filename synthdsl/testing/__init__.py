"""Test helpers shipped with synthdsl: a fake OpenAI-compatible HTTP server."""
