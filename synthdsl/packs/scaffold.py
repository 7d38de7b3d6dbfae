"""``pack new NAME``: the files of a starter pack that validates and runs as is.

Input: a pack name (checked against ``manifest.NAME_RE``). Output: ``pack_files(name)``,
relative path → text: ``pack.yaml`` exporting one recipe, ``recipes/questions.yaml``
(typed parameters: an enum, a bounded integer, a model alias; runs on the embedded
model, no key, no network), its prompt, a few seed topics and a README saying how to
validate, run, share and install it. Writing them is the CLI's job. Raises
``ValueError`` for a name that is not a valid pack name.
"""

from __future__ import annotations

from synthdsl.packs.manifest import NAME_RE

__all__ = ["pack_files"]

_MANIFEST = """\
# A synthdsl recipe pack (format: docs/packs.md in the synthdsl repository).
name: {name}
version: 0.1.0
description: Questions about a list of topics (a starter pack; make it yours).
license: Apache-2.0
synthdsl: ">=0.1"
recipes:
  questions:
    file: recipes/questions.yaml
    description: One question per seed topic, short or detailed.
"""

_RECIPE = """\
# Exported by the pack as {name}/questions. Use it from a recipe with:
#   - id: qs
#     use: {name}/questions@^0.1
#     with: {{style: detailed}}
# Paths are relative to this file; a pack reads only its own files.
synthdsl: 1
name: questions
description: One question per seed topic, short or detailed, kept when long enough.
params:
  style:
    {{type: enum, choices: [short, detailed], default: short, description: "how questions read"}}
  min_words:
    {{type: integer, min: 1, max: 50, default: 3, description: "shortest question kept, in words"}}
  model: {{type: model, default: gen, description: "model alias writing the questions"}}
models:
  gen: {{model: local/smollm2, temperature: 0.7, max_tokens: 64, seed: 7}}
sources:
  topics: {{path: ../data/topics.jsonl}}
steps:
  - id: ask
    from: topics
    generate: {{prompt: prompts/question.j2, model: "${{model}}", into: question}}
  - id: keep
    filter:
      expr: "words(question) >= ${{min_words}}"
      reason: "question too short"
output: {{from: keep}}
"""

_PROMPT = """\
Topic: {{ topic }}

{% if params.style == "detailed" -%}
Write one detailed question, two sentences long, that an expert could ask about this topic.
{%- else -%}
Write one short question that a curious student could ask about this topic.
{%- endif %}
Output only the question, ending with a question mark.
"""

_TOPICS = """\
{"topic": "photosynthesis"}
{"topic": "binary search"}
{"topic": "the water cycle"}
"""

_README = """\
# {name}

A synthdsl recipe pack. It exports:

- `{name}/questions`: one question per seed topic (`data/topics.jsonl`); parameters
  `style` (short | detailed), `min_words` (1..50), `model` (a model alias).

Check and try it:

    synthdsl pack show ./{name}          # after installing: synthdsl pack show {name}
    synthdsl validate recipes/questions.yaml
    synthdsl run recipes/questions.yaml  # on the embedded model: no key, no network

Install it in a project, then use it from a recipe:

    synthdsl pack install ./{name}       # or a .tar.gz / .zip, a URL, git+URL@TAG
    # recipe.yaml:   - id: qs
    #                  use: {name}/questions@^0.1
    #                  with: {{style: detailed}}

Share it as a git repository (tag each version: `git tag v0.1.0`) or an archive
(`tar czf {name}-0.1.0.tar.gz {name}`). Bump `version` in `pack.yaml` when it changes.
"""


def pack_files(name: str) -> dict[str, str]:
    """The starter pack's files, relative path → text."""
    if not NAME_RE.match(name):
        raise ValueError(
            f"'{name}' is not a valid pack name: use lower-case letters, digits, '-' and "
            "'_', starting with a letter"
        )
    return {
        "pack.yaml": _MANIFEST.format(name=name),
        "recipes/questions.yaml": _RECIPE.format(name=name),
        "prompts/question.j2": _PROMPT,
        "data/topics.jsonl": _TOPICS,
        "README.md": _README.format(name=name),
    }
