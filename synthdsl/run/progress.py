"""Live progress of a run: a per-node table on a terminal, plain lines otherwise.

Input: the run context's per-node stats, sampled twice a second. Output: on a TTY a
``rich`` live table (records in/out, rate, dropped, failed, calls, cache hits, retries,
tokens); elsewhere one summary line every ``PLAIN_EVERY`` seconds and a final one.
"""

from __future__ import annotations

import time
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synthdsl.ir import CompiledRecipe
    from synthdsl.run.context import RunContext

__all__ = ["make_progress"]

PLAIN_EVERY = 10.0


def _rows(rt: RunContext) -> list[tuple[str, Any]]:
    return sorted(rt.stats.items(), key=lambda kv: kv[1].started or 0.0)


class _RichProgress:
    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream)
        self.live = Live(console=self.console, refresh_per_second=4, transient=False)
        self.t0 = time.monotonic()

    def start(self) -> None:
        self.live.start()

    def stop(self) -> None:
        self.live.stop()

    def update(self, rt: RunContext) -> None:
        from rich.table import Table

        table = Table(title=f"synthdsl run  {time.monotonic() - self.t0:6.1f}s", expand=False)
        for col in (
            "node",
            "kind",
            "in",
            "out",
            "rate/s",
            "dropped",
            "failed",
            "calls",
            "cached",
            "retries",
            "tokens",
        ):
            table.add_column(col, justify="left" if col in ("node", "kind") else "right")
        for nid, st in _rows(rt):
            elapsed = max(
                (st.finished or time.monotonic()) - (st.started or time.monotonic()), 1e-6
            )
            rate = st.records_in / elapsed if st.started else 0.0
            table.add_row(
                nid,
                st.kind,
                str(st.records_in),
                str(st.out),
                f"{rate:.1f}",
                str(sum(st.dropped.values())),
                str(sum(st.failed.values())),
                str(st.calls),
                str(st.cache_hits),
                str(st.retries),
                str(st.prompt_tokens + st.completion_tokens),
            )
        self.live.update(table)


class _PlainProgress:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.t0 = time.monotonic()
        self.last = self.t0

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def update(self, rt: RunContext) -> None:
        now = time.monotonic()
        if now - self.last < PLAIN_EVERY:
            return
        self.last = now
        parts = []
        for nid, st in _rows(rt):
            parts.append(f"{nid} {st.records_in}->{st.out}")
        calls = sum(s.calls for s in rt.stats.values())
        hits = sum(s.cache_hits for s in rt.stats.values())
        retries = sum(s.retries for s in rt.stats.values())
        self.stream.write(
            f"[{now - self.t0:6.1f}s] {'; '.join(parts)} | calls {calls} cached {hits} "
            f"retries {retries}\n"
        )
        self.stream.flush()


def make_progress(compiled: CompiledRecipe, stream: IO[str]) -> _RichProgress | _PlainProgress:
    if stream.isatty():
        return _RichProgress(stream)
    return _PlainProgress(stream)
