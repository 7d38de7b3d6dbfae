"""``FakeOpenAIServer``: the fake server in a background thread, for tests.

Takes the server settings (latency, jitter, an optional API key, an optional rpm limit,
host and port, port 0 picking a free one; a batch's completion delay); gives a running
server (``with FakeOpenAIServer() as srv: ... srv.base_url``) with its own event loop in
a daemon thread, usable from sync code and from any asyncio loop, plus ``stats()``,
``reset()``, ``set_latency()``, ``set_batch_delay()`` and ``queue_batch_endings()``.
``start()`` raises RuntimeError when the server is already started or cannot start,
OSError when the address cannot be bound; ``base_url`` and ``port`` raise RuntimeError
before ``start()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import TracebackType
from typing import Any

from synthdsl.testing.fake_openai.app import ServerCore

__all__ = ["FakeOpenAIServer", "base_url_for", "bind"]


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port), not yet listening. Raises OSError."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def base_url_for(host: str, port: int) -> str:
    """``http://HOST:PORT/v1`` (an IPv6 host in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


class FakeOpenAIServer:
    """The fake server running in a background thread with its own event loop.

    ``with FakeOpenAIServer(latency=0.05) as server: ...`` then point a client at
    ``server.base_url``. Works from sync code and from any asyncio loop.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        jitter: float = 0.0,
        require_api_key: str | None = None,
        rpm_limit: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        batch_delay: float = 0.05,
    ) -> None:
        self._core = ServerCore(
            latency=latency,
            jitter=jitter,
            require_api_key=require_api_key,
            rpm_limit=rpm_limit,
            batch_delay=batch_delay,
        )
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``; valid after ``start()``."""
        if self._port is None:
            raise RuntimeError("FakeOpenAIServer is not started")
        return base_url_for(self._host, self._port)

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeOpenAIServer is not started")
        return self._port

    def start(self) -> FakeOpenAIServer:
        if self._thread is not None:
            raise RuntimeError("FakeOpenAIServer is already started")
        sock = bind(self._host, self._requested_port)
        ready = threading.Event()
        self._error = None
        thread = threading.Thread(
            target=self._run, args=(sock, ready), name="fake-openai", daemon=True
        )
        thread.start()
        ready.wait()
        if self._error is not None:
            thread.join()
            sock.close()
            raise RuntimeError(f"FakeOpenAIServer failed to start: {self._error}")
        self._thread = thread
        self._port = int(sock.getsockname()[1])
        return self

    def _run(self, sock: socket.socket, ready: threading.Event) -> None:
        async def serve() -> None:
            try:
                self._loop = asyncio.get_running_loop()
                self._stop_event = asyncio.Event()
                await self._core.open(sock)
            except BaseException as exc:
                self._error = exc
                ready.set()
                return
            ready.set()
            try:
                await self._stop_event.wait()
            finally:
                await self._core.close()

        asyncio.run(serve())

    def stop(self) -> None:
        thread, loop, event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(event.set)
        thread.join()
        self._thread = None
        self._loop = None
        self._stop_event = None
        self._port = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """A snapshot: requests, by_status, max_in_flight, in_flight, prompts,
        auth_headers_seen, batches_created, files_uploaded, batch_lines."""
        return self._core.stats()

    def conversations(self) -> list[list[Any]]:
        """The messages of the last (up to 1,000) chat requests, oldest first."""
        return self._core.conversations()

    def answers(self) -> list[tuple[float, str]]:
        """(``time.monotonic()``, content key) of each answer sent, oldest first."""
        return self._core.answers()

    def reset(self) -> None:
        """Clear counters, per-prompt attempt counters, the rpm window and the kept
        conversations."""
        self._core.reset()

    def queue_batch_endings(self, *endings: str) -> None:
        """The next batches created end this way, in order: "expired", "cancelled",
        "failed" or "completed" (the default once the queue is empty)."""
        self._core.batches.queue_endings(list(endings))

    def set_batch_delay(self, seconds: float) -> None:
        """Seconds from a batch's creation until it ends."""
        self._core.batches.delay = seconds

    def set_latency(self, latency: float, jitter: float = 0.0) -> None:
        self._core.latency = latency
        self._core.jitter = jitter
