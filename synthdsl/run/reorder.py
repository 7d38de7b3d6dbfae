"""Put results that finish out of order back in the order their inputs came.

Input: ``put(seq, item)`` for items numbered 0, 1, 2, ... in any order. Output:
``pop_ready()``, the items that are next in sequence, in sequence. Memory stays
bounded: past ``memory_items`` items held, the newest arrivals are pickled to an
anonymous temporary file (deleted when closed, or by the OS if the process dies) and
read back when their turn comes; the file is emptied whenever nothing is spilled.
An item that cannot be pickled stays in memory. Raises ``RunError`` when the spill
file cannot be written or read (a full disk).

The executor's map nodes use it (``run/executor.py``): calls finish in any order, so
one slow call never holds back the others, and records still leave in input order.
"""

from __future__ import annotations

import contextlib
import pickle
import tempfile
from typing import IO, Any

from synthdsl.errors import RunError

__all__ = ["ReorderBuffer"]


class ReorderBuffer:
    """Items keyed by sequence number, handed out in sequence."""

    def __init__(self, memory_items: int = 1024) -> None:
        self.memory_items = max(1, memory_items)
        self.next_seq = 0
        self._memory: dict[int, Any] = {}
        self._spilled: dict[int, tuple[int, int]] = {}  # seq -> (offset, length)
        self._file: IO[bytes] | None = None
        self._end = 0
        self.spilled_total = 0  # items ever written to disk (the manifest's note)
        self.peak = 0  # most items held at once

    def __len__(self) -> int:
        return len(self._memory) + len(self._spilled)

    def put(self, seq: int, item: Any) -> None:
        """Hold ``item`` until every item before ``seq`` has been popped."""
        if seq < self.next_seq or seq in self._memory or seq in self._spilled:
            raise ValueError(f"sequence number {seq} was already given")
        if len(self._memory) < self.memory_items or seq == self.next_seq:
            self._memory[seq] = item
        else:
            self._spill(seq, item)
        self.peak = max(self.peak, len(self))

    def pop_ready(self) -> list[Any]:
        """The items next in sequence (possibly none), removed from the buffer."""
        out: list[Any] = []
        while True:
            seq = self.next_seq
            if seq in self._memory:
                out.append(self._memory.pop(seq))
            elif seq in self._spilled:
                out.append(self._load(seq))
            else:
                break
            self.next_seq += 1
        if not self._spilled and self._end:
            self._rewind()
        return out

    def close(self) -> None:
        self._memory.clear()
        self._spilled.clear()
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- the spill file -----------------------------------------------------------------

    def _spill(self, seq: int, item: Any) -> None:
        try:
            data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # an unpicklable value: keep it in memory rather than lose it
            self._memory[seq] = item
            return
        try:
            if self._file is None:
                # closed by close(); deleted by the OS even if the process dies
                self._file = tempfile.TemporaryFile(prefix="synthdsl-reorder-")  # noqa: SIM115
            self._file.seek(self._end)
            self._file.write(data)
        except OSError as exc:
            raise RunError(f"cannot spill records to a temporary file: {exc}") from exc
        self._spilled[seq] = (self._end, len(data))
        self._end += len(data)
        self.spilled_total += 1

    def _load(self, seq: int) -> Any:
        offset, length = self._spilled.pop(seq)
        assert self._file is not None
        try:
            self._file.seek(offset)
            data = self._file.read(length)
        except OSError as exc:
            raise RunError(f"cannot read spilled records back: {exc}") from exc
        return pickle.loads(data)

    def _rewind(self) -> None:
        """Nothing is spilled: reuse the file from its start."""
        self._end = 0
        if self._file is not None:
            with contextlib.suppress(OSError):  # a file that stays long is harmless
                self._file.truncate(0)
