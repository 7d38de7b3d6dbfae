"""The ``redact`` kind: config errors at their spans, scrubbing fields, manifest counts."""

from __future__ import annotations

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.redact import RedactConfig

from .kit import (
    FILE,
    FakeRuntime,
    configure,
    described,
    emitted,
    failed,
    make_node,
    make_records,
    run_map,
)

KIND = node_kind("redact")


def config(options: str) -> RedactConfig:
    done = configure(
        f"""
        steps:
          - id: scrub
            redact: {options}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: RedactConfig = done.config
    return cfg


def test_bad_configs_are_located() -> None:
    done = configure(
        """
        steps:
          - id: scrub
            redact:
              fields: [text]
              types: [email, phnoe]
              patterns:
                EMPLOYEE_ID: "EMP-(\\\\d+"
                ok_name: "a(?=b)"
                "bad name": "x"
                email: "y"
        """
    )
    assert done.at("unknown redact type 'phnoe'") == Span(FILE, 5, 22)
    assert [d.hint for d in done.diagnostics if "phnoe" in d.message] == ["did you mean 'phone'?"]
    assert done.at("bad regex for 'EMPLOYEE_ID'") == Span(FILE, 7, 22)
    assert done.at("bad regex for 'ok_name'") == Span(FILE, 8, 18)  # RE2: no lookahead
    assert done.at("pattern name 'bad name'") == Span(FILE, 9, 9)
    assert done.at("pattern name 'email' is a built-in type") == Span(FILE, 10, 9)
    assert done.config.types == ["email"]
    missing = configure(
        """
        steps:
          - id: scrub
            redact: {types: [email]}
        """
    )
    assert missing.at("redact needs 'fields'") == Span(FILE, 3, 13)


async def test_scrubs_fields_and_counts_per_type() -> None:
    cfg = config('{fields: [text, notes], patterns: {TICKET: "TCK-[0-9]{5}"}, numbered: true}')
    assert KIND.read_fields(cfg) == [("text", Span(FILE, 3, 23)), ("notes", Span(FILE, 3, 29))]
    rt = FakeRuntime()
    records = make_records(
        {
            "text": "From ann@corp.com (TCK-12345): card 4111 1111 1111 1111, ann@corp.com",
            "notes": ["server 10.1.2.3", {"to": "bob@corp.com"}],
            "keep": "ann@corp.com",
        },
        {"text": "Nothing personal here.", "notes": None, "keep": 1},
        {"notes": "no text field"},
    )
    outcomes = await run_map(KIND.map_runner(make_node("redact", cfg, "scrub"), rt), records)
    first = emitted(outcomes[0])[0].data
    assert first["text"] == "From [EMAIL_1] ([TICKET_1]): card [CARD_1], [EMAIL_1]"
    assert first["notes"] == ["server [IP_1]", {"to": "[EMAIL_2]"}]
    assert first["keep"] == "ann@corp.com"  # only the named fields are scrubbed
    assert emitted(outcomes[1])[0].data == records[1].data
    assert "no field 'text'" in failed(outcomes[2]).message
    assert rt.notes["scrub"] == {
        "redacted": {"TICKET": 1, "card": 1, "email": 3, "ip": 1},
        "records_changed": 1,
    }


async def test_types_select_detectors() -> None:
    cfg = config("{fields: [text], types: [phone]}")
    assert described(KIND, cfg) == {"fields": ["text"], "types": ["phone"]}
    rt = FakeRuntime()
    [outcome] = await run_map(
        KIND.map_runner(make_node("redact", cfg, "scrub"), rt),
        make_records({"text": "ann@corp.com, (212) 555-0143"}),
    )
    assert emitted(outcome)[0].data["text"] == "ann@corp.com, [PHONE]"
    assert rt.notes["scrub"]["redacted"] == {"phone": 1}
