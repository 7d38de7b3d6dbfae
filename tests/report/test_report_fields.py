"""The report measures the text a model wrote, not the source fields it was asked about.

Runs go through ``synthdsl run`` (in-process) against the loopback fake OpenAI server;
the compiled recipe says which output fields LLM nodes wrote, the manifest records
them, and the report's lengths and diversity sections measure those fields.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from synthdsl.api import validate
from synthdsl.cli import main as cli_main
from synthdsl.report import build_report
from synthdsl.testing.fake_openai import FakeOpenAIServer

# A long source field: by length alone it would be the first field measured.
TOPIC = " ".join(["history of the printing press in early modern Europe"] * 6)

QUICKSTART_LIKE = """
synthdsl: 1
name: quickstart-like
models:
  gen: {{model: openai/fake, api_base: "{base}", max_tokens: 60}}
sources:
  topics: {{records: [{topics}]}}
steps:
  - id: ask
    from: topics
    generate: {{template: "Ask about {{{{ topic }}}}", model: gen, into: instruction}}
  - id: answer
    generate: {{template: "Answer: {{{{ instruction }}}}", model: gen, into: response}}
  - id: score
    judge: {{template: "Rate {{{{ response }}}} [[score: 7]]", model: gen, scale: [1, 10]}}
  - id: keep
    filter: "score >= 3"
output: {{from: keep, shape: records}}
"""

SOURCE_ONLY = """
synthdsl: 1
name: source-only
sources:
  topics: {{records: [{topics}]}}
steps:
  - id: tag
    from: topics
    set: {{kind: "t"}}
"""


def _write(project: Path, text: str, base: str = "") -> Path:
    topics = ", ".join(f'{{topic: "{TOPIC} {i}"}}' for i in range(6))
    recipe = project / "recipe.yaml"
    recipe.write_text(text.format(base=base, topics=topics), "utf-8")
    return recipe


def _section(html: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', html, re.S)
    assert match, f"no section {sid}"
    return match.group(1)


def test_compiled_recipe_names_the_fields_llm_nodes_wrote(
    server: FakeOpenAIServer, project: Path
) -> None:
    compiled = validate(_write(project, QUICKSTART_LIKE, server.base_url))
    assert compiled.generated_fields == {
        "instruction": "ask",
        "response": "answer",
        "score": "score",
    }
    assert validate(_write(project, SOURCE_ONLY)).generated_fields == {}


def test_report_measures_generated_fields_not_the_topic(
    server: FakeOpenAIServer, project: Path
) -> None:
    recipe = _write(project, QUICKSTART_LIKE, server.base_url)
    out = project / "out"
    assert cli_main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["generated_fields"] == {
        "instruction": "ask",
        "response": "answer",
        "score": "score",
    }
    html = build_report(out)
    for sid in ("lengths", "diversity"):
        section = _section(html, sid)
        assert "instruction" in section and "response" in section, sid
        assert "topic" not in section, sid
    assert "(written by a model)" in _section(html, "lengths")
    # --field still chooses
    chosen = _section(build_report(out, ["topic"]), "lengths")
    assert "<code>topic</code>" in chosen and "<code>response</code>" not in chosen


def test_source_only_recipe_measures_its_longest_fields(project: Path) -> None:
    recipe = _write(project, SOURCE_ONLY)
    out = project / "out"
    assert cli_main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["generated_fields"] == {}
    section = _section(build_report(out), "lengths")
    assert "<code>topic</code>" in section
    assert "written by a model" not in section
