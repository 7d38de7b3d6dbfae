"""``redact`` then ``generate`` then ``leakage``, end to end against the fake server.

Each source row holds the proprietary ``text`` and a ``steer`` field with a ``[[reply:
...]]`` directive for the server (kept apart, so the directive is neither redacted nor
counted as source text): the answers are a copy of a long span of the text, a
paraphrase, and one carrying an API key.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_completed

from synthdsl.testing.fake_openai import FakeOpenAIServer

SECRET_DOC = (
    "Contact Dana at dana.reyes@acme-corp.example or +1 (415) 555-2671; the escalation "
    "process for enterprise accounts requires two approvals from the regional finance lead "
    "before any discount above fifteen percent is granted."
)
COPIED = (
    "the escalation process for enterprise accounts requires two approvals from the "
    "regional finance lead"
)
KEY = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF2hJ4"


def test_redact_generate_leakage(server: FakeOpenAIServer, project: Path) -> None:
    replies = [
        f"In summary, {COPIED} before big discounts.",
        "Big discounts need sign-off from finance.",
        f"Call the API with {KEY} to check.",
    ]
    with (project / "docs.jsonl").open("w", encoding="utf-8") as f:
        for reply in replies:
            f.write(json.dumps({"text": SECRET_DOC, "steer": f"[[reply: {reply}]]"}) + "\n")
    recipe = project / "recipe.yaml"
    recipe.write_text(
        """synthdsl: 1
sources:
  docs: {path: docs.jsonl}
steps:
  - id: scrub
    redact: {fields: [text], numbered: true}
  - id: answer
    generate:
      template: "Summarise: {{ text }} {{ steer }}"
      into: answer
  - id: leak
    leakage: {fields: [answer], source_fields: [text], n: 12}
output: {from: leak, shape: records, fields: [text, answer]}
""",
        encoding="utf-8",
    )
    rows, rejects, manifest = run_completed(
        recipe, project / "out", "--model", "openai/fake", "--api-base", server.base_url
    )
    sent = json.dumps(server.conversations())
    assert "dana.reyes@acme-corp.example" not in sent and "555-2671" not in sent
    assert "[EMAIL_1]" in sent and "[PHONE_1]" in sent
    assert [r["answer"] for r in rows] == [replies[1]]
    reasons = sorted(r["reason"] for r in rejects)
    assert reasons == [
        f'leakage: answer copies 15 words: "{COPIED} before"',  # "before" is in both
        "leakage: secret (api_key) in answer",
    ]
    nodes = manifest["nodes"]
    assert nodes["scrub"]["redacted"] == {"email": 3, "phone": 3}
    assert nodes["leak"]["leakage"] == {
        "checked": 3,
        "copies": 1,
        "secrets": 1,
        "rate": round(1 / 3, 6),
        "n": 12,
    }
