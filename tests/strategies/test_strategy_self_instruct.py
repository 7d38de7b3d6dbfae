"""The Self-Instruct strategy (synthdsl/builtin/recipes/self_instruct.yaml) against the fake server.

The fake server's replies are steered from the prompts: the test points the strategy's
``prompts`` parameter at a directory of templates that include the real ones
(synthdsl/builtin/prompts/self_instruct/*.j2) and then append a ``[[reply: ...]]`` directive, so every
real prompt is rendered and every reply is known in advance.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import run_completed

from synthdsl.cli import main
from synthdsl.records import derive_id
from synthdsl.testing.fake_openai import FakeOpenAIServer
from synthdsl.textproc.similarity import rouge_l_text

REPO = Path(__file__).resolve().parents[2]
STRATEGY = REPO / "synthdsl" / "builtin" / "recipes" / "self_instruct.yaml"
SEEDS_FILE = REPO / "examples" / "data" / "self_instruct_seeds.jsonl"

# Ten seeds: the first three in the paper's format, the rest plain instruction rows.
SEEDS: list[dict[str, Any]] = [
    {
        "instruction": "Classify the sentiment of the following movie review as positive or negative.",
        "instances": [{"input": "A slow, beautiful film.", "output": "positive"}],
        "is_classification": True,
    },
    {
        "instruction": "Give three tips for sleeping better during a heatwave.",
        "instances": [{"input": "", "output": "Close the blinds by day, ..."}],
        "is_classification": False,
    },
    {
        "instruction": "Convert the recipe quantities for twice as many people.",
        "instances": [{"input": "200 g rice, 1 onion", "output": "400 g rice, 2 onions"}],
        "is_classification": False,
    },
    {"instruction": "Explain the difference between weather and climate to a teenager."},
    {"instruction": "Write a limerick about a cat who hates Mondays."},
    {"instruction": "Find the grammatical subject of the sentence."},
    {"instruction": "Estimate the cost of painting a small bedroom, listing the materials."},
    {"instruction": "Suggest a weekend itinerary for two days in Lisbon."},
    {"instruction": "Rank the planets of the solar system by their distance from the Sun."},
    {"instruction": "Tell whether the number in the input is divisible by three."},
]
SEED_TEXTS = {s["instruction"] for s in SEEDS}
FIELDS = {"instruction", "input", "output", "is_classification"}

NEAR_DUPLICATE = "Classify the sentiment of this movie review as positive or negative."
SPAM_TASK = "Decide whether the following email is spam or not spam."
BAKERY_TASK = "Suggest three names for a bakery that sells sourdough bread."
BEYOND_7 = "Name a famous bridge on each continent and say why it is famous."
ROUND1_REPLY = "\n".join(
    [
        f"9. {NEAR_DUPLICATE}",
        "10. Describe the picture hanging in your living room in detail.",
        "11. Write a program that prints the first ten prime numbers.",
        "12. ¿Qué hora es ahora mismo en Madrid y en Lima?",
        '13. "Hello" is a common greeting; explain where the word comes from.',
        f"14. {SPAM_TASK}",
        f"15. {BAKERY_TASK}",
        f"16. {BEYOND_7}",  # an eighth task: past tasks_per_prompt (7), never read
    ]
)
ROUND2_TASKS = [
    "Explain how a bill becomes a law in a parliamentary system.",
    "Estimate how long it takes to walk five kilometres at a normal pace.",
    "Rewrite the following sentence in the passive voice.",
]
ROUND2_REPLY = "\n".join(
    ["9. Plot the monthly rainfall of Lisbon over the last year.", "10. Sort numbers."]
    + [f"{i}. {task}" for i, task in enumerate(ROUND2_TASKS, start=11)]
)


def _instances(items: list[dict[str, str]]) -> str:
    return json.dumps({"instances": items}, ensure_ascii=False)


# output-first (label first): seven examples, of which only the first five are read
SPAM_EXAMPLES = [
    {"output": "Spam", "input": "You have won a cruise! Send your bank details to claim it."},
    {"output": "Not spam", "input": "Can we move tomorrow's meeting to 3 pm?"},
    {"output": "Spam", "input": "Can we move tomorrow's meeting to 3 pm?"},  # same input
    {"output": "", "input": "Hello there"},  # empty output
    {"label": "Not spam", "input": "Your parcel was left at the front desk."},  # no 'output'
    {"output": "Spam", "input": "Cheap watches, 90% off, today only."},  # sixth: never read
    {"output": "Not spam", "input": "Minutes of Monday's meeting attached."},  # seventh
]
# input-first: the same reply for every other task
GENERAL_EXAMPLES = [
    {"input": "", "output": "Crumb & Co."},
    {"input": "", "output": "The Rising Loaf"},
    {"input": "", "output": "the rising loaf"},  # duplicate of the previous one once case-folded
    {"input": "Dough", "output": "Dough"},  # output repeats the input
    {"input": "Flour:", "output": "Half a kilo"},  # input ends with ':'
]


def _write_prompts(directory: Path, propose_reply: str | None = None) -> None:
    """Templates that render the real prompt, then pin the fake server's reply.

    The proposal reply is ROUND1_REPLY while every demonstration is a seed, ROUND2_REPLY
    once machine-made tasks are shown (or ``propose_reply`` for every prompt).
    """
    directory.mkdir()
    real = "prompts/self_instruct"
    machine_demos = (
        f'si_demos | map(attribute="instruction") | reject("in", {json.dumps(sorted(SEED_TEXTS))})'
    )
    propose = (
        propose_reply
        if propose_reply is not None
        else f"{{% if {machine_demos} | list %}}[[reply: {ROUND2_REPLY}]]"
        f"{{% else %}}[[reply: {ROUND1_REPLY}]]{{% endif %}}"
    )
    (directory / "propose.j2").write_text(
        f'{{% include "{real}/propose.j2" %}}\n{propose}\n', encoding="utf-8"
    )
    (directory / "classify.j2").write_text(
        f'{{% include "{real}/classify.j2" %}}\n'
        '{% if "spam" in instruction %}[[reply: {"is_classification": true}]]'
        '{% else %}[[reply: {"is_classification": false}]]{% endif %}\n',
        encoding="utf-8",
    )
    (directory / "output_first.j2").write_text(
        f'{{% include "{real}/output_first.j2" %}}\n[[reply: {_instances(SPAM_EXAMPLES)}]]\n',
        encoding="utf-8",
    )
    (directory / "input_first.j2").write_text(
        f'{{% include "{real}/input_first.j2" %}}\n[[reply: {_instances(GENERAL_EXAMPLES)}]]\n',
        encoding="utf-8",
    )


def _run(
    project: Path,
    server: FakeOpenAIServer,
    *,
    seeds_source: str = "{path: seeds.jsonl}",
    with_: dict[str, Any] | None = None,
    propose_reply: str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    _write_prompts(project / "test_prompts", propose_reply)
    seeds = project / "seeds.jsonl"
    seeds.write_text("".join(json.dumps(s) + "\n" for s in SEEDS), encoding="utf-8")
    params: dict[str, Any] = {"prompts": str(project / "test_prompts")}
    params.update(
        with_ if with_ is not None else {"target": 4, "rounds": 5, "prompts_per_round": 2}
    )
    recipe = project / "user.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: si-test
sources:
  seeds: {seeds_source}
steps:
  - id: si
    from: seeds
    use: {STRATEGY}
    with: {json.dumps(params)}
output: {{from: si}}
""",
        encoding="utf-8",
    )
    args = ["--model", "openai/fake", "--api-base", server.base_url]
    return run_completed(recipe, project / "out", *args)


def _demos(reject: dict[str, Any]) -> list[dict[str, Any]]:
    demos: list[dict[str, Any]] = reject["record"]["si_demos"]
    return demos


def test_self_instruct_mechanics(server: FakeOpenAIServer, project: Path) -> None:
    rows, rejects, manifest = _run(project, server)
    nodes = manifest["nodes"]

    def rejected(node: str, reason_start: str) -> list[dict[str, Any]]:
        return [
            r for r in rejects if r["node"] == f"si.{node}" and r["reason"].startswith(reason_start)
        ]

    # --- demonstrations: 8 per prompt; all human in round 1, 6 + 2 machine-made later
    assert nodes["si.tasks.propose"]["calls"] == 4  # 2 rounds x 2 prompts
    # (each prompt's excluded-word task is rejected with the record as it entered the
    # filter, demonstrations included)
    excluded = rejected("tasks.keywords", "instruction: excluded word")
    round1 = [r for r in excluded if r["round"] == 1]
    round2 = [r for r in excluded if r["round"] == 2]
    assert len(round1) == 2 and len(round2) == 2  # one per prompt
    for reject in round1:
        demos = _demos(reject)
        assert len(demos) == 8 and all(d["instruction"] in SEED_TEXTS for d in demos)
        assert len({d["instruction"] for d in demos}) == 8
    machine_places = set()
    for reject in round2:
        assert reject["record"]["instruction"].startswith("Plot the")
        demos = _demos(reject)
        machine = [d for d in demos if d["instruction"] not in SEED_TEXTS]
        assert len(demos) == 8 and len(machine) == 2
        assert sorted(d["instruction"] for d in machine) == sorted([SPAM_TASK, BAKERY_TASK])
        # accepted tasks keep only their instruction: demonstrations do not nest
        assert all(set(d) == {"instruction"} for d in machine)
        machine_places.add(tuple(i for i, d in enumerate(demos) if d in machine))
    # shuffled: the machine-made demonstrations are not always the last two
    assert machine_places - {(6, 7)}

    # --- instruction filters, each with its reason
    reasons = {
        r["record"]["instruction"]: r["reason"]
        for r in rejects
        if r["node"].startswith("si.tasks.")
    }
    assert nodes["si.tasks.split"]["out"] == 2 * 7 + 2 * 5  # 7 of 8 per reply in round 1
    assert BEYOND_7 not in reasons and BEYOND_7 not in {row["instruction"] for row in rows}
    assert reasons["Describe the picture hanging in your living room in detail."] == (
        "instruction: excluded word"
    )
    assert reasons["Write a program that prints the first ten prime numbers."] == (
        "instruction: starts with 'Write a program'"
    )
    assert reasons["Sort numbers."] == "instruction: fewer than 4 or more than 150 words"
    assert reasons["¿Qué hora es ahora mismo en Madrid y en Lima?"] == (
        "instruction: starts with a non-ASCII character"
    )
    assert reasons['"Hello" is a common greeting; explain where the word comes from.'] == (
        "instruction: starts with punctuation"
    )

    # --- ROUGE-L against the pool: the near-duplicate of seed 0, its neighbour recorded
    near = [
        r
        for r in rejected("tasks.novel", "near duplicate")
        if r["record"]["instruction"] == NEAR_DUPLICATE
    ]
    assert near and near[0]["round"] == 1
    assert near[0]["reason"] == "near duplicate (rouge_l >= 0.7)"
    assert near[0]["detail"]["duplicate_of"] == derive_id("seeds", (), 0)
    expected = rouge_l_text(NEAR_DUPLICATE, SEEDS[0]["instruction"])
    assert near[0]["detail"]["score"] == pytest.approx(expected, abs=1e-4) and expected >= 0.7
    # the second prompt of a round got the same reply: its tasks are exact duplicates
    assert nodes["si.tasks.novel"]["dropped"]["duplicate (exact)"] >= 2

    # --- target stops the loop: 2 tasks in round 1, 3 in round 2, one past the target
    loop = nodes["si.tasks"]["loop"]
    assert loop == {"rounds_run": 2, "made": 4, "target": 4}
    (past,) = [r for r in rejects if r["reason"] == "loop target reached"]
    assert past["record"]["instruction"] == ROUND2_TASKS[-1]
    tasks = {row["instruction"] for row in rows}
    assert tasks == {SPAM_TASK, BAKERY_TASK, *ROUND2_TASKS[:2]}

    # --- classification routes the task to the output-first or the input-first prompt
    assert nodes["si.classify"]["calls"] == 4
    assert nodes["si.output_first"]["calls"] == 1 and nodes["si.output_first"]["bypassed"] == 3
    assert nodes["si.input_first"]["calls"] == 3 and nodes["si.input_first"]["bypassed"] == 1
    # the output records: the instance and a top-level boolean, working fields trimmed
    assert all(set(row) == {*FIELDS, "_provenance"} for row in rows)
    spam = [row for row in rows if row["instruction"] == SPAM_TASK]
    assert all(row["is_classification"] is True for row in spam)
    assert all(row["output"] in {"Spam", "Not spam"} for row in spam)
    others = [row for row in rows if row["instruction"] != SPAM_TASK]
    assert all(row["is_classification"] is False for row in others)

    # --- at most 5 instances per task, then invalid, duplicate and conflicting ones go
    # (the JSON list is exploded, each item's input and output become fields; the item
    # without an 'output' key is skipped and counted)
    split = nodes["si.split_instances"]
    assert split["in"] == 4 and split["out"] == 4 + 3 * 5
    assert split["sample_failures"] == {"invalid item": 1}
    seen_inputs = {r["record"].get("input") for r in rejects} | {row["input"] for row in rows}
    assert not seen_inputs & {SPAM_EXAMPLES[4]["input"], SPAM_EXAMPLES[5]["input"]}
    assert not seen_inputs & {SPAM_EXAMPLES[6]["input"]}
    assert sorted((row["input"], row["output"]) for row in spam) == sorted(
        (e["input"], e["output"]) for e in SPAM_EXAMPLES[:2]
    )
    (conflict,) = rejected("consistent", "duplicate (exact)")
    assert conflict["record"]["input"] == SPAM_EXAMPLES[2]["input"]
    assert conflict["record"]["output"] == "Spam"
    assert len(rejected("has_output", "instance: empty output")) == 1
    assert len(rejected("not_echo", "instance: the output repeats the input")) == 3
    assert len(rejected("complete", "instance: input or output ends with ':'")) == 3
    assert len(rejected("unique_instances", "duplicate (exact)")) == 3
    for task in others:  # empty inputs with different outputs are not conflicts
        assert task["input"] == ""
    assert sorted(row["output"] for row in others) == sorted(["Crumb & Co.", "The Rising Loaf"] * 3)
    assert len(rows) == 2 + 3 * 2
    per_task: dict[str, int] = {}
    for row in rows:
        per_task[row["instruction"]] = per_task.get(row["instruction"], 0) + 1
    assert max(per_task.values()) <= 5


def test_truncated_proposals_are_dropped_and_seeds_can_be_lines(
    server: FakeOpenAIServer, project: Path
) -> None:
    # a plain text file, one task per line (blank lines skipped)
    lines = [s["instruction"] for s in SEEDS]
    (project / "seeds.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    # every proposal is 40 words, cut at 10 tokens: the whole reply is dropped
    rows, rejects, manifest = _run(
        project,
        server,
        seeds_source="{path: seeds.txt, format: lines, text_field: instruction}",
        with_={"target": 4, "rounds": 2, "prompts_per_round": 2, "max_tokens": 10},
        propose_reply="[[words: 40]]",
    )
    nodes = manifest["nodes"]
    assert rows == [] and nodes["si.tasks"]["loop"]["made"] == 0
    assert nodes["si.tasks.propose"]["calls"] == 4
    assert nodes["si.tasks.propose"]["dropped"] == {"truncated reply (max_tokens reached)": 4}
    assert nodes["si.tasks.split"]["in"] == 0
    cut = [r for r in rejects if r["node"] == "si.tasks.propose"]
    assert [r["round"] for r in cut] == [1, 1, 2, 2]
    for reject in cut:  # the demonstrations are the file's lines
        demos = _demos(reject)
        assert len(demos) == 8 and {d["instruction"] for d in demos} <= SEED_TEXTS
        assert all(
            d["path"] == "seeds.txt" and lines.index(d["instruction"]) * 2 + 1 == d["line"]
            for d in demos
        )


def test_seed_file_is_in_the_papers_format() -> None:
    rows = [json.loads(x) for x in SEEDS_FILE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 40
    for row in rows:
        assert set(row) == {"id", "name", "instruction", "instances", "is_classification"}
        assert isinstance(row["is_classification"], bool)
        assert 1 <= len(row["instances"]) <= 2
        assert all(set(i) == {"input", "output"} and i["output"] for i in row["instances"])
    share = sum(r["is_classification"] for r in rows) / len(rows)
    assert 0.15 <= share <= 0.4
    texts = [r["instruction"] for r in rows]
    assert len(set(texts)) == len(texts)
    # the seeds pass the strategy's own instruction filters and are not near-duplicates
    excluded = re.compile(r"(?i)\b(images?|graphs?|pictures?|files?|maps?|draw|plot|go to)\b")
    for text in texts:
        assert 4 <= len(text.split()) <= 150 and not excluded.search(text)
    worst = max(rouge_l_text(a, b) for i, a in enumerate(texts) for b in texts[i + 1 :])
    assert worst < 0.7


ALPACA_EXCLUDED = (
    r"(?i)\b(images?|graphs?|pictures?|files?|maps?|draw|plot|go to"
    r"|video|audio|music|flowchart|diagram)\b"
)


def test_alpaca_word_list_is_a_valid_parameter(project: Path) -> None:
    recipe = project / "user.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
sources:
  seeds: {{records: [{{instruction: "Name a river in Europe."}}]}}
steps:
  - id: si
    from: seeds
    use: {STRATEGY}
    with:
      excluded_words: '{ALPACA_EXCLUDED}'
""",
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 0


def test_docs_example_validates(project: Path) -> None:
    """The complete recipe in docs/strategies/self_instruct.md, in a project with the
    examples' seed set; ``use: self_instruct`` finds the built-in strategy."""
    doc = (REPO / "docs" / "strategies" / "self_instruct.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```$", doc, flags=re.DOTALL | re.MULTILINE)
    assert blocks and blocks[0].startswith("synthdsl: 1")
    shutil.copytree(REPO / "examples" / "data", project / "examples" / "data")  # the seeds
    recipe = project / "doc.yaml"
    recipe.write_text(blocks[0], encoding="utf-8")
    assert main(["validate", str(recipe)]) == 0
