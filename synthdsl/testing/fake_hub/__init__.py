"""A loopback stand-in for the Hugging Face Hub's HTTP API, for ``synthdsl push`` tests.

``FakeHub`` (``hub.py``) answers the routes ``huggingface_hub`` calls to create a
dataset repository, read its info, make a branch and commit small files; it records what
was uploaded and every request's ``Authorization`` header. Tests only: nothing in the
product imports ``synthdsl.testing``.
"""

from __future__ import annotations

from synthdsl.testing.fake_hub.hub import FakeHub, HubRepo, HubRequest

__all__ = ["FakeHub", "HubRepo", "HubRequest"]
