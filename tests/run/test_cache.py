"""CallCache: keys, round trips, durability across kill -9, sharing between objects."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from synthdsl.errors import RunError
from synthdsl.llm.types import LLMRequest, LLMResponse, ModelSpec
from synthdsl.run.cache import (
    CACHE_FORMAT_VERSION,
    SCHEMA_VERSION,
    CacheError,
    CallCache,
    cache_key,
)

REPO = Path(__file__).resolve().parents[2]


def _spec(**kwargs: object) -> ModelSpec:
    base: dict[str, object] = {
        "alias": "writer",
        "model": "openai/gpt-4o-mini",
        "params": (("temperature", 0.7), ("max_tokens", 256)),
    }
    base.update(kwargs)
    return ModelSpec(**base)  # type: ignore[arg-type]


def _request(spec: ModelSpec | None = None, **kwargs: object) -> LLMRequest:
    base: dict[str, object] = {
        "spec": spec or _spec(),
        "messages": ({"role": "user", "content": "Write a haiku about SQLite."},),
    }
    base.update(kwargs)
    return LLMRequest(**base)  # type: ignore[arg-type]


def _response(text: str = "an answer") -> LLMResponse:
    return LLMResponse(
        text=text,
        model="gpt-4o-mini-2024-07-18",
        finish_reason="stop",
        prompt_tokens=12,
        completion_tokens=34,
        cost=0.00012,
        retries=3,
        cached=False,
        logprobs=[-0.1, -2.5],
        raw={"id": "chatcmpl-1", "choices": [{"index": 0}], "note": "ünïcödé"},
    )


# -- keys -------------------------------------------------------------------------------


def test_key_is_stable_sha256() -> None:
    key = cache_key(_request())
    assert key == cache_key(_request())
    assert len(key) == 64 and all(c in "0123456789abcdef" for c in key)
    assert CallCache.key_for(_request()) == key


def test_key_excludes_secrets_endpoint_and_alias() -> None:
    plain = _request(_spec())
    secret = _request(
        _spec(
            alias="other-alias",
            api_base="https://secret.example.com/v1",
            api_key_env="MY_SECRET_KEY",
            concurrency=3,
            rpm=10.0,
            timeout=5.0,
            backend="http",
        )
    )
    assert cache_key(plain) == cache_key(secret)


def test_param_order_does_not_matter() -> None:
    a = _request(_spec(params=(("temperature", 0.7), ("max_tokens", 256))))
    b = _request(_spec(params=(("max_tokens", 256), ("temperature", 0.7))))
    assert cache_key(a) == cache_key(b)


@pytest.mark.parametrize(
    "change",
    [
        {"sample_index": 1},
        {"messages": ({"role": "user", "content": "Write a limerick."},)},
        {"response_format": {"type": "json_object"}},
        {"extra": (("logprobs", True),)},
        {"spec": _spec(model="openai/gpt-4o")},
        {"spec": _spec(params=(("temperature", 0.2), ("max_tokens", 256)))},
        {"spec": _spec(params=(("temperature", 0.7), ("max_tokens", 256), ("seed", 1)))},
    ],
)
def test_key_changes_with_content(change: dict[str, Any]) -> None:
    assert cache_key(_request(**change)) != cache_key(_request())


def test_key_includes_format_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import synthdsl.run.cache as cache_mod

    before = cache_key(_request())
    monkeypatch.setattr(cache_mod, "CACHE_FORMAT_VERSION", CACHE_FORMAT_VERSION + 1)
    assert cache_key(_request()) != before


# -- storage ----------------------------------------------------------------------------


def test_round_trip_marks_cached(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "cache.sqlite"
    with CallCache(path) as cache:
        key = cache.key_for(_request())
        assert cache.get(key) is None
        cache.put(key, _response())
        got = cache.get(key)
        assert got is not None
        expected = _response()
        expected.cached = True
        expected.retries = 0
        assert got == expected
        stats = cache.stats()
        assert (stats.entries, stats.hits, stats.misses, stats.writes) == (1, 1, 1, 1)
        assert len(cache) == 1
    assert path.exists()


def test_put_replaces(tmp_path: Path) -> None:
    with CallCache(tmp_path / "c.db") as cache:
        cache.put("k", _response("one"))
        cache.put("k", _response("two"))
        got = cache.get("k")
        assert got is not None and got.text == "two"
        assert cache.stats().entries == 1


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    CallCache(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        row = conn.execute("SELECT value FROM meta WHERE name='schema_version'").fetchone()
        assert row[0] == str(SCHEMA_VERSION)
    finally:
        conn.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    CallCache(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", ("999",))
    conn.close()
    with pytest.raises(CacheError, match="newer"):
        CallCache(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    path.write_bytes(b"this is not sqlite, just some bytes" * 100)
    with pytest.raises(CacheError, match=r"c\.db"):
        CallCache(path)


def test_closed_cache_raises_run_error(tmp_path: Path) -> None:
    cache = CallCache(tmp_path / "c.db")
    cache.close()
    cache.close()  # idempotent
    assert cache.closed
    with pytest.raises(RunError, match="closed"):
        cache.get("k")


def test_two_objects_share_a_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with CallCache(path) as a, CallCache(path) as b:
        a.put("from-a", _response("A"))
        b.put("from-b", _response("B"))
        got_b = a.get("from-b")
        got_a = b.get("from-a")
        assert got_a is not None and got_a.text == "A"
        assert got_b is not None and got_b.text == "B"
        assert a.stats().entries == b.stats().entries == 2


_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from synthdsl.run.cache import CallCache
    from synthdsl.llm.types import LLMResponse

    cache = CallCache(Path(sys.argv[1]))
    for i in range(200):
        cache.put(f"key-{i}", LLMResponse(text=f"text {i}", model="m", prompt_tokens=i))
    print("done", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_puts_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.stdout.strip() == "done", proc.stderr
    assert proc.returncode == -9
    with CallCache(path) as cache:
        assert cache.stats().entries == 200
        for i in range(200):
            got = cache.get(f"key-{i}")
            assert got is not None and got.text == f"text {i}" and got.prompt_tokens == i


def test_many_puts_are_fast(tmp_path: Path) -> None:
    with CallCache(tmp_path / "c.db") as cache:
        start = time.perf_counter()
        for i in range(5000):
            cache.put(f"key-{i}", _response(f"text {i}"))
        elapsed = time.perf_counter() - start
        assert cache.stats().entries == 5000
    # Commit per put in WAL/NORMAL mode: typically well under a second.
    assert elapsed < 30, f"5,000 puts took {elapsed:.1f}s"


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from synthdsl.run.cache import CallCache
    from synthdsl.llm.types import LLMResponse

    who = sys.argv[2]
    with CallCache(Path(sys.argv[1])) as cache:
        for i in range(500):
            cache.put(f"{who}-{i}", LLMResponse(text=f"{who} {i}", model="m"))
            cache.get(f"other-{i}")
    """
)


def test_two_processes_write_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), who],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("p1", "p2")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with CallCache(path) as cache:
        assert cache.stats().entries == 1000
        got = cache.get("p2-499")
        assert got is not None and got.text == "p2 499"
