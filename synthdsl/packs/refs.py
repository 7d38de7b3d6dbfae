"""Pack recipe references in ``use:``: ``NAME/RECIPE`` and ``NAME/RECIPE@RANGE``.

Input: the text of a ``use:`` value. Output: ``is_pack_ref`` (a name with a ``/`` and
no ``.yaml``/``.yml`` suffix: paths to recipe files keep their meaning) and
``PackRef`` (pack, recipe, the version range or None). Raises ``ValueError`` with a
readable message for a reference that does not parse (an empty part, a bad range).
"""

from __future__ import annotations

from dataclasses import dataclass

from synthdsl.packs.versions import Range, parse_range

__all__ = ["PackRef", "is_pack_ref", "parse_pack_ref"]


@dataclass(frozen=True)
class PackRef:
    pack: str
    recipe: str
    range: Range | None

    def __str__(self) -> str:
        return f"{self.pack}/{self.recipe}" + (f"@{self.range}" if self.range else "")


def is_pack_ref(ref: str) -> bool:
    """Whether a ``use:`` value names a pack's recipe rather than a file or a name."""
    head = ref.split("@", 1)[0]
    return (
        "/" in head and not head.endswith((".yaml", ".yml")) and not ref.startswith(("/", ".", "~"))
    )


def parse_pack_ref(ref: str) -> PackRef:
    """``NAME/RECIPE[@RANGE]`` → ``PackRef``; ``ValueError`` when it does not parse."""
    head, at, tail = ref.partition("@")
    pack, _, recipe = head.partition("/")
    if not pack or not recipe or "/" in recipe:
        raise ValueError(f"'{ref}' is not a pack recipe reference (write PACK/RECIPE[@RANGE])")
    version = None
    if at:
        try:
            version = parse_range(tail)
        except ValueError as exc:
            raise ValueError(f"'{ref}': {exc}") from None
    return PackRef(pack.strip(), recipe.strip(), version)
