"""Filter-expression functions: ``email_count(text)`` and ``email_domain(text)``.

    filter: "email_count(response) == 0"
    when: 'email_domain(text) == "example.com"'

Their signatures are typed: synthdsl rejects ``email_count(3)`` when it checks the
recipe, and passes these functions strings only.
"""

from __future__ import annotations

from synthdsl.lang.expr import FunctionSpec
from synthdsl_example_plugin import EMAIL


def email_count(text: str) -> int:
    return len(EMAIL.findall(text))


def email_domain(text: str) -> str:
    found = EMAIL.search(text)
    return found.group(1).lower() if found else ""


FUNCTIONS = [
    FunctionSpec.typed(
        "email_count", email_count, ("string",), "int", "number of e-mail addresses in a text"
    ),
    FunctionSpec.typed(
        "email_domain",
        email_domain,
        ("string",),
        "string",
        "domain of the first e-mail address in a text ('' when there is none)",
    ),
]
