"""The example plugin package (tests/plugin_pkg), installed with pip, used end to end.

A step kind (``redact_emails``), two typed filter functions (``email_count``,
``email_domain``) and a stats metric (``email_share``), through the real CLI in a
subprocess against the loopback OpenAI-compatible server: validate, plan, run, stats,
schema, ``synthdsl plugins``, and the errors a user meets.
"""

from __future__ import annotations

import json
from pathlib import Path

from synthdsl.testing.fake_openai import FakeOpenAIServer

from .support import Cli

RECIPE = """\
synthdsl: 1
name: plugin_demo
models:
  default: {model: openai/fake}
sources:
  mails:
    records:
      - {text: "write to ann@example.com about the invoice"}
      - {text: "bob@corp.io and eve@corp.io asked twice"}
      - {text: "carl@other.org asked once"}
      - {text: "no address here at all"}
steps:
  - id: clean
    from: mails
    redact_emails: {field: text, placeholder: "[email]"}
    when: 'email_domain(text) == "example.com"'
  - id: few
    filter: "email_count(text) < 2"
  - id: reply
    generate: {prompt: reply.j2, into: response}
output: {from: reply, shape: records}
"""


def _project(tmp_path: Path, recipe: str = RECIPE) -> Path:
    (tmp_path / "reply.j2").write_text("Write a short reply to: {{ text }}\n", encoding="utf-8")
    (tmp_path / "recipe.yaml").write_text(recipe, encoding="utf-8")
    return tmp_path


def test_a_recipe_using_the_plugin_validates_and_plans(cli: Cli, tmp_path: Path) -> None:
    root = _project(tmp_path)
    done = cli("validate", "recipe.yaml", cwd=root)
    assert (done.code, done.out.strip()) == (0, "recipe.yaml: ok (4 nodes, 1 LLM step)")
    text = cli("plan", "recipe.yaml", cwd=root)
    assert text.code == 0
    assert "clean  redact_emails 4 records <- mails" in text.out
    assert "step kind redact_emails from synthdsl-example-plugin 0.1.0" in text.out
    assert "function email_count from synthdsl-example-plugin 0.1.0" in text.out
    plan = json.loads(cli("plan", "recipe.yaml", "--format", "json", cwd=root).out)
    assert plan["plugins"] == [
        {
            "group": "synthdsl.functions",
            "name": name,
            "package": "synthdsl-example-plugin",
            "version": "0.1.0",
        }
        for name in ("email_count", "email_domain")
    ] + [
        {
            "group": "synthdsl.nodes",
            "name": "redact_emails",
            "package": "synthdsl-example-plugin",
            "version": "0.1.0",
        }
    ]
    clean = next(n for n in plan["nodes"] if n["id"] == "clean")
    assert clean["config"] == {"field": "text", "placeholder": "[email]"}


def test_the_kind_and_the_functions_run(cli: Cli, tmp_path: Path, server: FakeOpenAIServer) -> None:
    root = _project(tmp_path)
    done = cli(
        "run", "recipe.yaml", "--quiet", "--out", "out", "--api-base", server.base_url, cwd=root
    )
    assert done.code == 0, done.err
    rows = [json.loads(line) for line in (root / "out/dataset.jsonl").read_text().splitlines()]
    # redacted only where email_domain(text) is example.com; two addresses: filtered out
    assert [r["text"] for r in rows] == [
        "write to [email] about the invoice",
        "carl@other.org asked once",
        "no address here at all",
    ]
    assert all(r["response"] for r in rows)
    rejects = [json.loads(x) for x in (root / "out/rejects.jsonl").read_text().splitlines()]
    assert [(r["node"], r["reason"]) for r in rejects] == [
        ("few", "filter: not (email_count(text) < 2)")
    ]
    manifest = json.loads((root / "out/manifest.json").read_text())
    assert manifest["status"] == "completed" and manifest["accounting_balanced"]
    assert manifest["nodes"]["clean"]["in"] == 4
    assert {(p["name"], p["version"]) for p in manifest["plugins"]} == {
        ("email_count", "0.1.0"),
        ("email_domain", "0.1.0"),
        ("redact_emails", "0.1.0"),
    }
    report = (root / "out/report.html").read_text("utf-8")
    assert (
        "<dt>plugins</dt><dd>synthdsl-example-plugin 0.1.0: email_count, email_domain, "
        "redact_emails</dd>"
    ) in report


def test_the_kind_is_a_switch_case(cli: Cli, tmp_path: Path, server: FakeOpenAIServer) -> None:
    recipe = RECIPE.replace(
        """  - id: clean
    from: mails
    redact_emails: {field: text, placeholder: "[email]"}
    when: 'email_domain(text) == "example.com"'
""",
        """  - id: clean
    from: mails
    switch:
      - id: ours
        when: 'email_domain(text) == "example.com"'
        redact_emails: {field: text, placeholder: "[ours]"}
      - id: theirs
        redact_emails: {field: text}
""",
    )
    root = _project(tmp_path, recipe)
    done = cli(
        "run", "recipe.yaml", "--quiet", "--out", "out", "--api-base", server.base_url, cwd=root
    )
    assert done.code == 0, done.err
    rows = [json.loads(line) for line in (root / "out/dataset.jsonl").read_text().splitlines()]
    # every address is redacted now, so no record has two left for the filter to drop
    assert [r["text"] for r in rows] == [
        "write to [ours] about the invoice",
        "[email] and [email] asked twice",
        "[email] asked once",
        "no address here at all",
    ]


def test_stats_computes_the_plugin_metric(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    texts = ["mail ann@example.com today", "nothing here", "also nothing", "bob@x.org"]
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    done = cli("stats", "data.jsonl", cwd=tmp_path)
    assert done.code == 0, done.err
    assert "email_share      0.500" in done.out
    assert "email_share: share of texts with an e-mail address (synthdsl-example-plugin 0.1.0)" in (
        done.out
    )
    payload = json.loads(cli("stats", "data.jsonl", "--format", "json", cwd=tmp_path).out)
    assert payload["plugin_metrics"]["email_share"]["dataset"] == 0.5
    assert payload["plugin_metrics"]["email_share"]["version"] == "0.1.0"


def test_a_bad_config_is_an_error_at_its_position(cli: Cli, tmp_path: Path) -> None:
    root = _project(tmp_path, RECIPE.replace('placeholder: "[email]"', "placeholdr: 3"))
    done = cli("validate", "recipe.yaml", cwd=root)
    assert done.code == 2
    assert done.err.startswith(
        "recipe.yaml:15:34: error: unknown key 'placeholdr' in redact_emails in step 'clean'"
    )
    assert "hint: did you mean 'placeholder'?" in done.err
    root2 = tmp_path / "two"
    root2.mkdir()
    _project(root2, RECIPE.replace("{field: text, ", "{field: 7, "))
    done = cli("validate", "recipe.yaml", cwd=root2)
    assert done.code == 2
    assert "recipe.yaml:15:28: error: redact_emails.field in step 'clean' must be a string" in (
        done.err
    )


def test_function_arguments_are_type_checked_when_compiling(cli: Cli, tmp_path: Path) -> None:
    root = _project(tmp_path, RECIPE.replace("email_count(text) < 2", "email_count(3) < 2"))
    done = cli("validate", "recipe.yaml", cwd=root)
    assert done.code == 2
    assert done.err.startswith(
        "recipe.yaml:18:26: error: argument 1 of 'email_count' must be a string, got int"
    )
    assert "hint: usage: email_count(text) -> int" in done.err
    root2 = tmp_path / "two"
    root2.mkdir()
    _project(root2, RECIPE.replace("email_count(text) < 2", "email_count(text, 1) < 2"))
    done = cli("validate", "recipe.yaml", cwd=root2)
    assert done.code == 2
    assert "error: function 'email_count' takes 1 argument, got 2" in done.err


def test_an_unknown_kind_or_function_names_the_installed_ones(cli: Cli, tmp_path: Path) -> None:
    root = _project(tmp_path, RECIPE.replace("redact_emails:", "redact_email:"))
    done = cli("validate", "recipe.yaml", cwd=root)
    assert done.code == 2
    assert "recipe.yaml:15:5: error: unknown key 'redact_email' in step 'clean'" in done.err
    assert "hint: did you mean 'redact_emails'?" in done.err
    root2 = tmp_path / "two"
    root2.mkdir()
    _project(root2, RECIPE.replace("redact_emails:", "scrub:"))
    done = cli("validate", "recipe.yaml", cwd=root2)
    assert "hint: step kinds from installed plugins: redact_emails" in done.err
    root3 = tmp_path / "three"
    root3.mkdir()
    _project(root3, RECIPE.replace("email_count(text)", "email_cnt(text)"))
    done = cli("validate", "recipe.yaml", cwd=root3)
    assert "error: unknown function 'email_cnt'" in done.err
    assert "hint: did you mean 'email_count'?" in done.err


def test_with_plugins_turned_off_the_kind_is_unknown(cli: Cli, tmp_path: Path) -> None:
    root = _project(tmp_path)
    done = cli("validate", "recipe.yaml", cwd=root, env={"SYNTHDSL_NO_PLUGINS": "1"})
    assert done.code == 2
    assert done.err.startswith(
        "recipe.yaml:15:5: error: unknown key 'redact_emails' in step 'clean'"
    )
    assert "plugins are turned off (SYNTHDSL_NO_PLUGINS=1)" in done.err
    listed = cli("plugins", cwd=root, env={"SYNTHDSL_NO_PLUGINS": "1"})
    assert (listed.code, listed.out) == (0, "plugins are turned off (SYNTHDSL_NO_PLUGINS=1)\n")


def test_schema_and_plugins_commands_show_the_plugin(cli: Cli, tmp_path: Path) -> None:
    done = cli("schema", cwd=tmp_path)
    assert done.code == 0
    schema = json.loads(done.out)
    assert schema["$defs"]["step"]["properties"]["redact_emails"] == {
        "$ref": "#/$defs/plugin-redact_emails"
    }
    assert "redact_emails" in schema["$defs"]["case"]["properties"]  # record at a time
    assert schema["$defs"]["plugin-redact_emails"]["required"] == ["field"]
    listed = cli("plugins", cwd=tmp_path)
    assert listed.code == 0, listed.err
    assert (
        "synthdsl.nodes:\n"
        "  redact_emails  synthdsl-example-plugin 0.1.0  synthdsl_example_plugin.redact:KIND\n"
        "    step kind redact_emails (when: and switch cases)\n"
    ) in listed.out
    assert "function email_count(text) -> int; function email_domain(text) -> string" in (
        listed.out
    )
    assert "metric email_share: share of texts with an e-mail address" in listed.out


def test_a_wrong_type_at_run_time_fails_that_record_only(cli: Cli, tmp_path: Path) -> None:
    recipe = """\
synthdsl: 1
name: typed
sources:
  rows:
    records: [{v: "x@y.org"}, {v: 3}, {v: "none"}]
steps:
  - id: no_mail
    from: rows
    filter: "email_count(v) == 0"
output: {from: no_mail, shape: records}
"""
    (tmp_path / "recipe.yaml").write_text(recipe, encoding="utf-8")
    done = cli("run", "recipe.yaml", "--quiet", "--out", "out", cwd=tmp_path)
    assert done.code == 0, done.err
    rows = [json.loads(x) for x in (tmp_path / "out/dataset.jsonl").read_text().splitlines()]
    assert [r["v"] for r in rows] == ["none"]
    rejects = [json.loads(x) for x in (tmp_path / "out/rejects.jsonl").read_text().splitlines()]
    assert [(r["status"], r["record"]["v"]) for r in rejects] == [
        ("dropped", "x@y.org"),
        ("failed", 3),
    ]
    assert "email_count() expects a string as argument 1, got int" in rejects[1]["error"]
    manifest = json.loads((tmp_path / "out/manifest.json").read_text())
    assert manifest["accounting_balanced"] is True


PACK_RECIPE = """\
synthdsl: 1
name: scrubbed
sources:
  mails:
    records:
      - {body: "write to ann@example.com about the invoice"}
      - {body: "bob@corp.io and eve@corp.io asked twice"}
      - {body: "no address here at all"}
steps:
  - id: clean
    from: mails
    use: email_tools/scrub@^0.1
    with: {field: body, max_emails: 1}
"""


def test_the_packages_pack_is_used_with_its_kind_and_function(cli: Cli, tmp_path: Path) -> None:
    root = _project(tmp_path, PACK_RECIPE)
    listed = cli("pack", "list", cwd=root)
    assert listed.code == 0, listed.err
    assert "email_tools" in listed.out and "0.1.0" in listed.out
    shown = cli("pack", "show", "email_tools", cwd=root)
    assert shown.code == 0 and "scrub" in shown.out and "max_emails" in shown.out
    plan = cli("plan", "recipe.yaml", cwd=root)
    assert plan.code == 0, plan.err
    assert "pack:email_tools@0.1.0/recipes/scrub.yaml" in plan.out
    done = cli("run", "recipe.yaml", "--quiet", "--out", "out", cwd=root)
    assert done.code == 0, done.err
    rows = [json.loads(line) for line in (root / "out/dataset.jsonl").read_text().splitlines()]
    assert [r["body"] for r in rows] == [
        "write to [email] about the invoice",
        "no address here at all",
    ]
    rejects = [json.loads(x) for x in (root / "out/rejects.jsonl").read_text().splitlines()]
    assert [(r["node"], r["reason"]) for r in rejects] == [
        ("clean.few", "too many e-mail addresses")
    ]
