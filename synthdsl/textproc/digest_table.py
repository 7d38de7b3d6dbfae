"""A compact set of 16-byte digests, each with the id of the record that brought it.

Input: ``add(digest, record_id)`` for a digest not yet in the table, ``get(digest)``.
Output: the id the digest was added with, or None. This is exact dedup's memory: one
entry per distinct record, so its size per entry is what a long run pays.

A Python ``dict[bytes, str]`` costs ~205 bytes per entry (two objects and the dict's
slot). Here every entry is 24 bytes of one flat buffer: the digest and the record id
packed into 8 bytes (a record id is 16 hex digits, ``records.derive_id``; an id of any
other form is kept in a side dict, so any id comes back exactly as it went in). The
buffer is an open-addressing table with linear probing, doubled when it is 5/8 full,
so it holds 24 / (load 0.31 to 0.62): 38 to 77 bytes per distinct record, ~55 on
average. Past ``SPILL_BYTES`` (256 MiB, ~4.5 million distinct records) the table moves
into a memory-mapped temporary file: the kernel writes its pages out and reads them
back as needed, so a run with more distinct records than RAM slows down instead of
failing.

Raises nothing (``OSError`` if the temporary file cannot be made).
"""

from __future__ import annotations

import mmap
import tempfile
from typing import IO

__all__ = ["SPILL_BYTES", "DigestTable"]

SPILL_BYTES = 256 << 20
_SLOT = 24  # 16 bytes of digest, 8 of record id
_EMPTY = bytes(16)
_ODD = b"\xff" * 8  # the id is in the side dict (it is not 16 lowercase hex digits)
_MIN_SLOTS = 1 << 12


class DigestTable:
    """See the module docstring."""

    def __init__(self, spill_bytes: int = SPILL_BYTES) -> None:
        self.spill_bytes = spill_bytes
        self._slots = _MIN_SLOTS
        self._buf: bytearray | mmap.mmap = bytearray(self._slots * _SLOT)
        self._file: IO[bytes] | None = None
        self._count = 0
        self._odd: dict[bytes, str] = {}  # digest -> an id that does not pack
        self._zero: str | None = None  # the id of the all-zero digest, which marks empty

    def __len__(self) -> int:
        return self._count + (self._zero is not None)

    @property
    def nbytes(self) -> int:
        """The table's buffer size in bytes (the side dict aside)."""
        return self._slots * _SLOT

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def _find(self, digest: bytes) -> int:
        """The byte offset of ``digest``'s slot, or of the empty slot it would take.
        A slot's home is the digest's low bits (its first bytes, little-endian)."""
        buf = self._buf
        mask = self._slots - 1
        i = int.from_bytes(digest, "little") & mask
        if isinstance(buf, bytearray):
            while True:
                at = i * _SLOT
                if buf.startswith(digest, at) or buf.startswith(_EMPTY, at):
                    return at
                i = (i + 1) & mask
        while True:
            at = i * _SLOT
            found = buf[at : at + 16]
            if found in (digest, _EMPTY):
                return at
            i = (i + 1) & mask

    def get(self, digest: bytes) -> str | None:
        """The id ``digest`` was added with, or None."""
        if digest == _EMPTY:
            return self._zero
        at = self._find(digest)
        buf = self._buf
        if buf[at : at + 16] == _EMPTY:
            return None
        packed = bytes(buf[at + 16 : at + _SLOT])
        if packed == _ODD:
            return self._odd[digest]
        return packed.hex()

    def add(self, digest: bytes, record_id: str) -> None:
        """Note ``digest`` as first brought by ``record_id`` (the caller checked that it
        is new: ``get`` said None)."""
        if digest == _EMPTY:
            self._zero = record_id
            return
        packed = _pack(record_id)
        if packed is None:
            self._odd[digest] = record_id
            packed = _ODD
        if (self._count + 1) * 8 > self._slots * 5:
            self._grow()
        at = self._find(digest)
        self._buf[at : at + _SLOT] = digest + packed
        self._count += 1

    def first(self, digest: bytes, record_id: str) -> str | None:
        """``get(digest)``, adding ``digest`` with ``record_id`` when it is new (one
        probe instead of two: exact dedup's every record)."""
        buf = self._buf
        if digest != _EMPTY and isinstance(buf, bytearray):
            mask = self._slots - 1
            i = int.from_bytes(digest, "little") & mask
            while True:
                at = i * _SLOT
                if buf.startswith(digest, at):
                    packed = bytes(buf[at + 16 : at + _SLOT])
                    return self._odd[digest] if packed == _ODD else packed.hex()
                if buf.startswith(_EMPTY, at):
                    break
                i = (i + 1) & mask
            if (self._count + 1) * 8 <= self._slots * 5:  # no growth: take the slot
                packed_id = _pack(record_id)
                if packed_id is None:
                    self._odd[digest] = record_id
                    packed_id = _ODD
                buf[at : at + _SLOT] = digest + packed_id
                self._count += 1
                return None
        found = self.get(digest)
        if found is None:
            self.add(digest, record_id)
        return found

    def _grow(self) -> None:
        """Double the table. Entries move in bulk: sorted by their new home slot, the
        k-th takes ``max(home_k, slot_{k-1} + 1)`` (linear probing's layout, as one
        cumulative maximum); the few that would run past the end wrap around one by one.
        """
        import numpy as np  # only once a dedup has seen 2,560 distinct records

        old, old_file = self._buf, self._file
        rows = np.frombuffer(old, dtype="<u8").reshape(-1, 3)  # digest low, high; id
        used = rows[(rows[:, 0] != 0) | (rows[:, 1] != 0)]
        self._slots *= 2
        size = self._slots * _SLOT
        if size > self.spill_bytes:
            self._file = tempfile.TemporaryFile(prefix="synthdsl-dedup-")  # noqa: SIM115 - closed by close() or the next _grow()
            self._file.truncate(size)
            self._buf = mmap.mmap(self._file.fileno(), size)
        else:
            self._file = None
            self._buf = bytearray(size)
        home = (used[:, 0] & np.uint64(self._slots - 1)).astype(np.int64)
        order = np.argsort(home, kind="stable")
        used, home = used[order], home[order]
        k = np.arange(len(home), dtype=np.int64)
        slot = np.maximum.accumulate(home - k) + k
        fits = slot < self._slots
        table = np.frombuffer(self._buf, dtype="<u8").reshape(-1, 3)
        table[slot[fits]] = used[fits]
        for row in used[~fits]:
            entry = row.tobytes()
            at = self._find(entry[:16])
            self._buf[at : at + _SLOT] = entry
        del rows, used, table  # views of the buffers: released before closing them
        if isinstance(old, mmap.mmap):
            old.close()
        if old_file is not None:
            old_file.close()

    def close(self) -> None:
        """Free the buffer (and delete the file); the table is empty afterwards."""
        if isinstance(self._buf, mmap.mmap):
            self._buf.close()
        if self._file is not None:
            self._file.close()
            self._file = None
        self._slots = _MIN_SLOTS
        self._buf = bytearray(self._slots * _SLOT)
        self._count = 0
        self._odd = {}
        self._zero = None


def _pack(record_id: str) -> bytes | None:
    """``record_id`` as 8 bytes when it is 16 lowercase hex digits (and not the marker)."""
    if len(record_id) != 16:
        return None
    try:
        packed = bytes.fromhex(record_id)
    except ValueError:
        return None
    if packed == _ODD or packed.hex() != record_id:
        return None
    return packed
