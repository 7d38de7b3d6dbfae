"""What the driver ships to a worker, and how secrets reach it instead.

Input: the compiled recipe and the run options. Output: ``WorkerSetup`` (plain data: the
compiled recipe, the call cache's absolute path, retry and concurrency settings; it goes
through Ray's object store once per worker) and ``worker_env`` (the environment variables
a worker needs, passed as the actor's runtime environment: the API key variables the
recipe names, the usual ``*_API_KEY`` provider variables and synthdsl's own settings);
``pack`` / ``unpack`` turn a setup into the bytes a worker is started with.
A ``WorkerSetup`` never holds a secret: keys are read from the environment at call time,
in the worker, as in the local executor. Raises nothing.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from synthdsl.ir import CompiledRecipe

__all__ = ["WorkerSetup", "pack", "unpack", "worker_env"]


@dataclass(frozen=True)
class WorkerSetup:
    compiled: CompiledRecipe
    cache_path: str  # absolute: a worker's working folder is not the driver's
    fresh: bool
    concurrency: int | None
    limit: int | None
    retry_base: float
    retry_cap: float
    hedge: bool

    @staticmethod
    def make(
        compiled: CompiledRecipe,
        cache_path: Path,
        *,
        fresh: bool,
        concurrency: int | None,
        limit: int | None,
        retry_base: float,
        retry_cap: float,
        hedge: bool,
    ) -> WorkerSetup:
        return WorkerSetup(
            compiled,
            str(cache_path.resolve()),
            fresh,
            concurrency,
            limit,
            retry_base,
            retry_cap,
            hedge,
        )


def pack(setup: WorkerSetup) -> bytes:
    """The setup as a worker's constructor argument: cloudpickled (a compiled recipe holds
    closures plain pickle refuses) and compressed, so it stays small enough for Ray to
    keep it inline with the actor's creation (a restarted worker gets it back from there)."""
    from ray import cloudpickle  # only the Ray executor packs a setup

    data: bytes = cloudpickle.dumps(setup)  # type: ignore[no-untyped-call]
    return zlib.compress(data, 6)


def unpack(data: bytes) -> WorkerSetup:
    from ray import cloudpickle  # in a worker process, which Ray started

    setup = cloudpickle.loads(zlib.decompress(data))
    assert isinstance(setup, WorkerSetup)
    return setup


def _key_names(compiled: CompiledRecipe) -> set[str]:
    return {
        entry.api_key_env
        for decl in compiled.models.values()
        for entry in decl.entries
        if entry.api_key_env
    }


def worker_env(compiled: CompiledRecipe) -> dict[str, str]:
    """The driver's variables a worker gets through its runtime environment (set ones
    only): the recipe's ``api_key_env`` names, ``*_API_KEY``, ``SYNTHDSL_*`` and
    ``LITELLM_*``."""
    wanted = _key_names(compiled)
    out: dict[str, str] = {}
    for name, value in os.environ.items():
        if (
            name in wanted
            or name.endswith("_API_KEY")
            or name.startswith(("SYNTHDSL_", "LITELLM_"))
        ):
            out[name] = value
    return dict(sorted(out.items()))
