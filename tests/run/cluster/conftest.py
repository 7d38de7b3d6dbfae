"""One local Ray instance (2 CPUs) for every test of the Ray executor in the session."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import ray


@pytest.fixture(scope="session")
def ray_instance() -> Iterator[Any]:
    """``ray.init(num_cpus=2)``, shared: starting Ray takes seconds. The executor finds
    it running and leaves it running."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield ray
    ray.shutdown()
