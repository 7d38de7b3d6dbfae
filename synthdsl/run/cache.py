"""The LLM call cache: content-addressed responses in an embedded SQLite file.

Input: an ``LLMRequest`` (hashed into a key by ``cache_key``/``CallCache.key_for``) and
the ``LLMResponse`` it produced. Output: the stored response for a key, marked
``cached=True`` with ``retries=0``, or None on a miss.

The key is the sha256 of the canonical JSON of the cache format version, the model
string, the rendered messages, the sampling parameters (sorted by name, seed included),
the response format, the sample index and the request's extra options. It never
includes the alias, the endpoint (``api_base``) or anything about the API key, so
keys can be shared between machines and contain no secrets. Bump
``CACHE_FORMAT_VERSION`` to invalidate every existing key.

Durability and concurrency: the database runs in WAL mode with ``synchronous=NORMAL``
and every ``put`` commits on its own, so a ``put`` that returned survives the process
being killed (``kill -9``); only an OS crash or power loss may lose the last commits.
Several processes may open the same file: writers wait up to ``BUSY_TIMEOUT_S`` for
each other. The methods are synchronous and fast (a ``get`` is one indexed lookup, a
``put`` one small commit, well under a millisecond each); a ``CallCache`` object is
meant to be used from a single thread, e.g. directly from the asyncio event loop.

Raises ``CacheError`` (a ``RunError``) when the file cannot be opened, is not a
synthdsl cache, was written by a newer format, or stays locked past the timeout.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from synthdsl.errors import RunError
from synthdsl.llm.types import LLMRequest, LLMResponse
from synthdsl.records import canonical_json

__all__ = [
    "BUSY_TIMEOUT_S",
    "CACHE_FORMAT_VERSION",
    "SCHEMA_VERSION",
    "CacheError",
    "CacheStats",
    "CallCache",
    "cache_key",
]

# Part of every key: bump it to make every stored entry unreachable.
CACHE_FORMAT_VERSION = 1
# Layout of the SQLite tables. An older layout is dropped and recreated (it is only a
# cache); a newer one is refused.
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 5.0


_SELECT = "SELECT response FROM calls WHERE key = ?"


class CacheError(RunError):
    """The call cache could not be opened, read or written."""


@dataclass(frozen=True)
class CacheStats:
    """Entries in the file, and this object's hits, misses and writes."""

    entries: int
    hits: int
    misses: int
    writes: int


def _name(pair: tuple[str, Any]) -> str:
    return pair[0]


def cache_key(request: LLMRequest) -> str:
    """The content address of ``request``: a 64-character sha256 hex digest."""
    spec = request.spec
    payload: dict[str, Any] = {
        "v": CACHE_FORMAT_VERSION,
        "model": spec.model,
        # tuples encode as JSON arrays, so the text is what lists of lists would give
        "messages": request.messages,
        "params": sorted(spec.params, key=_name),
        "response_format": request.response_format,
        "sample_index": request.sample_index,
        "extra": sorted(request.extra, key=_name) if request.extra else [],
        "salt": request.salt,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


# ``json.dumps(body, ensure_ascii=False, default=str)``, its encoder made once: the same
# text without building a JSONEncoder for every put
_encode_entry = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _encode(response: LLMResponse) -> str:
    body = {
        "text": response.text,
        "model": response.model,
        "finish_reason": response.finish_reason,
        "prompt_tokens": response.prompt_tokens,
        "completion_tokens": response.completion_tokens,
        "cost": response.cost,
        "logprobs": response.logprobs,
        "raw": response.raw,
    }
    return _encode_entry(body)


def _decode(body: str) -> LLMResponse:
    data = json.loads(body)
    return LLMResponse(
        text=data["text"],
        model=data["model"],
        finish_reason=data.get("finish_reason"),
        prompt_tokens=int(data.get("prompt_tokens") or 0),
        completion_tokens=int(data.get("completion_tokens") or 0),
        cost=data.get("cost"),
        retries=0,
        cached=True,
        logprobs=data.get("logprobs"),
        raw=data.get("raw") or {},
    )


class CallCache:
    """A persistent map from request keys to LLM responses.

    Use as a context manager or call ``close()``. Not thread-safe: use one object
    per thread (several objects, or processes, may share a file).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._hits = 0
        self._misses = 0
        self._writes = 0
        self._reader: sqlite3.Cursor | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"cannot create cache directory {self.path.parent}: {exc}") from exc
        try:
            # isolation_level=None: autocommit, so every put is its own transaction.
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise CacheError(f"cannot open cache {self.path}: {exc}") from exc
        try:
            self._setup(self._conn)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            self._conn = None
            raise CacheError(f"cannot use cache {self.path}: {exc}") from exc
        except CacheError:
            self._conn.close()
            self._conn = None
            raise

    def _setup(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        self._ensure_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            version = int(row[0]) if row is not None else None
            if version is not None and version > SCHEMA_VERSION:
                raise CacheError(
                    f"cache {self.path} has schema version {version}, newer than this "
                    f"synthdsl supports ({SCHEMA_VERSION}); upgrade synthdsl or use "
                    "another cache file"
                )
            if version is not None and version < SCHEMA_VERSION:
                conn.execute("DROP TABLE IF EXISTS calls")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS calls ("
                " key TEXT PRIMARY KEY,"
                " model TEXT NOT NULL,"
                " response TEXT NOT NULL,"
                " created_at REAL NOT NULL"
                ") WITHOUT ROWID"
            )
            conn.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _ensure_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL mode unless it already is.

        Setting the journal mode needs a lock that SQLite does not wait for (the busy
        timeout does not apply), so a file another process is writing is first checked
        read-only, and the switch itself is retried until ``BUSY_TIMEOUT_S`` passes.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.005
        while True:
            try:
                row = conn.execute("PRAGMA journal_mode").fetchone()
                if row is not None and str(row[0]).lower() == "wal":
                    return
                row = conn.execute("PRAGMA journal_mode = WAL").fetchone()
                if row is not None and str(row[0]).lower() == "wal":
                    return
                problem = f"journal mode stays {row[0] if row else None!r}"
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                problem = str(exc)
            if time.monotonic() >= deadline:
                raise CacheError(f"cache {self.path}: cannot switch to WAL mode: {problem}")
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise CacheError(f"cache {self.path} is closed")
        return self._conn

    @staticmethod
    def key_for(request: LLMRequest) -> str:
        """The key of ``request`` (see ``cache_key``)."""
        return cache_key(request)

    def get(self, key: str) -> LLMResponse | None:
        """The stored response for ``key`` (``cached=True``, ``retries=0``), or None."""
        try:
            if self._reader is None:
                self._reader = self._db.cursor()
            # one cursor for every lookup (a cursor per call costs a third of a hit);
            # fetchall runs the statement to its end, so no read stays open between gets
            rows = self._reader.execute(_SELECT, (key,)).fetchall()
        except sqlite3.Error as exc:
            raise CacheError(f"cannot read cache {self.path}: {exc}") from exc
        if not rows:
            self._misses += 1
            return None
        try:
            response = _decode(rows[0][0])
        except (ValueError, KeyError, TypeError):
            # A damaged entry is a miss: the call is made again and the entry replaced.
            self._misses += 1
            return None
        self._hits += 1
        return response

    def put(self, key: str, response: LLMResponse, *, defer: bool = False) -> None:
        """Store ``response`` under ``key``; committed (durable) when this returns.

        With ``defer=True`` the write joins an open transaction that the caller commits
        soon with ``commit()`` (group commit: about half the CPU per put). The runtime
        commits within milliseconds, so a killed run loses at most those last puts.
        """
        body = _encode(response)
        try:
            if defer and not self._db.in_transaction:
                self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO calls (key, model, response, created_at)"
                " VALUES (?, ?, ?, ?)",
                (key, response.model, body, time.time()),
            )
        except sqlite3.Error as exc:
            raise CacheError(f"cannot write cache {self.path}: {exc}") from exc
        self._writes += 1

    def commit(self) -> None:
        """Commit deferred puts (a no-op when none are pending)."""
        try:
            if self._conn is not None and self._conn.in_transaction:
                self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise CacheError(f"cannot write cache {self.path}: {exc}") from exc

    def stats(self) -> CacheStats:
        """Entry count of the file plus this object's hit/miss/write counters."""
        try:
            (entries,) = self._db.execute("SELECT COUNT(*) FROM calls").fetchone()
        except sqlite3.Error as exc:
            raise CacheError(f"cannot read cache {self.path}: {exc}") from exc
        return CacheStats(
            entries=int(entries), hits=self._hits, misses=self._misses, writes=self._writes
        )

    def __len__(self) -> int:
        return self.stats().entries

    def close(self) -> None:
        """Close the database; idempotent."""
        if self._conn is not None:
            self.commit()
            conn, self._conn = self._conn, None
            self._reader = None
            conn.close()

    @property
    def closed(self) -> bool:
        return self._conn is None

    def __enter__(self) -> CallCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
