"""The compact digest table answers exactly as a dict of digest -> first id would."""

from __future__ import annotations

import hashlib
import random

import pytest

from synthdsl.textproc.digest_table import DigestTable


def _ids(rng: random.Random, n: int) -> list[str]:
    odd = ["x", "ABCDEF0123456789", "ffffffffffffffff", "0123456789abcde ", "r" * 40, ""]
    out = []
    for i in range(n):
        if i % 97 == 0:
            out.append(rng.choice(odd) + str(i))
        elif i % 89 == 0:
            out.append("ffffffffffffffff")  # packs to the marker: kept aside, exactly
        else:
            out.append(hashlib.sha256(str(i).encode()).hexdigest()[:16])
    return out


@pytest.mark.parametrize("spill", [1 << 30, 1 << 16], ids=["in-memory", "memory-mapped"])
def test_answers_like_a_dict_through_growth(spill: int) -> None:
    rng = random.Random(3)
    n = 40_000
    keys = [
        hashlib.blake2b(str(rng.randrange(25_000)).encode(), digest_size=16).digest()
        for _ in range(n)
    ]
    keys[10] = keys[20] = bytes(16)  # the all-zero digest marks empty slots: still a key
    ids = _ids(rng, n)
    table, ref = DigestTable(spill_bytes=spill), dict[bytes, str]()
    for i, (key, rid) in enumerate(zip(keys, ids, strict=True)):
        if i % 2:
            assert table.first(key, rid) == ref.get(key)
        else:
            assert table.get(key) == ref.get(key)
            if key not in ref:
                table.add(key, rid)
        ref.setdefault(key, rid)
    assert len(table) == len(ref)
    assert all(table.get(k) == v for k, v in ref.items())
    assert table.spilled == (spill < table.nbytes)
    assert table.nbytes <= 24 * len(ref) * 8 / 5 * 2  # at most 5/8 full after a doubling


def test_entries_whose_home_is_at_the_end_wrap_around() -> None:
    """Digests whose home slots are the last ones fill the table's end and wrap to its
    start, in place and when the table grows."""
    table, ref = DigestTable(), dict[bytes, str]()
    for i in range(3000):
        key = (2**64 - 1 - i % 7).to_bytes(8, "little") + i.to_bytes(8, "little")
        rid = f"{i:016x}"
        assert table.first(key, rid) is None
        ref[key] = rid
    assert all(table.get(k) == v for k, v in ref.items())
