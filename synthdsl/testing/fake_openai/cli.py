"""The fake server's command line: ``python -m synthdsl.testing.fake_openai``.

Takes ``--host``, ``--port`` (0 picks a free port), ``--latency``, ``--jitter``,
``--require-api-key KEY``, ``--rpm-limit N`` and ``--batch-delay S``; serves until
SIGTERM/SIGINT, after printing ``READY http://HOST:PORT/v1`` on stdout once listening.
Gives exit status 0. Raises OSError when the address cannot be bound; argparse exits 2
on bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from synthdsl.testing.fake_openai.app import ServerCore
from synthdsl.testing.fake_openai.server import base_url_for, bind

__all__ = ["main"]


async def _serve(args: argparse.Namespace) -> int:
    core = ServerCore(
        latency=args.latency,
        jitter=args.jitter,
        require_api_key=args.require_api_key,
        rpm_limit=args.rpm_limit,
        batch_delay=args.batch_delay,
    )
    sock = bind(args.host, args.port)
    await core.open(sock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    port = int(sock.getsockname()[1])
    sys.stdout.write(f"READY {base_url_for(args.host, port)}\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await core.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: sys.argv[1:]) and serve until signalled; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m synthdsl.testing.fake_openai",
        description="Fake OpenAI-compatible chat-completions server for tests and benchmarks.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--jitter", type=float, default=0.0, help="extra uniform(0, J) s")
    parser.add_argument("--require-api-key", default=None, metavar="KEY")
    parser.add_argument("--rpm-limit", type=int, default=None, metavar="N")
    parser.add_argument(
        "--batch-delay", type=float, default=0.05, help="seconds until a batch ends"
    )
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0
