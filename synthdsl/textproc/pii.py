"""Personal and secret data in text: the built-in detectors and the scrubber.

Input: plain text, the detector types to run (``DETECTORS`` names them, in the order
they run) and optional extra patterns (a name and a function giving match spans, so
that recipe regexes compiled for RE2 by the language layer can join). Output:
``find(text, types)`` lists ``Finding(type, start, end, value)`` without overlaps;
``scrub(text, types, ...)`` replaces each finding with a typed placeholder (``[EMAIL]``,
or numbered ``[EMAIL_1]`` with one number per distinct value through a shared
``Numbering``) and counts them per type. Never raises on ``str`` input.

The built-in patterns are fixed, linear-time expressions (no nested repetition); every
candidate a checksum or a format rule can disprove is checked before it counts:
- ``card``: 13–19 digits, optionally in groups split by single spaces or dashes, first
  digit 2–6 (the card networks' ranges), Luhn checksum.
- ``iban``: country code, two check digits, 11–30 letters/digits (groups of four may be
  split by spaces), ISO 7064 mod-97 remainder 1.
- ``ip``: dotted quads with each part 0–255, not preceded by ``v`` / a digit and dot /
  the word "version", and not followed by another ``.digit`` (version numbers); IPv6
  as accepted by ``ipaddress`` with at least three groups (``std::vector`` is no address).
- ``phone``: ``+`` and a country code then 7–14 more digits in groups; or national
  forms with separators: ``(212) 555-0143``, ``212-555-0143``, ``020 7946 0958``,
  ``01 23 45 67 89``, ``030/12345678``. Bare digit runs are not phones, nor groups
  inside a longer run of digit groups (an account number).
- ``email``: not directly after ``/`` (``http://user@host`` is a URL's user name).
- ``high_entropy``: a run of 20+ of ``A-Za-z0-9+/_=-`` whose characters' Shannon
  entropy is at least 3.5 bits, that mixes two of lower case, upper case and digits,
  whose runs of three or more lower-case letters (the words of ``camelCase`` and
  ``snake_case`` identifiers) cover under 40 % of it, and that is not hex only (git
  SHAs, digests and UUIDs are not secrets).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from synthdsl.textproc.tokens import entropy

__all__ = [
    "DETECTORS",
    "SECRET_TYPES",
    "Finding",
    "Numbering",
    "PatternFinder",
    "find",
    "iban_valid",
    "luhn_valid",
    "scrub",
]

PatternFinder = Callable[[str], Iterable[tuple[int, int]]]
"""A function giving the (start, end) spans an extra pattern matches in a text."""


@dataclass(frozen=True)
class Finding:
    type: str
    start: int
    end: int
    value: str


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a digit string (card numbers)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97."""
    text = iban.replace(" ", "").upper()
    if not 15 <= len(text) <= 34 or not text[:2].isalpha() or not text[2:4].isdigit():
        return False
    moved = text[4:] + text[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def _spans(pattern: re.Pattern[str]) -> PatternFinder:
    return lambda text: (m.span() for m in pattern.finditer(text))


def _checked(pattern: re.Pattern[str], ok: Callable[[str], bool]) -> PatternFinder:
    return lambda text: (m.span() for m in pattern.finditer(text) if ok(m.group()))


_PEM = re.compile(
    r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[A-Za-z0-9+/=\s:,-]*?"
    r"-----END (?:[A-Z]+ )*PRIVATE KEY-----"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")
_API_KEY = re.compile(
    r"(?<![A-Za-z0-9_-])(?:"
    r"sk-(?:proj-|ant-(?:api\d\d-)?|live_|test_)?[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic
    r"|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe
    r"|gh[pousr]_[A-Za-z0-9]{36,}"  # GitHub
    r"|github_pat_[A-Za-z0-9_]{40,}"
    r"|(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"  # AWS access key ids
    r"|xox[baprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|AIza[0-9A-Za-z_-]{35}"  # Google
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|hf_[A-Za-z0-9]{30,}"  # Hugging Face
    r")"
)
_URL_CREDENTIALS = re.compile(
    r"\b[A-Za-z][A-Za-z0-9+.-]{1,15}://[^\s:/@]+:[^\s/@]+@[^\s/?#]+"
    r"(?:[/?#]\S*[^\s.,;:!?)\]'\"])?"  # the path, without trailing punctuation
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+/-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b"
)
_CARD = re.compile(r"(?<![\d-])[2-6]\d{3}(?:[ -]?\d{2,4}){2,4}\d?(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(
    rf"(?<![\w.])(?<!version )(?<!v)(?<!V){_OCTET}(?:\.{_OCTET}){{3}}(?!\.\d)(?![\w])"
)
_IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::{1,2}[0-9A-Fa-f]{0,4}){2,8}(?![\w:])")
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d )(?:"
    r"\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){2,5}"  # international
    r"|\(\d{3}\) ?\d{3}[-. ]\d{4}"  # (212) 555-0143
    r"|\d{3}[-.]\d{3}[-.]\d{4}"  # 212-555-0143
    r"|0\d{2,4} \d{3,4} \d{3,4}"  # 020 7946 0958
    r"|0[1-9](?:[ .]\d{2}){4}"  # 01 23 45 67 89
    r"|0\d{2,4}/\d{4,8}"  # 030/12345678
    r")(?![\w-])(?! \d)"
)
_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{20,}(?![A-Za-z0-9+/_=-])")


def _card_ok(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _phone_ok(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return 8 <= digits <= 15 if text.startswith("+") else 9 <= digits <= 12


def _ipv6(text: str) -> Iterable[tuple[int, int]]:
    for m in _IPV6_CANDIDATE.finditer(text):
        value = m.group()
        if sum(1 for g in value.split(":") if g) < 3:
            continue
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            continue
        yield m.span()


def _ip(text: str) -> Iterable[tuple[int, int]]:
    yield from (m.span() for m in _IPV4.finditer(text))
    yield from _ipv6(text)


_HEX = frozenset("0123456789abcdefABCDEF")
_LOWER_RUN = re.compile(r"[a-z]{3,}")


def _class(ch: str) -> int:
    if ch.islower():
        return 0
    if ch.isupper():
        return 1
    return 2 if ch.isdigit() else 3


def _high_entropy_ok(token: str) -> bool:
    alnum = [ch for ch in token if ch.isalnum()]
    if len({_class(ch) for ch in alnum}) < 2 or all(ch in _HEX for ch in alnum):
        return False
    in_words = sum(len(run) for run in _LOWER_RUN.findall(token))
    return in_words * 10 < len(token) * 4 and entropy(list(token)) >= 3.5


DETECTORS: dict[str, PatternFinder] = {
    "private_key": _spans(_PEM),
    "jwt": _spans(_JWT),
    "api_key": _spans(_API_KEY),
    "url_credentials": _spans(_URL_CREDENTIALS),
    "email": _spans(_EMAIL),
    "iban": _checked(_IBAN, iban_valid),
    "card": _checked(_CARD, _card_ok),
    "ip": _ip,
    "phone": _checked(_PHONE, _phone_ok),
    "high_entropy": _checked(_TOKEN, _high_entropy_ok),
}
"""The built-in detectors by type, in the order they claim text (earlier ones win)."""

SECRET_TYPES = ("private_key", "jwt", "api_key", "url_credentials")
"""The key and token detectors: what ``leakage`` always drops when found in outputs."""


def find(
    text: str,
    types: Iterable[str] = DETECTORS,
    extra: Iterable[tuple[str, PatternFinder]] = (),
) -> list[Finding]:
    """Every finding in ``text``, sorted by position, without overlaps: extra patterns
    claim text first, then the built-in ``types`` in ``DETECTORS`` order."""
    wanted = set(types)
    order = [*extra, *((t, f) for t, f in DETECTORS.items() if t in wanted)]
    taken: list[Finding] = []
    for type_, finder in order:
        for start, end in finder(text):
            if end <= start or any(start < f.end and f.start < end for f in taken):
                continue
            taken.append(Finding(type_, start, end, text[start:end]))
    return sorted(taken, key=lambda f: f.start)


@dataclass
class Numbering:
    """One number per distinct value and type, shared by the fields of one record."""

    numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    next: Counter[str] = field(default_factory=Counter)

    def label(self, type_: str, value: str) -> str:
        key = (type_, value)
        if key not in self.numbers:
            self.next[type_] += 1
            self.numbers[key] = self.next[type_]
        return f"{type_.upper()}_{self.numbers[key]}"


def scrub(
    text: str,
    types: Iterable[str] = DETECTORS,
    extra: Iterable[tuple[str, PatternFinder]] = (),
    numbering: Numbering | None = None,
) -> tuple[str, Counter[str]]:
    """``text`` with each finding replaced by ``[TYPE]`` (``[TYPE_n]`` with a
    ``numbering``), and the count of findings per type."""
    counts: Counter[str] = Counter()
    parts: list[str] = []
    at = 0
    for f in find(text, types, extra):
        counts[f.type] += 1
        label = numbering.label(f.type, f.value) if numbering is not None else f.type.upper()
        parts += [text[at : f.start], f"[{label}]"]
        at = f.end
    parts.append(text[at:])
    return "".join(parts), counts
