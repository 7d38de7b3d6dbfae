"""Size limits for packs, in one place: what an archive or a download may hold.

Input: nothing (constants, and ``Limits`` for callers that need tighter ones). Output:
``Limits``, the caps that ``archive.py`` enforces while extracting and ``fetch.py``
while downloading. Raises nothing. A pack is recipes, prompts and *small* seed data;
these caps leave room for that and refuse archives that would fill a disk (zip bombs,
millions of members).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "Limits"]

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps on one pack archive (or folder) and its download."""

    max_members: int = 2000
    """Files, folders and links in one archive."""
    max_total_bytes: int = 100 * MB
    """Uncompressed size of everything in it."""
    max_file_bytes: int = 50 * MB
    """Uncompressed size of one file."""
    max_ratio: float = 100.0
    """Uncompressed / compressed size, over the whole archive and per zip member."""
    ratio_floor_bytes: int = 1 * MB
    """Below this uncompressed size the ratio is not checked (tiny text compresses well)."""
    max_download_bytes: int = 100 * MB
    """Bytes read from a URL before giving up."""
    max_path_length: int = 255
    """Characters in one member's path inside the pack."""


DEFAULT_LIMITS = Limits()
