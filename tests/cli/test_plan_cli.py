"""Plans and the CLI around them: goldens, formats, overrides, exit codes, start-up.

Plan goldens live in tests/fixtures/plans/<example>.plan.json; regenerate them only on
purpose with SYNTHDSL_REGEN_GOLDENS=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.compile import CompileOptions, compile_recipe
from synthdsl.plan import build_plan

REPO = Path(__file__).resolve().parents[2]
GOLDENS = REPO / "tests" / "fixtures" / "plans"
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
REGEN = os.environ.get("SYNTHDSL_REGEN_GOLDENS") == "1"


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("SYNTHDSL_MODEL", raising=False)


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_plans_match_goldens(example: Path) -> None:
    plan = build_plan(compile_recipe(example.relative_to(REPO))).to_json()
    golden = GOLDENS / f"{example.stem}.plan.json"
    if REGEN:
        golden.write_text(plan, encoding="utf-8")
    assert golden.exists(), f"no golden for {example.name}: run with SYNTHDSL_REGEN_GOLDENS=1"
    assert plan == golden.read_text(encoding="utf-8")


def test_plan_is_deterministic_and_hash_tracks_changes(tmp_path: Path) -> None:
    first = build_plan(compile_recipe("examples/quickstart.yaml"))
    again = build_plan(compile_recipe("examples/quickstart.yaml"))
    assert first.to_json() == again.to_json()
    changed = build_plan(
        compile_recipe(
            "examples/quickstart.yaml",
            CompileOptions(set_values=["models.gen.temperature=0.2"]),
        )
    )
    assert changed.recipe_hash != first.recipe_hash
    assert changed.data["models"]["gen"][0]["params"]["temperature"] == 0.2


def test_plan_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "examples/quickstart.yaml"]) == 0
    text = capsys.readouterr().out
    assert "ask" in text and "judge" in text and "LLM calls" in text
    assert main(["plan", "examples/quickstart.yaml", "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("digraph recipe {") and '"ask" -> "answer";' in dot
    assert main(["plan", "examples/quickstart.yaml", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["plan_version"] == 1
    assert data["totals"]["llm_calls_max"] == 18


def _write(tmp_path: Path, models: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(
        f"""
synthdsl: 1
models:
{models}
sources:
  s: {{records: [{{q: a}}, {{q: b}}, {{q: c}}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen, n: 2}}
  - id: j
    judge: {{template: "{{{{ response }}}}", model: judge}}
""",
        encoding="utf-8",
    )
    return path


def test_cost_estimate_from_the_offline_price_table(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "  gen: {model: openai/gpt-4o-mini, max_tokens: 100}\n"
        "  judge: {model: openai/gpt-4o-mini, max_tokens: 50}",
    )
    plan = build_plan(compile_recipe(path))
    nodes = {n["id"]: n for n in plan.data["nodes"]}
    assert nodes["g"]["estimate"]["calls"] == 6
    assert nodes["j"]["estimate"]["calls"] == 6
    assert nodes["g"]["estimate"]["cost_usd"] > 0
    assert plan.data["totals"]["cost_usd_max"] > 0
    unknown = _write(tmp_path, "  gen: {model: openai/no-such-model}\n  judge: {model: openai/x}")
    assert build_plan(compile_recipe(unknown)).data["totals"]["cost_usd_max"] is None


def test_model_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(
        tmp_path,
        "  gen: {model: openai/a, api_base: 'http://127.0.0.1:9/v1', api_key_env: A_KEY}\n"
        "  judge: {model: openai/b}",
    )
    every = compile_recipe(
        path, CompileOptions(model="openai/mine", api_base="http://127.0.0.1:8000/v1")
    )
    for decl in every.models.values():
        assert [e.model for e in decl.entries] == ["openai/mine"]
        assert decl.entries[0].api_base == "http://127.0.0.1:8000/v1"
    one = compile_recipe(path, CompileOptions(model_aliases={"judge": "openai/big"}))
    assert one.models["judge"].entries[0].model == "openai/big"
    assert one.models["gen"].entries[0].model == "openai/a"
    assert one.models["gen"].entries[0].api_key_env == "A_KEY"
    assert main(["plan", str(path), "--model", "judg=openai/x"]) == 2
    err = capsys.readouterr().err
    assert "no model alias 'judg'" in err and "did you mean 'judge'?" in err


def test_default_model_follows_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "synthdsl: 1\nsources:\n  s: {records: [{q: a}]}\nsteps:\n"
        "  - id: g\n    generate: {template: '{{ q }}'}\n",
        encoding="utf-8",
    )
    assert compile_recipe(path).models["default"].entries[0].model == "local/smollm2"
    monkeypatch.setenv("SYNTHDSL_MODEL", "openai/env-model")
    assert compile_recipe(path).models["default"].entries[0].model == "openai/env-model"


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert main(["validate", "no/such/recipe.yaml"]) == 2
    assert "recipe file not found" in capsys.readouterr().err
    assert main(["plan", "examples/quickstart.yaml", "--set", "nonsense"]) == 2


def test_validate_and_plan_do_not_import_litellm() -> None:
    code = (
        "import sys\n"
        "from synthdsl.cli import main\n"
        "assert main(['plan', 'examples/quickstart.yaml']) == 0\n"
        "assert main(['validate', 'examples/quickstart.yaml']) == 0\n"
        "heavy = [m for m in ('litellm', 'xllamacpp', 'aiohttp', 'pyarrow', 'numpy', 'datasketch')\n"
        "         if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY []" in out


def test_simulate_collapse_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "collapse.svg"
    args = [
        "simulate",
        "collapse",
        "--samples",
        "20",
        "--generations",
        "30",
        "--trials",
        "300",
        "--mixture-trials",
        "10",
        "--plot",
        str(plot),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Gaussian refit" in out and "accumulate" in out
    assert plot.read_text().startswith("<svg") or "<svg" in plot.read_text()[:500]
